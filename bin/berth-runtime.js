#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
// berth-runtime makes no TLS call: the -u above spares it the CA bundle load at every start.
// It runs from one bundled module (npm run build): resolving ~40 files costs ~25 ms a start.
import { main } from '../dist/bundle/berth-runtime.mjs';

process.exitCode = await main(process.argv.slice(2));
