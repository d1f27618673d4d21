#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
// berth-runtime in Node.js: what the native front (native/front.c) hands every command to
// that it does not answer itself. No TLS call is made: the -u above (and the front, which
// starts this with node directly) spares it the CA bundle load at every start.
// It runs from one bundled module (npm run build): resolving ~40 files costs ~25 ms a start.
import { main } from '../dist/bundle/berth-runtime.mjs';

process.exitCode = await main(process.argv.slice(2));
