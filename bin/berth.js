#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
// berth makes no TLS call (it speaks to berthd on a local socket): the -u above spares it the CA
// bundle load at every start. It runs from one bundled module (npm run build).
import { main } from '../dist/bundle/berth.mjs';

process.exitCode = await main(process.argv.slice(2));
