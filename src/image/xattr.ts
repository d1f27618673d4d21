// Extended attributes and device nodes for layer unpack and commit, through the in-process
// native binding (src/native/binding.ts). Every function here never follows a symlink at the
// last component.

import { chmodSync } from 'node:fs';
import * as native from '../native/binding.js';

/** Sets xattr `name` to `value` on `path` (not following a symlink). */
export async function setXattr(path: string, name: string, value: Uint8Array | string): Promise<void> {
  native.lsetxattr(path, name, value);
}

/** Every xattr of `path` (not following a symlink), values as bytes; none where the file system has no xattrs. */
export async function getXattrs(path: string): Promise<Map<string, Buffer>> {
  const m = new Map<string, Buffer>();
  let names: string[];
  try {
    names = native.llistxattr(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTSUP') return m;
    throw e;
  }
  for (const name of names) {
    try {
      m.set(name, native.lgetxattr(path, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENODATA') throw e; // removed since listed
    }
  }
  return m;
}

/**
 * Makes a device node or FIFO with exactly `mode` (as `mknod -m`: the umask does not apply).
 * Synchronous from start to end, so a `/proc/self/fd/N/name` path stays valid throughout.
 */
export function mknodSync(path: string, type: 'c' | 'b' | 'p', mode: number, major = 0, minor = 0): void {
  const ifmt = type === 'c' ? native.S_IFCHR : type === 'b' ? native.S_IFBLK : native.S_IFIFO;
  native.mknod(path, ifmt | (mode & 0o7777), type === 'p' ? 0 : major, type === 'p' ? 0 : minor);
  // mknod(2) drops the bits the umask masks, and the setuid/setgid/sticky bits on some file systems
  if (mode & 0o7777) chmodSync(path, mode & 0o7777);
}

/** `mknodSync` for async callers. */
export async function mknod(path: string, type: 'c' | 'b' | 'p', mode: number, major = 0, minor = 0): Promise<void> {
  mknodSync(path, type, mode, major, minor);
}
