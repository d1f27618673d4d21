// Writing tars with tar-stream: a whole archive in memory from a list of entries (for small
// layers, configs, tests). Streaming writers (commit) use tar-stream's pack directly.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tar from 'tar-stream';

patchPax();

/**
 * tar-stream reads and writes pax values as UTF-8 strings, which garbles binary xattr values
 * such as `security.capability`. This replaces its pax coder with one that keeps
 * `SCHILY.xattr.*` values as latin1 (one char per byte): readers get `Buffer.from(v, 'latin1')`
 * back, writers pass `buf.toString('latin1')`. Other values stay UTF-8.
 */
function patchPax(): void {
  const require = createRequire(import.meta.url);
  const headersPath = join(dirname(require.resolve('tar-stream')), 'headers.js');
  const headers = require(headersPath) as {
    decodePax: (buf: Buffer) => Record<string, string>;
    encodePax: (opts: { name?: string; linkname?: string; pax?: Record<string, string> }) => Buffer;
    __berth?: boolean;
  };
  if (headers.__berth) return;
  const isBinary = (key: string) => key.startsWith('SCHILY.xattr.');
  headers.decodePax = (buf: Buffer) => {
    const result: Record<string, string> = {};
    while (buf.length) {
      let i = 0;
      while (i < buf.length && buf[i] !== 32) i++;
      const len = parseInt(buf.subarray(0, i).toString('latin1'), 10);
      if (!len || len > buf.length) return result;
      const rec = buf.subarray(i + 1, len - 1);
      const eq = rec.indexOf(0x3d);
      if (eq === -1) return result;
      const key = rec.subarray(0, eq).toString('utf8');
      const raw = rec.subarray(eq + 1);
      result[key] = isBinary(key) ? raw.toString('latin1') : raw.toString('utf8');
      buf = buf.subarray(len);
    }
    return result;
  };
  const record = (key: string, value: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
    let digits = String(body.length).length;
    if (body.length + digits >= 10 ** digits) digits++;
    return Buffer.concat([Buffer.from(String(body.length + digits)), body]);
  };
  headers.encodePax = (opts) => {
    const parts: Buffer[] = [];
    if (opts.name) parts.push(record('path', Buffer.from(opts.name)));
    if (opts.linkname) parts.push(record('linkpath', Buffer.from(opts.linkname)));
    for (const [k, v] of Object.entries(opts.pax ?? {})) parts.push(record(k, Buffer.from(v, isBinary(k) ? 'latin1' : 'utf8')));
    return Buffer.concat(parts);
  };
  headers.__berth = true;
}

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
