#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
// berth-runtime makes no TLS call: the -u above spares it the CA bundle load at every start.
import { main } from '../dist/src/runtime/cli.js';

process.exitCode = await main(process.argv.slice(2));
