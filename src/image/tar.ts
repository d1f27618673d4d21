// Writing tars with tar-stream: a whole archive in memory from a list of entries (for small
// layers, configs, tests). Streaming writers (commit) use tar-stream's pack directly.

import * as tar from 'tar-stream';

export interface TarEntry {
  header: Partial<tar.Header> & { name: string; pax?: Record<string, string> };
  body?: Uint8Array | string;
}

/** Packs entries into one tar archive in memory. */
export async function packTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => { for await (const c of pack) chunks.push(c as Buffer); })();
  for (const { header, body } of entries) {
    const isFile = !header.type || header.type === 'file' || header.type === 'contiguous-file';
    const data = body === undefined ? (isFile ? Buffer.alloc(0) : undefined) : Buffer.from(body);
    await new Promise<void>((resolve, reject) => {
      const h = { ...header };
      if (data && h.size === undefined) h.size = data.length;
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (data) pack.entry(h, data, cb); else pack.entry(h, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
