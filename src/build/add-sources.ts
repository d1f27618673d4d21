// The sources of COPY and ADD that are not files of a root: a heredoc written inline
// (`COPY <<EOF /f`), a remote file of ADD (fetched by berthd, mode 0600 as Docker gives it,
// `--checksum` verified), and ADD's local archives (tar, plain or gzip, bzip2, xz or zstd
// compressed, found by their content as Docker does), unpacked through the image library's
// checked unpacker before they are copied. Each lands in a temp folder the caller removes.

import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, open, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { invalid, systemError } from '../errors.js';
import { decompress, detectCompression, unpackLayer } from '../image/index.js';
import type { Heredoc } from './dockerfile/index.js';
import type { Match } from './copy.js';

export async function heredocSource(tmp: string, h: Heredoc): Promise<Match> {
  const host = join(tmp, `heredoc-${h.name}`);
  await writeFile(host, h.content, { mode: 0o644 });
  return { host, rel: h.name, st: await lstat(host) };
}

/** Downloads `url` into `tmp`; its name is the URL path's last part. */
export async function remoteSource(tmp: string, url: string, checksum?: string): Promise<Match> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    throw systemError(`failed to GET ${url}: ${(e as Error).message}`, e);
  }
  // dockerd's words: the status, then what the server said (its first KiB).
  if (!res.ok) {
    const said = (await res.text().catch((e: unknown) => `(the body could not be read: ${(e as Error).message})`)).slice(0, 1024);
    throw invalid(`failed to GET ${url} with status ${res.status} ${res.statusText}: ${said}`);
  }
  const body = Buffer.from(await res.arrayBuffer());
  if (checksum) {
    const got = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (got !== checksum) throw invalid(`digest mismatch ${got}: ${checksum}`);
  }
  const name = posix.basename(new URL(url).pathname) || 'index.html';
  const host = join(tmp, `remote-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`);
  await writeFile(host, body, { mode: 0o600 });
  const modified = res.headers.get('last-modified');
  if (modified && !Number.isNaN(Date.parse(modified))) {
    const { utimes } = await import('node:fs/promises');
    await utimes(host, new Date(modified), new Date(modified));
  }
  return { host, rel: name, st: await lstat(host) };
}

/** True when the file is a tar archive, plain or compressed (its first block read). */
export async function isArchive(host: string, st: Stats): Promise<boolean> {
  if (!st.isFile() || st.size < 6) return false;
  const fd = await open(host, 'r');
  const head = Buffer.alloc(512);
  try {
    await fd.read(head, 0, 512, 0);
  } finally {
    await fd.close();
  }
  if (detectCompression(head) === 'none') return st.size >= 512 && isTarHeader(head);
  const chunks: Buffer[] = [];
  let n = 0;
  const source = createReadStream(host);
  const stream = decompress(source);
  try {
    for await (const c of stream) {
      chunks.push(c as Buffer);
      n += (c as Buffer).length;
      if (n >= 512) break;
    }
  } catch {
    // Not a stream this decompressor reads (or cut short by the break above once read).
    if (n < 512) return false;
  } finally {
    stream.destroy();
    source.destroy();
  }
  return n >= 512 && isTarHeader(Buffer.concat(chunks).subarray(0, 512));
}

function isTarHeader(h: Buffer): boolean {
  const magic = h.subarray(257, 262).toString('latin1');
  if (magic === 'ustar') return true;
  // A v7 tar: the header's checksum field matches its bytes.
  const sum = h.reduce((a, c, i) => a + (i >= 148 && i < 156 ? 32 : c), 0);
  return parseInt(h.subarray(148, 156).toString('latin1').replace(/\0.*$/, '').trim(), 8) === sum;
}

/** Unpacks an archive into a new folder under `tmp`: a directory match whose content is the archive's. */
export async function extractedSource(tmp: string, m: Match, n: number): Promise<Match> {
  const host = join(tmp, `archive-${n}`);
  await unpackLayer(createReadStream(m.host), host, { compression: 'auto' });
  return { host, rel: '', st: await lstat(host) };
}
