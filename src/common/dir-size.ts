// Bytes under a directory as dockerd counts them (moby's pkg/directory.Size, what its overlay2
// driver reports for a layer, a container's writable layer and a local volume): the lstat size
// of everything but directories (a symlink counts the length of its target), each inode once.
// Asynchronous, one entry at a time, so a large tree never holds berthd's event loop.

import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errno } from './errno.js';

/** dockerd's size of the tree at `dir`; 0 when it does not exist. Entries removed meanwhile are skipped. */
export async function dirSize(dir: string): Promise<number> {
  return (await dirUsage(dir)).bytes;
}

/**
 * dirSize's bytes, and the inodes under `dir` (directories too, each once, `dir` not counted):
 * what a CRI runtime reports for a writable layer (kubelet's ephemeral-storage accounting).
 */
export async function dirUsage(dir: string): Promise<{ bytes: number; inodes: number }> {
  const seen = new Set<number>();
  let bytes = 0;
  const walk = async (p: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(p);
    } catch (e) {
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return;
      throw e;
    }
    for (const name of names) {
      const q = join(p, name);
      let st;
      try {
        st = await lstat(q);
      } catch (e) {
        if (errno(e) === 'ENOENT') continue;
        throw e;
      }
      const first = !seen.has(st.ino);
      seen.add(st.ino);
      if (st.isDirectory()) await walk(q);
      else if (first) bytes += st.size;
    }
  };
  await walk(dir);
  return { bytes, inodes: seen.size };
}
