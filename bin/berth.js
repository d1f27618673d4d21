#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS BERTH_SAVED_CA=${NODE_EXTRA_CA_CERTS} node
// berth makes no TLS call (it speaks to berthd on a local socket): the -u above spares it the CA
// bundle load at every start; the value is kept aside for a berthd that berth starts, which
// does. It runs from one bundled module (npm run build).
import { main } from '../dist/bundle/berth.mjs';

process.exitCode = await main(process.argv.slice(2));
