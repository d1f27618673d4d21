#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS BERTH_SAVED_CA=${NODE_EXTRA_CA_CERTS} node --
// berth makes no TLS call (it speaks to berthd on a local socket): the -u above spares it the CA
// bundle load at every start; the value is kept aside for a berthd that berth starts, which
// does. The `--` ends node's own options: node 20 otherwise takes an `--env-file` anywhere in
// the command line as its own (`berth run --env-file F` is berth's). It runs one bundled CommonJS module (npm run build): node starts a CommonJS entry
// without its ES module loader. bin/berth.js links here (node follows the link).
//
// The bundle is compiled with a V8 code cache kept beside it (berth.cjs.cache, written by the
// first run of each command after a build, atomically, where the folder is writable): the
// functions a command runs come compiled, ~10 ms less CPU a start. The cache's header names the
// bundle file it was made from (inode, size, times) and the node; any other cache is ignored, as
// is one V8 refuses. It lives beside the code, owned as the code is, never in a shared temp
// folder. A vm script has no loader for import(): the bundle loads what it leaves out with require.
'use strict';
const { readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { wrap } = require('node:module');
const { Script } = require('node:vm');

const file = join(__dirname, '../dist/bundle/berth.cjs');
const cacheFile = `${file}.cache`;
const st = statSync(file);
// A rebuilt or reinstalled bundle is a new file (inode, change time): its cache starts anew.
const key = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${process.version}:${process.arch}`;
const command = process.argv.slice(2).find((a, i, all) => !a.startsWith('-') && all[i - 1] !== '-H' && all[i - 1] !== '--host') ?? '';

let header = { key: '', commands: [] }, cachedData;
try {
  const buf = readFileSync(cacheFile);
  const nl = buf.indexOf(10);
  const h = JSON.parse(buf.subarray(0, nl).toString());
  if (h.key === key) { header = h; cachedData = buf.subarray(nl + 1); }
} catch { /* no cache yet */ }

const script = new Script(wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
const mod = { exports: {} };
script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, dirname(file));

mod.exports.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  if (cachedData && !script.cachedDataRejected && header.commands.includes(command)) return;
  try {
    const commands = [...new Set([...(script.cachedDataRejected ? [] : header.commands), command])];
    const tmp = `${cacheFile}.${process.pid}`;
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify({ key, commands })}\n`), script.createCachedData()]), { mode: 0o644 });
    renameSync(tmp, cacheFile);
  } catch { /* a folder berth may not write to: no cache */ }
});
