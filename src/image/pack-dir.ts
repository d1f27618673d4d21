// A directory → tar entries: the walker that `commit` (an overlayfs upper dir, with
// whiteouts) and `export` (a whole root file system) share. Reads only; never follows a symlink.

import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { TarHeaderInput, TarWriter } from '../tar/index.js';
import { WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './layer-check.js';
import { overlayXattrs } from './mount.js';
import { opaqueXattr } from './unpack.js';
import { getXattrs } from './xattr.js';
import type { IdShift } from '../common/id-map.js';

export interface PackDirOptions {
  /** Read `dir` as an overlayfs upper dir: 0/0 char devices become `.wh.` whiteouts, opaque dirs get `.wh..wh..opq`. */
  overlay?: boolean;
  /** Paths (relative to `dir`, `etc/hosts`) to leave out, with everything under them. */
  skip?: (rel: string) => boolean;
  /** The owners written for the files' own (a remapped container's host ids back to its own). */
  ids?: IdShift;
}

/**
 * Writes every entry under `dir` (not `dir` itself) into `pack`, sorted, directories before
 * their children: files, directories, symlinks, hard links (within `dir`), devices, FIFOs, with
 * ownership, modes, mtimes and xattrs (overlayfs' own, `trusted.overlay.*`, left out). Sockets are skipped.
 * Does not end `pack`.
 */
export async function packDirectory(pack: TarWriter, upper: string, opts: PackDirOptions = {}): Promise<void> {
  const links = new Map<string, string>();
  const add = (header: TarHeaderInput, body?: Buffer | AsyncIterable<Uint8Array>) => pack.add(header, body);
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(upper, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (opts.skip?.(r)) continue;
      const p = join(upper, r);
      const st = await lstat(p);
      const owner = opts.ids ? opts.ids({ uid: st.uid, gid: st.gid }) : { uid: st.uid, gid: st.gid };
      const base = { ...owner, mode: st.mode & 0o7777, mtime: st.mtime };
      const x = await getXattrs(p);
      const xattrs = new Map<string, Buffer>();
      let opaque = false;
      for (const [k, v] of x) {
        if (k === opaqueXattr()) {
          opaque = v.toString() === 'y';
          continue;
        }
        if (k.startsWith(overlayXattrs())) continue;
        xattrs.set(k, v);
      }
      const withPax = xattrs.size ? { xattrs } : {};
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
        await add({ name: r, type: 'file', size: st.size, ...base, ...withPax }, createReadStream(p));
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        await add({
          name: r,
          type: st.isCharacterDevice() ? 'character-device' : 'block-device',
          devmajor: Math.floor(st.rdev / 256) & 0xfff,
          devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
          ...base,
          ...withPax,
        });
      } else if (st.isFIFO()) {
        await add({ name: r, type: 'fifo', ...base, ...withPax });
      }
      // sockets are not carried in layers (as Docker)
    }
  };
  await walk('');
}
