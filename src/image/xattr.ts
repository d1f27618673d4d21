// Extended attributes and device nodes for layer unpack and commit.
//
// TODO(native): TEMPORARY STOPGAP. Node has no setxattr/getxattr/mknod; the native binding
// (owned by `native/`, see DESIGN.md "Native code") will replace these with in-process
// syscalls. Until then they spawn `setfattr`/`getfattr` (Debian package `attr`) and `mknod`
// (coreutils), one process per call: correct, but slow for layers with many xattrs or devices.
// Every function here never follows a symlink at the last component.

import { spawn } from 'node:child_process';
import { systemError } from '../errors.js';

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', (e) => reject(systemError(`${cmd}: ${e.message} (install Debian package ${cmd === 'mknod' ? 'coreutils' : 'attr'})`, e)));
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(systemError(`${cmd} ${args.join(' ')}: ${err.trim() || `exit ${code}`}`));
    });
  });
}

/** Sets xattr `name` to `value` on `path` (not following a symlink). TODO(native): stopgap via setfattr. */
export async function setXattr(path: string, name: string, value: Uint8Array | string): Promise<void> {
  const hex = Buffer.from(value).toString('hex');
  await run('setfattr', ['-h', '-n', name, '-v', `0x${hex}`, '--', path]);
}

/** Every xattr of `path` (not following a symlink), values as bytes. TODO(native): stopgap via getfattr. */
export async function getXattrs(path: string): Promise<Map<string, Buffer>> {
  const out = await run('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', '--', path]).catch((e) => {
    if (/Operation not supported/.test(String(e.message))) return '';
    throw e;
  });
  const m = new Map<string, Buffer>();
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (line.startsWith('#') || i < 0) continue;
    const name = line.slice(0, i);
    const v = line.slice(i + 1);
    m.set(name, v.startsWith('0x') ? Buffer.from(v.slice(2), 'hex') : Buffer.from(v.replace(/^"|"$/g, '')));
  }
  return m;
}

/** Makes a device node or FIFO. TODO(native): stopgap via coreutils mknod. */
export async function mknod(path: string, type: 'c' | 'b' | 'p', mode: number, major = 0, minor = 0): Promise<void> {
  const args = ['-m', (mode & 0o7777).toString(8), '--', path, type];
  if (type !== 'p') args.push(String(major), String(minor));
  await run('mknod', args);
}
