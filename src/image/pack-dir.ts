// A directory → tar entries: the walker that `commit` (an overlayfs upper dir, with
// whiteouts) and `export` (a whole root file system) share. Reads only; never follows a symlink.

import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import './tar.js'; // binary-safe pax xattr values
import { OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './unpack.js';
import { getXattrs } from './xattr.js';

export interface PackDirOptions {
  /** Read `dir` as an overlayfs upper dir: 0/0 char devices become `.wh.` whiteouts, opaque dirs get `.wh..wh..opq`. */
  overlay?: boolean;
  /** Paths (relative to `dir`, `etc/hosts`) to leave out, with everything under them. */
  skip?: (rel: string) => boolean;
}

/**
 * Writes every entry under `dir` (not `dir` itself) into `pack`, sorted, directories before
 * their children: files, directories, symlinks, hard links (within `dir`), devices, FIFOs, with
 * ownership, modes, mtimes and xattrs (`trusted.overlay.*` left out). Sockets are skipped.
 * Does not finalize `pack`.
 */
export async function packDirectory(pack: tar.Pack, upper: string, opts: PackDirOptions = {}): Promise<void> {
  const links = new Map<string, string>();
  const add = (header: tar.Header | (Partial<tar.Header> & { name: string }), body?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) pack.entry(header, body, cb); else pack.entry(header, cb);
    });
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(upper, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (opts.skip?.(r)) continue;
      const p = join(upper, r);
      const st = await lstat(p);
      const base = { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, mtime: st.mtime };
      const x = await getXattrs(p);
      const pax: Record<string, string> = {};
      let opaque = false;
      for (const [k, v] of x) {
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
