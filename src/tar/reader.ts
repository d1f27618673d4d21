// Streaming tar reader: an async iterable of byte chunks in, one entry at a time out, each with
// its header (ustar, GNU long names and base-256 numbers, PAX records applied) and its body as
// an async iterable that never holds more than one input chunk. A body left unread is skipped.
// After the end-of-archive blocks the rest of the input is read and dropped, so a caller that
// hashes the stream sees all of it. Metadata entries (PAX, GNU long names) are bounded.

import { invalid } from '../errors.js';
import { BLOCK, applyPax, decodeHeader, decodePax, isZeroBlock, padding, type TarHeader } from './header.js';

/** A PAX header or GNU long name larger than this is refused (no real archive comes near). */
const MAX_META = 8 << 20;

export interface TarEntry {
  header: TarHeader;
  /** The entry's data; read it before asking for the next entry, or it is skipped. */
  body: AsyncIterable<Buffer>;
}

/** Pulls exact byte counts out of an async iterable of chunks. */
class Bytes {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Uint8Array>;
  private done = false;
  /** Bytes consumed so far (for messages). */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (!this.done && this.buf.length === 0) {
      const n = await this.it.next();
      if (n.done) {
        this.done = true;
        break;
      }
      this.buf = Buffer.from(n.value.buffer, n.value.byteOffset, n.value.byteLength);
    }
    return this.buf.length > 0;
  }

  /** Up to `max` bytes (at least one), or undefined at the end of the input. */
  async chunk(max: number): Promise<Buffer | undefined> {
    if (!(await this.fill())) return undefined;
    const out = this.buf.length <= max ? this.buf : this.buf.subarray(0, max);
    this.buf = this.buf.subarray(out.length);
    this.offset += out.length;
    return out;
  }

  /** Exactly `n` bytes; undefined when the input ends before the first; an error when it ends inside. */
  async exact(n: number): Promise<Buffer | undefined> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const c = await this.chunk(n - got);
      if (!c) {
        if (got === 0) return undefined;
        throw invalid(`tar: unexpected end of archive at byte ${this.offset}`);
      }
      parts.push(c);
      got += c.length;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  async skip(n: number): Promise<void> {
    while (n > 0) {
      const c = await this.chunk(n);
      if (!c) throw invalid(`tar: unexpected end of archive at byte ${this.offset}`);
      n -= c.length;
    }
  }

  async drain(): Promise<void> {
    while (await this.chunk(1 << 20));
  }

  async close(): Promise<void> {
    if (!this.done) await this.it.return?.();
  }
}

/** Reads a tar archive entry by entry. Errors are `invalid` with what was wrong and where. */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const bytes = new Bytes(source);
  let left = 0; // unread body bytes of the entry last handed out
  let pad = 0;
  let current = 0;
  const global: { records: Record<string, string>; xattrs: Map<string, Buffer> } = { records: {}, xattrs: new Map() };
  try {
    for (;;) {
      await bytes.skip(left + pad);
      left = 0;
      let pax: ReturnType<typeof decodePax> | undefined;
      let longName: string | undefined;
      let longLink: string | undefined;
      let h: TarHeader;
      for (;;) {
        const block = await bytes.exact(BLOCK);
        if (!block || isZeroBlock(block)) {
          await bytes.drain();
          return;
        }
        h = decodeHeader(block);
        if (h.type !== 'pax-header' && h.type !== 'pax-global-header' && h.type !== 'gnu-long-name' && h.type !== 'gnu-long-link-name')
          break;
        if (h.size > MAX_META) throw invalid(`tar: ${h.type} of ${h.size} bytes refused (at most ${MAX_META})`);
        const data = h.size ? await bytes.exact(h.size) : Buffer.alloc(0);
        if (!data) throw invalid(`tar: unexpected end of archive at byte ${bytes.offset}`);
        await bytes.skip(padding(h.size));
        if (h.type === 'pax-header') pax = decodePax(data);
        else if (h.type === 'pax-global-header') {
          const g = decodePax(data);
          Object.assign(global.records, g.records);
          for (const [k, v] of g.xattrs) global.xattrs.set(k, v);
        } else {
          const end = data.indexOf(0);
          const s = data.toString('utf8', 0, end === -1 ? data.length : end);
          if (h.type === 'gnu-long-name') longName = s;
          else longLink = s;
        }
      }
      if (longName !== undefined) h.name = longName;
      if (longLink !== undefined) h.linkname = longLink;
      if (Object.keys(global.records).length || global.xattrs.size) applyPax(h, global.records, global.xattrs);
      if (pax) applyPax(h, pax.records, pax.xattrs);
      // Only files carry data; a size on anything else (GNU dumpdirs aside) is still skipped.
      left = h.size;
      pad = padding(h.size);
      const id = ++current;
      const body = {
        async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
          if (id !== current) throw new Error(`tar: body of "${h.name}" read after the next entry`);
          while (left > 0) {
            const c = await bytes.chunk(left);
            if (!c) throw invalid(`tar: unexpected end of archive in "${h.name}" at byte ${bytes.offset}`);
            left -= c.length;
            yield c;
          }
        },
      };
      yield { header: h, body };
    }
  } finally {
    await bytes.close();
  }
}
