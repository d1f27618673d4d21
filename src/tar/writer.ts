// Streaming tar writer: entries in (a header and a body of known size), a Readable of the
// archive out, with backpressure — `add` resolves only once the reader has taken the bytes, so
// a writer of gigabytes holds one chunk at a time. Headers are ustar with PAX records where a
// field does not fit (see header.ts). `end` writes the two zero blocks that close the archive.

import { Readable } from 'node:stream';
import { invalid } from '../errors.js';
import { BLOCK, encodeHeader, padding, unpackedBytes, type TarHeaderInput } from './header.js';

export class TarWriter {
  /** The archive's bytes. Destroying it makes the pending and later `add`s fail. */
  readonly stream: Readable;
  private wake?: () => void;
  private failure?: Error;
  private ended = false;
  /** Bytes the entries added so far take unpacked, as dockerd counts a layer (`unpackedBytes`). */
  contentSize = 0;

  constructor() {
    this.stream = new Readable({
      read: () => this.resume(),
      destroy: (err, cb) => {
        this.failure ??= err ?? new Error('tar: archive stream closed');
        this.resume();
        cb(err);
      },
    });
  }

  private resume(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async push(buf: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.stream.push(buf)) return;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    if (this.failure) throw this.failure;
  }

  /**
   * Adds an entry. A file's body is a buffer, or chunks that must add up to `header.size`
   * exactly (a file that changed size meanwhile is an error, not a corrupt archive).
   */
  async add(header: TarHeaderInput, body?: Uint8Array | string | AsyncIterable<Uint8Array>): Promise<void> {
    if (this.ended) throw new Error('tar: add after end');
    const type = header.type ?? 'file';
    const isFile = type === 'file' || type === 'contiguous-file';
    if (!isFile && body !== undefined) throw invalid(`tar: entry "${header.name}" of type ${type} has no body`);
    const data =
      typeof body === 'string'
        ? Buffer.from(body)
        : body instanceof Uint8Array
          ? Buffer.from(body.buffer, body.byteOffset, body.byteLength)
          : undefined;
    const size = isFile ? (header.size ?? data?.length ?? 0) : 0;
    if (data && data.length !== size) throw invalid(`tar: entry "${header.name}" has ${data.length} bytes, its header says ${size}`);
    await this.push(encodeHeader({ ...header, type, size }));
    this.contentSize += unpackedBytes({ type, size, linkname: header.linkname });
    if (data) {
      if (data.length) await this.push(data);
    } else if (body !== undefined && typeof body !== 'string') {
      let got = 0;
      for await (const c of body as AsyncIterable<Uint8Array>) {
        got += c.length;
        if (got > size) throw new Error(`tar: "${header.name}" grew past its ${size} bytes while being archived`);
        if (c.length) await this.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
      }
      if (got !== size) throw new Error(`tar: "${header.name}" gave ${got} of its ${size} bytes`);
    } else if (size) {
      throw invalid(`tar: entry "${header.name}" of ${size} bytes has no body`);
    }
    const pad = padding(size);
    if (pad) await this.push(Buffer.alloc(pad));
  }

  /** Closes the archive (two zero blocks) and ends the stream. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.push(Buffer.alloc(2 * BLOCK));
    this.stream.push(null);
  }

  /** Fails the stream (a reader sees `err`). */
  destroy(err: Error): void {
    this.stream.destroy(err);
  }
}

/** A whole archive in memory (small archives: configs, tests). */
export async function tarBuffer(entries: { header: TarHeaderInput; body?: Uint8Array | string }[]): Promise<Buffer> {
  const w = new TarWriter();
  const chunks: Buffer[] = [];
  const reading = (async () => {
    for await (const c of w.stream) chunks.push(c as Buffer);
  })();
  try {
    for (const e of entries) await w.add(e.header, e.body);
    await w.end();
  } catch (err) {
    w.destroy(err as Error);
    await Promise.allSettled([reading]); // it fails with err, thrown here
    throw err;
  }
  await reading;
  return Buffer.concat(chunks);
}
