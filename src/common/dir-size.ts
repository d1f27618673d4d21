// Bytes under a directory as dockerd counts them (moby's pkg/directory.Size, what its overlay2
// driver reports for a layer, a container's writable layer and a local volume): the lstat size
// of everything but directories (a symlink counts the length of its target), each inode once.
// Asynchronous, one entry at a time, so a large tree never holds berthd's event loop.

import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errno } from './errno.js';

/** dockerd's size of the tree at `dir`; 0 when it does not exist. Entries removed meanwhile are skipped. */
export async function dirSize(dir: string): Promise<number> {
  const seen = new Set<number>();
  let n = 0;
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
      if (st.isDirectory()) await walk(q);
      else if (st.size > 0 && !seen.has(st.ino)) {
        seen.add(st.ino);
        n += st.size;
      }
    }
  };
  await walk(dir);
  return n;
}
