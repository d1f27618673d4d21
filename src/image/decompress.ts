// Decompression of tar streams by their magic number: gzip (zlib), zstd (fzstd, pure
// JavaScript), and — for what `docker import` and `docker cp` accept, as dockerd does — bzip2 and
// xz through the system's `bzip2` and `xz` programs (moby runs `xz` too), spawned
// asynchronously. Damaged input is an `invalid` error naming the format.

import { spawn } from 'node:child_process';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { awaitedLater } from '../common/promises.js';
import { invalid, unsupported } from '../errors.js';
import type { LayerCompression } from '../oci/image.js';

export type Compression = LayerCompression | 'bzip2' | 'xz';

/** Sniffs the compression from the magic number. */
export function detectCompression(head: Uint8Array): Compression {
  const at = (i: number, ...bytes: number[]) => head.length >= i + bytes.length && bytes.every((b, j) => head[i + j] === b);
  if (at(0, 0x1f, 0x8b)) return 'gzip';
  if (at(0, 0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (at(0, 0x42, 0x5a, 0x68)) return 'bzip2'; // "BZh"
  if (at(0, 0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  return 'none';
}

/** A Transform that decompresses zstd with fzstd (pure JavaScript). */
export function createZstdDecompress(): Transform {
  let d: Decompress;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        d.push(chunk);
        cb();
      } catch (e) {
        cb(invalid(`zstd: ${(e as Error).message}`));
      }
    },
    flush(cb: TransformCallback) {
      try {
        d.push(new Uint8Array(0), true);
        cb();
      } catch (e) {
        cb(invalid(`zstd: ${(e as Error).message}`));
      }
    },
  });
  d = new Decompress((data) => {
    t.push(Buffer.from(data.buffer, data.byteOffset, data.length));
  });
  return t;
}

/** `program -d -c` over `src`; a non-zero exit is `invalid` with its stderr. */
async function* external(program: 'bzip2' | 'xz', src: Readable): AsyncGenerator<Buffer> {
  const child = spawn(program, ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`${program}: ${e.message} (is ${program} installed?)`)));
    child.once('close', resolve);
  });
  awaitedLater(exited);
  const feeding = pipeline(src, child.stdin).catch((e: NodeJS.ErrnoException) => {
    // The program stops reading when it finds the input damaged; its exit status says why.
    if (e.code !== 'EPIPE') throw e;
  });
  awaitedLater(feeding);
  try {
    for await (const c of child.stdout) yield c as Buffer;
    await feeding;
    const code = await exited;
    if (code !== 0) throw invalid(`${program}: ${stderr.trim() || `exit status ${code}`}`);
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

/** The chunks of `transform` fed from `src`; zlib's errors become `invalid`. */
async function* through(src: Readable, transform: Transform): AsyncGenerator<Buffer> {
  const feeding = pipeline(src, transform);
  awaitedLater(feeding); // (the same error ends the loop below)
  try {
    for await (const c of transform) yield c as Buffer;
    await feeding;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code?.startsWith('Z_')) throw invalid(`not valid gzip: ${(e as Error).message}`);
    throw e;
  }
}

async function* decompressed(source: AsyncIterable<Uint8Array> | Readable, compression: Compression | 'auto'): AsyncGenerator<Buffer> {
  const it = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  let first = await it.next();
  while (!first.done && first.value.length === 0) first = await it.next();
  const head = first.done ? new Uint8Array(0) : first.value;
  const c = compression === 'auto' ? detectCompression(head) : compression;
  async function* all() {
    if (!first.done) yield first.value;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }
  const src = Readable.from(all(), { objectMode: false });
  if (c === 'gzip') yield* through(src, createGunzip());
  else if (c === 'zstd') yield* through(src, createZstdDecompress());
  else if (c === 'bzip2' || c === 'xz') yield* external(c, src);
  else if (c === 'none') for await (const b of src) yield b as Buffer;
  else throw unsupported(`unsupported compression "${c}"`);
}

/** Decompresses a stream; `auto` sniffs the first bytes. */
export function decompress(source: AsyncIterable<Uint8Array> | Readable, compression: Compression | 'auto' = 'auto'): Readable {
  return Readable.from(decompressed(source, compression), { objectMode: false });
}
