// SPDY/3.1 as Kubernetes' streaming uses it (k8s.io/apimachinery httpstream/spdy over
// moby/spdystream), server side: after an HTTP upgrade to `SPDY/3.1` the client opens streams
// with SYN_STREAM (their headers say what each stream is), the server answers each with
// SYN_REPLY, and both send DATA frames, a FIN ending a direction. Control frames: RST_STREAM,
// SETTINGS, PING (echoed), GOAWAY, HEADERS and WINDOW_UPDATE.
//
// Header blocks are zlib streams with SPDY/3's preset dictionary, one context a direction for the
// whole connection, each block ending on a sync flush. What the client sends is inflated with the
// dictionary. What berthd sends is written as stored (uncompressed) deflate blocks in one zlib
// stream that names the dictionary: any conforming inflater reads it, and a reply never waits on
// an asynchronous deflate, so frames go out in the order they are made.
//
// Flow control (SPDY/3.1: a window a stream and one for the session, 64 KiB unless SETTINGS says
// otherwise): berthd sends WINDOW_UPDATEs for what it has taken, and holds its own DATA to the
// client's windows once the client has shown it keeps them (a SETTINGS initial window size or a
// WINDOW_UPDATE). spdystream, on kubelet's and the API server's side, never sends either and
// never stops reading (moby/spdystream#2), so to it DATA goes paced by the socket alone.

import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { constants as zc, createInflate, type Inflate } from 'node:zlib';

export const VERSION = 3;
export const DEFAULT_WINDOW = 64 * 1024;
/** The largest DATA frame berthd sends (kubelet's remotecommand copies in 32 KiB reads too). */
export const MAX_DATA = 16 * 1024;

export const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
const SETTINGS_INITIAL_WINDOW_SIZE = 7;

export const RstStatus = { ProtocolError: 1, InvalidStream: 2, RefusedStream: 3, Cancel: 5, InternalError: 6, StreamInUse: 8 } as const;

/** SPDY/3's header dictionary: these names and values, each behind its length (32 bits), then the tail. */
const DICTIONARY_WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
  'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
  'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
  'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
  'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie',
  'keep-alive', 'origin',
]; // prettier-ignore
const DICTIONARY_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
  '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
  'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

export const DICTIONARY = Buffer.concat([
  ...DICTIONARY_WORDS.flatMap((w) => [u32(w.length), Buffer.from(w, 'latin1')]),
  Buffer.from(DICTIONARY_TAIL, 'latin1'),
]);

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function adler32(b: Buffer): number {
  let a = 1;
  let s = 0;
  for (const byte of b) {
    a = (a + byte) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

/** Header names as SPDY/3 carries them (lower case); a name's several values are joined by NUL. */
export type Headers = Map<string, string[]>;

/** A name/value block before compression (SPDY/3: 32-bit counts and lengths). */
export function encodeHeaderBlock(headers: Headers): Buffer {
  const parts = [u32(headers.size)];
  for (const [name, values] of headers) {
    const n = Buffer.from(name.toLowerCase());
    const v = Buffer.from(values.join('\0'));
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(b: Buffer): Headers {
  const headers: Headers = new Map();
  let off = 0;
  const take = (): Buffer => {
    if (off + 4 > b.length) throw new SpdyError('header block truncated');
    const n = b.readUInt32BE(off);
    if (off + 4 + n > b.length) throw new SpdyError('header block truncated');
    off += 4 + n;
    return b.subarray(off - n, off);
  };
  if (b.length < 4) throw new SpdyError('header block truncated');
  const count = b.readUInt32BE(0);
  off = 4;
  for (let i = 0; i < count; i++) {
    const name = take().toString().toLowerCase();
    const value = take().toString();
    if (!name) throw new SpdyError('empty header name');
    if (headers.has(name)) throw new SpdyError(`header ${name} given twice`);
    headers.set(name, value.split('\0'));
  }
  return headers;
}

/** Our direction's zlib stream: the header (naming the dictionary) once, then stored blocks, each ending byte-aligned. */
export class HeaderDeflater {
  private started = false;

  deflate(raw: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.started) {
      // CMF 0x78 (deflate, 32 KiB window); FLG 0x20: FDICT, level 0, and 0x7820 % 31 === 0.
      parts.push(Buffer.from([0x78, 0x20]), u32(adler32(DICTIONARY)));
      this.started = true;
    }
    for (let off = 0; off === 0 || off < raw.length; off += 0xffff) {
      const piece = raw.subarray(off, off + 0xffff);
      const head = Buffer.alloc(5);
      head[0] = 0; // BFINAL 0, BTYPE 00 (stored), padded to the byte
      head.writeUInt16LE(piece.length, 1);
      head.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(head, piece);
    }
    return Buffer.concat(parts);
  }
}

/** The peer's direction: one inflate context with the dictionary, a block at a time, in order. */
export class HeaderInflater {
  private readonly z: Inflate = createInflate({ dictionary: DICTIONARY });
  private out: Buffer[] = [];
  private failed?: Error;
  private reject?: (e: Error) => void;

  constructor() {
    this.z.on('data', (d: Buffer) => this.out.push(d));
    this.z.on('error', (e: Error) => {
      this.failed = e;
      this.reject?.(new SpdyError(`header block: ${e.message}`));
    });
  }

  inflate(block: Buffer): Promise<Buffer> {
    if (this.failed) return Promise.reject(new SpdyError(`header block: ${this.failed.message}`));
    return new Promise((resolve, reject) => {
      this.reject = reject;
      this.z.write(block);
      this.z.flush(zc.Z_SYNC_FLUSH, () => {
        this.reject = undefined;
        const b = Buffer.concat(this.out);
        this.out = [];
        resolve(b);
      });
    });
  }

  close(): void {
    this.z.close();
  }
}

export class SpdyError extends Error {}

export type Frame =
  { control: true; type: number; flags: number; payload: Buffer } | { control: false; streamId: number; flags: number; data: Buffer };

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(payload.length, 4);
  head[4] = flags;
  return Buffer.concat([head, payload]);
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(data.length, 4);
  head[4] = flags;
  return Buffer.concat([head, data]);
}

/** Splits bytes into frames (8-byte header, 24-bit length). A control frame of another version throws. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4) & 0xffffff;
      if (this.buf.length < 8 + len) break;
      const flags = this.buf[4];
      const body = this.buf.subarray(8, 8 + len);
      if (this.buf[0] & 0x80) {
        const version = this.buf.readUInt16BE(0) & 0x7fff;
        if (version !== VERSION) throw new SpdyError(`SPDY version ${version} is not served (3 is)`);
        frames.push({ control: true, type: this.buf.readUInt16BE(2), flags, payload: body });
      } else {
        frames.push({ control: false, streamId: this.buf.readUInt32BE(0) & 0x7fffffff, flags, data: body });
      }
      this.buf = this.buf.subarray(8 + len);
    }
    return frames;
  }
}

/**
 * A stream the client opened: its headers, what it sends (readable, ended by its FIN) and what
 * berthd sends (writable, ended with a FIN; held to the client's windows when it keeps them).
 * Destroying a stream not closed both ways resets it (RST_STREAM CANCEL).
 */
export class SpdyStream extends Duplex {
  sendWindow: number;
  /** Bytes taken from the client not yet given back with a WINDOW_UPDATE. */
  unacked = 0;
  remoteClosed = false;
  localClosed = false;
  replied = false;
  private queue: { data: Buffer; cb: (e?: Error | null) => void }[] = [];

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: Headers,
  ) {
    super({ allowHalfOpen: true });
    this.sendWindow = session.initialSendWindow;
  }

  /** The header's first value. */
  header(name: string): string | undefined {
    return this.headers.get(name)?.[0];
  }

  /** Accepts the stream (SYN_REPLY). */
  reply(): void {
    if (this.replied) return;
    this.replied = true;
    this.session.sendReply(this.id);
  }

  /** Refuses or abandons the stream (RST_STREAM with `status`). */
  reset(status: number): void {
    if (!(this.localClosed && this.remoteClosed)) this.session.reset(this.id, status);
    this.localClosed = this.remoteClosed = true;
    this.destroy();
  }

  override _read(): void {
    // DATA is pushed as it comes; the client's windows are refilled as it is taken.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.reply();
    this.queue.push({ data: chunk, cb });
    this.pump();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.reply();
    this.localClosed = true;
    this.session.sendFrame(dataFrame(this.id, FLAG_FIN, Buffer.alloc(0)));
    this.session.forgetIfDone(this);
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (!(this.localClosed && this.remoteClosed) && !this.session.closed) {
      this.session.sendFrame(controlFrame(FrameType.RstStream, 0, Buffer.concat([u32(this.id), u32(RstStatus.Cancel)])));
    }
    this.localClosed = this.remoteClosed = true;
    this.session.forgetIfDone(this);
    for (const q of this.queue.splice(0)) q.cb(err ?? new Error('stream reset'));
    cb(err);
  }

  /** Sends what the windows allow; called again when they grow. */
  pump(): void {
    while (this.queue.length) {
      const q = this.queue[0];
      const room = this.session.flowControl ? Math.min(this.sendWindow, this.session.sendWindow) : Infinity;
      if (room <= 0) return;
      const n = Math.min(q.data.length, MAX_DATA, room);
      this.session.sendFrame(dataFrame(this.id, 0, q.data.subarray(0, n)));
      if (this.session.flowControl) {
        this.sendWindow -= n;
        this.session.sendWindow -= n;
      }
      q.data = q.data.subarray(n);
      if (q.data.length) continue;
      this.queue.shift();
      this.session.whenDrained(q.cb);
    }
  }

  /** DATA from the client. */
  receive(data: Buffer, fin: boolean): void {
    if (this.remoteClosed) {
      this.session.reset(this.id, RstStatus.InvalidStream);
      return;
    }
    if (data.length) {
      this.push(data);
      this.session.taken(this, data.length);
    }
    if (fin) this.remoteEnd();
  }

  remoteEnd(): void {
    if (this.remoteClosed) return;
    this.remoteClosed = true;
    this.push(null);
    this.session.forgetIfDone(this);
  }
}

/**
 * The server's side of one SPDY/3.1 connection on an upgraded socket. Emits 'stream'
 * (SpdyStream, for each SYN_STREAM the client sends) and 'close' once the socket has gone.
 * Frames are handled in order; a protocol error ends the session with GOAWAY.
 */
export class SpdySession extends EventEmitter {
  readonly streams = new Map<number, SpdyStream>();
  readonly deflater = new HeaderDeflater();
  private readonly inflater = new HeaderInflater();
  private readonly reader = new FrameReader();
  private lastStreamId = 0;
  private chain: Promise<void> = Promise.resolve();
  private goneAway = false;
  closed = false;
  flowControl = false;
  initialSendWindow = DEFAULT_WINDOW;
  sendWindow = DEFAULT_WINDOW;
  private sessionUnacked = 0;

  constructor(readonly socket: Duplex) {
    super();
    socket.on('data', (d: Buffer) => this.receive(d));
    socket.once('close', () => this.finish());
  }

  sendFrame(frame: Buffer): void {
    if (!this.closed) this.socket.write(frame);
  }

  sendReply(id: number): void {
    const block = encodeHeaderBlock(
      new Map([
        // SPDY/3's HTTP layer wants these in a reply; spdystream reads none of them.
        [':status', ['200']],
        [':version', ['HTTP/1.1']],
      ]),
    );
    this.sendFrame(controlFrame(FrameType.SynReply, 0, Buffer.concat([u32(id), this.deflater.deflate(block)])));
  }

  reset(id: number, status: number): void {
    this.sendFrame(controlFrame(FrameType.RstStream, 0, Buffer.concat([u32(id), u32(status)])));
  }

  /** Runs `cb` once the socket has room again. */
  whenDrained(cb: () => void): void {
    if (this.closed || !this.socket.writableNeedDrain) cb();
    else this.socket.once('drain', () => cb());
  }

  /** Gives the client back its window for what a stream has taken, in halves of the window. */
  taken(stream: SpdyStream, n: number): void {
    stream.unacked += n;
    this.sessionUnacked += n;
    if (stream.unacked >= DEFAULT_WINDOW / 2 && !stream.remoteClosed) {
      this.sendFrame(controlFrame(FrameType.WindowUpdate, 0, Buffer.concat([u32(stream.id), u32(stream.unacked)])));
      stream.unacked = 0;
    }
    if (this.sessionUnacked >= DEFAULT_WINDOW / 2) {
      this.sendFrame(controlFrame(FrameType.WindowUpdate, 0, Buffer.concat([u32(0), u32(this.sessionUnacked)])));
      this.sessionUnacked = 0;
    }
  }

  forgetIfDone(s: SpdyStream): void {
    if (s.localClosed && s.remoteClosed) this.streams.delete(s.id);
  }

  /** GOAWAY (OK), then the socket ends once what was written has gone. */
  goAway(status = 0): void {
    if (this.goneAway || this.closed) return;
    this.goneAway = true;
    this.socket.end(controlFrame(FrameType.GoAway, 0, Buffer.concat([u32(this.lastStreamId), u32(status)])));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(d: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.reader.push(d);
    } catch (e) {
      this.protocolError(e);
      return;
    }
    for (const f of frames) this.chain = this.chain.then(() => this.handle(f)).catch((e: unknown) => this.protocolError(e));
  }

  private protocolError(e: unknown): void {
    this.emit('protocolError', e instanceof Error ? e : new Error(String(e)));
    this.goAway(1);
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.inflater.close();
    for (const s of this.streams.values()) {
      s.remoteEnd();
      s.destroy();
    }
    this.streams.clear();
    this.emit('close');
  }

  private async handle(f: Frame): Promise<void> {
    if (this.closed) return;
    if (!f.control) {
      const s = this.streams.get(f.streamId);
      if (!s) this.reset(f.streamId, RstStatus.InvalidStream);
      else s.receive(f.data, (f.flags & FLAG_FIN) !== 0);
      return;
    }
    const p = f.payload;
    const need = (n: number) => {
      if (p.length < n) throw new SpdyError(`control frame ${f.type} too short`);
    };
    switch (f.type) {
      case FrameType.SynStream: {
        need(10);
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.inflater.inflate(p.subarray(10)));
        // Client streams are odd and rising (SPDY/3 2.3.2); anything else is a protocol error.
        if (id % 2 !== 1 || id <= this.lastStreamId) throw new SpdyError(`stream ${id} out of order`);
        this.lastStreamId = id;
        if (this.goneAway) return this.reset(id, RstStatus.RefusedStream);
        const s = new SpdyStream(this, id, headers);
        this.streams.set(id, s);
        if (f.flags & FLAG_UNIDIRECTIONAL) s.localClosed = true;
        if (f.flags & FLAG_FIN) s.remoteEnd();
        this.emit('stream', s);
        return;
      }
      case FrameType.SynReply:
      case FrameType.Headers: {
        // Keep the inflate context in step; berthd opens no streams and takes no late headers.
        need(4);
        await this.inflater.inflate(p.subarray(4));
        const s = this.streams.get(p.readUInt32BE(0) & 0x7fffffff);
        if (s && f.type === FrameType.Headers && f.flags & FLAG_FIN) s.remoteEnd();
        return;
      }
      case FrameType.RstStream: {
        need(8);
        const s = this.streams.get(p.readUInt32BE(0) & 0x7fffffff);
        if (s) {
          s.remoteEnd();
          s.localClosed = true;
          s.destroy();
        }
        return;
      }
      case FrameType.Settings: {
        need(4);
        const n = p.readUInt32BE(0);
        need(4 + 8 * n);
        for (let i = 0; i < n; i++) {
          const id = p.readUInt32BE(4 + 8 * i) & 0xffffff;
          if (id !== SETTINGS_INITIAL_WINDOW_SIZE) continue;
          const value = p.readUInt32BE(8 + 8 * i);
          this.flowControl = true;
          for (const s of this.streams.values()) s.sendWindow += value - this.initialSendWindow;
          this.initialSendWindow = value;
        }
        this.streams.forEach((s) => s.pump());
        return;
      }
      case FrameType.Ping:
        need(4);
        // Odd ids are the client's: echo them; an even one would be an answer to ours (we send none).
        if (p.readUInt32BE(0) % 2 === 1) this.sendFrame(controlFrame(FrameType.Ping, 0, p.subarray(0, 4)));
        return;
      case FrameType.GoAway:
        this.goAway();
        return;
      case FrameType.WindowUpdate: {
        need(8);
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const delta = p.readUInt32BE(4) & 0x7fffffff;
        this.flowControl = true;
        if (id === 0) {
          this.sendWindow += delta;
          this.streams.forEach((s) => s.pump());
        } else {
          const s = this.streams.get(id);
          if (s) {
            s.sendWindow += delta;
            s.pump();
          }
        }
        return;
      }
      default:
        // SPDY/3 2.2.1: control frames of an unknown type are ignored.
        return;
    }
  }
}
