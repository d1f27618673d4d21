#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS BERTH_SAVED_CA=${NODE_EXTRA_CA_CERTS} node
// berth makes no TLS call (it speaks to berthd on a local socket): the -u above spares it the CA
// bundle load at every start; the value is kept aside for a berthd that berth starts, which
// does. It runs from one bundled CommonJS module (npm run build): node starts a CommonJS entry
// without its ES module loader, ~6 ms sooner. bin/berth.js links here (node follows the link).
require('../dist/bundle/berth.cjs').main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
