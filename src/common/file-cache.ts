// Small files that berthd reads again and again (an image's manifest and config, the image
// index: several reads on every container create): their bytes kept, and each read checked
// against one stat of the path, so a read costs one trip to the thread pool instead of the
// open, fstat, read and close of a readFile. A file replaced (renamed over), rewritten, removed
// or changed in any way misses: the check compares device, inode, size, mtime and ctime in ns.
// Bounded: files up to `maxBytes` only, the least recently read dropped past `maxEntries`.

import { open, stat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';

const keyOf = (st: BigIntStats) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;

export class SmallFileCache {
  private readonly files = new Map<string, { key: string; data: Buffer }>();

  constructor(
    private readonly maxEntries = 32,
    private readonly maxBytes = 64 << 10,
  ) {}

  /** The file's bytes (a copy the caller may change); errors as fs/promises readFile's. */
  async read(path: string): Promise<Buffer> {
    const hit = this.files.get(path);
    if (hit) {
      let st: BigIntStats | undefined;
      try {
        st = await stat(path, { bigint: true });
      } catch (e) {
        this.files.delete(path);
        throw e;
      }
      if (keyOf(st) === hit.key) {
        this.files.delete(path); // (re-inserted: the most recently read is last)
        this.files.set(path, hit);
        return Buffer.from(hit.data);
      }
      this.files.delete(path);
    }
    const fh = await open(path, 'r');
    try {
      // The key is the open file's, so a file replaced between the stat and the read is not kept under the new one's.
      const st = await fh.stat({ bigint: true });
      const data = await fh.readFile();
      if (data.length <= this.maxBytes && BigInt(data.length) === st.size) {
        this.files.set(path, { key: keyOf(st), data: Buffer.from(data) });
        if (this.files.size > this.maxEntries) this.files.delete(this.files.keys().next().value!);
      }
      return data;
    } finally {
      await fh.close();
    }
  }
}
