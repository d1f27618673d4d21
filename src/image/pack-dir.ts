// A directory → tar entries: the walker that `commit` (an overlayfs upper dir, with
// whiteouts) and `export` (a whole root file system) share. Reads only; never follows a symlink.

import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { systemError } from '../errors.js';
import './tar.js'; // binary-safe pax xattr values
import { OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './unpack.js';

/** xattrs of every file under `dir` (one getfattr run; TODO(native): replace with llistxattr). */
async function allXattrs(dir: string): Promise<Map<string, Map<string, Buffer>>> {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('getfattr', ['-R', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let o = '';
    let err = '';
    child.stdout.on('data', (d) => { o += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', (e) => reject(systemError(`getfattr: ${e.message} (install Debian package attr)`, e)));
    child.on('close', (code) => (code === 0 || o ? resolve(o) : reject(systemError(`getfattr ${dir}: ${err.trim()}`))));
  });
  const res = new Map<string, Map<string, Buffer>>();
  let cur: Map<string, Buffer> | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) {
      const path = line.slice(8).replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
      cur = new Map();
      res.set(Buffer.from(path, 'latin1').toString('utf8'), cur);
      continue;
    }
    const i = line.indexOf('=');
    if (!cur || i < 0) continue;
    const v = line.slice(i + 1);
    cur.set(line.slice(0, i), v.startsWith('0x') ? Buffer.from(v.slice(2), 'hex') : Buffer.from(v.replace(/^"|"$/g, '')));
  }
  return res;
}

export interface PackDirOptions {
  /** Read `dir` as an overlayfs upper dir: 0/0 char devices become `.wh.` whiteouts, opaque dirs get `.wh..wh..opq`. */
  overlay?: boolean;
}

/**
 * Writes every entry under `dir` (not `dir` itself) into `pack`, sorted, directories before
 * their children: files, directories, symlinks, hard links (within `dir`), devices, FIFOs, with
 * ownership, modes, mtimes and xattrs (`trusted.overlay.*` left out). Sockets are skipped.
 * Does not finalize `pack`.
 */
export async function packDirectory(pack: tar.Pack, upper: string, opts: PackDirOptions = {}): Promise<void> {
  const xattrs = await allXattrs(upper);
  const links = new Map<string, string>();
  const add = (header: tar.Header | (Partial<tar.Header> & { name: string }), body?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) pack.entry(header, body, cb); else pack.entry(header, cb);
    });
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(upper, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(upper, r);
      const st = await lstat(p);
      const base = { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, mtime: st.mtime };
      const x = xattrs.get(p);
      const pax: Record<string, string> = {};
      let opaque = false;
      for (const [k, v] of x ?? []) {
        if (k === OPAQUE_XATTR) { opaque = v.toString() === 'y'; continue; }
        if (k.startsWith('trusted.overlay.')) continue;
        pax[`SCHILY.xattr.${k}`] = v.toString('latin1');
      }
      const withPax = Object.keys(pax).length ? { pax } : {};
      if (opts.overlay && st.isCharacterDevice() && st.rdev === 0) {
        await add({ name: (rel ? `${rel}/` : '') + WHITEOUT_PREFIX + name, mode: 0o644, mtime: st.mtime, size: 0 }, Buffer.alloc(0));
      } else if (st.isDirectory()) {
        await add({ name: `${r}/`, type: 'directory', ...base, ...withPax });
        if (opts.overlay && opaque) await add({ name: `${r}/${WHITEOUT_OPAQUE}`, mode: 0o644, mtime: st.mtime, size: 0 }, Buffer.alloc(0));
        await walk(r);
      } else if (st.isSymbolicLink()) {
        await add({ name: r, type: 'symlink', linkname: await readlink(p), ...base, ...withPax });
      } else if (st.isFile()) {
        const id = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(id) : undefined;
        if (first) {
          await add({ name: r, type: 'link', linkname: first, ...base });
          continue;
        }
        if (st.nlink > 1) links.set(id, r);
        const sink = pack.entry({ name: r, type: 'file', size: st.size, ...base, ...withPax });
        await pipeline(createReadStream(p), sink as unknown as NodeJS.WritableStream);
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        await add({ name: r, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: Math.floor(st.rdev / 256) & 0xfff, devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00), ...base, ...withPax });
      } else if (st.isFIFO()) {
        await add({ name: r, type: 'fifo', ...base, ...withPax });
      }
      // sockets are not carried in layers (as Docker)
    }
  };
  await walk('');
}
