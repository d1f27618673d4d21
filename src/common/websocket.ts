// The server side of RFC 6455 WebSocket, as small as berthd needs it (the CRI streaming server,
// the Engine API's attach/ws): the opening handshake's answer, a frame parser that unmasks and
// joins fragments into messages, frames out (unmasked, as a server sends them), ping answered,
// close echoed. No extensions (no permessage-deflate: kubectl, kubelet and docker's clients never
// ask for it), no client side.

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** A message larger than this closes the connection (1009): no CRI client sends one near it. */
export const MAX_MESSAGE = 16 << 20;

export enum Opcode {
  Continuation = 0,
  Text = 1,
  Binary = 2,
  Close = 8,
  Ping = 9,
  Pong = 10,
}

/** The Sec-WebSocket-Accept answer to a client's Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** Why an upgrade request is not a WebSocket opening handshake (version 13), or undefined. */
export function handshakeError(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET') return 'a WebSocket handshake is a GET';
  if (!/\bwebsocket\b/i.test(req.headers.upgrade ?? '')) return 'Upgrade: websocket or SPDY/3.1 is required';
  if (req.headers['sec-websocket-version'] !== '13') return 'Sec-WebSocket-Version 13 is required';
  const key = req.headers['sec-websocket-key'];
  if (!key || Buffer.from(key, 'base64').length !== 16) return 'a Sec-WebSocket-Key of 16 bytes is required';
  return undefined;
}

/** The subprotocols a client offers, in its order of preference. */
export function offeredProtocols(req: IncomingMessage): string[] {
  return (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** One frame, as the server sends it: FIN set, unmasked. */
export function encodeFrame(opcode: Opcode, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (n < 126) head[1] = n;
  else if (n < 65536) {
    head[1] = 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}

export interface Message {
  opcode: Opcode;
  data: Buffer;
}

export class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Parses a client's bytes into messages (fragments joined) and control frames. Client frames
 * must be masked (RFC 6455 5.1); a violation throws a ProtocolError with the close code to send.
 */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentOpcode: Opcode | undefined;
  private fragmentSize = 0;

  push(chunk: Buffer): Message[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Message[] = [];
    for (;;) {
      const frame = this.next();
      if (!frame) return out;
      const msg = this.assemble(frame);
      if (msg) out.push(msg);
    }
  }

  private next(): { fin: boolean; opcode: Opcode; payload: Buffer } | undefined {
    const b = this.buf;
    if (b.length < 2) return undefined;
    const fin = (b[0] & 0x80) !== 0;
    if (b[0] & 0x70) throw new ProtocolError(1002, 'reserved bits set without an extension');
    const opcode = (b[0] & 0x0f) as Opcode;
    if (!(b[1] & 0x80)) throw new ProtocolError(1002, 'a client frame must be masked');
    let len = b[1] & 0x7f;
    let off = 2;
    if (len === 126) {
      if (b.length < 4) return undefined;
      len = b.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (b.length < 10) return undefined;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(MAX_MESSAGE)) throw new ProtocolError(1009, 'message too big');
      len = Number(big);
      off = 10;
    }
    if (len > MAX_MESSAGE) throw new ProtocolError(1009, 'message too big');
    if (b.length < off + 4 + len) return undefined;
    const mask = b.subarray(off, off + 4);
    const payload = Buffer.from(b.subarray(off + 4, off + 4 + len));
    for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    this.buf = b.subarray(off + 4 + len);
    return { fin, opcode, payload };
  }

  private assemble(f: { fin: boolean; opcode: Opcode; payload: Buffer }): Message | undefined {
    if (f.opcode >= Opcode.Close) {
      if (!f.fin || f.payload.length > 125) throw new ProtocolError(1002, 'a control frame must be whole and at most 125 bytes');
      if (f.opcode > Opcode.Pong) throw new ProtocolError(1002, `unknown opcode ${f.opcode}`);
      return { opcode: f.opcode, data: f.payload };
    }
    if (f.opcode === Opcode.Continuation) {
      if (this.fragmentOpcode === undefined) throw new ProtocolError(1002, 'a continuation frame with nothing to continue');
    } else {
      if (f.opcode !== Opcode.Text && f.opcode !== Opcode.Binary) throw new ProtocolError(1002, `unknown opcode ${f.opcode}`);
      if (this.fragmentOpcode !== undefined) throw new ProtocolError(1002, 'a new message before the last one ended');
      this.fragmentOpcode = f.opcode;
    }
    this.fragmentSize += f.payload.length;
    if (this.fragmentSize > MAX_MESSAGE) throw new ProtocolError(1009, 'message too big');
    this.fragments.push(f.payload);
    if (!f.fin) return undefined;
    const msg = { opcode: this.fragmentOpcode!, data: this.fragments.length === 1 ? this.fragments[0] : Buffer.concat(this.fragments) };
    this.fragments = [];
    this.fragmentOpcode = undefined;
    this.fragmentSize = 0;
    return msg;
  }
}

/**
 * Answers a checked handshake (handshakeError undefined) with 101 and `protocol` when one was
 * negotiated, and returns the connection; bytes read past the request (`head`) are its first.
 */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer | undefined, protocol = ''): WebSocket {
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${acceptKey(req.headers['sec-websocket-key']!)}\r\n` +
      (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
      '\r\n',
  );
  if (head?.length) socket.unshift(head);
  return new WebSocket(socket);
}

/**
 * An open connection after the 101 answer. Emits 'message' (Message, data frames only) and
 * 'close' (code) once, when either side has closed or the socket has gone.
 */
export class WebSocket extends EventEmitter {
  private readonly parser = new FrameParser();
  private closing = false;
  private closed = false;

  constructor(readonly socket: Duplex) {
    super();
    socket.on('data', (d: Buffer) => this.receive(d));
    socket.on('close', () => this.finish(1006));
    socket.on('error', () => this.finish(1006)); // a reset peer: 'close' follows with no code to tell
  }

  /** Sends a data message; false once the socket's buffer is full (wait for 'drain' on `socket`). */
  send(data: Buffer, text = false): boolean {
    if (this.closing || this.closed) return false;
    return this.socket.write(encodeFrame(text ? Opcode.Text : Opcode.Binary, data));
  }

  /** Starts the closing handshake; the socket ends when the peer answers, or after `ms`. */
  close(code = 1000, reason = '', ms = 5000): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.socket.end(encodeFrame(Opcode.Close, payload));
    setTimeout(() => this.socket.destroy(), ms).unref();
  }

  private receive(d: Buffer): void {
    let msgs: Message[];
    try {
      msgs = this.parser.push(d);
    } catch (e) {
      const code = e instanceof ProtocolError ? e.code : 1011;
      this.close(code, e instanceof Error ? e.message.slice(0, 100) : '');
      return;
    }
    for (const m of msgs) {
      if (this.closed) return;
      if (m.opcode === Opcode.Ping) {
        if (!this.closing) this.socket.write(encodeFrame(Opcode.Pong, m.data));
      } else if (m.opcode === Opcode.Close) {
        const code = m.data.length >= 2 ? m.data.readUInt16BE(0) : 1005;
        if (!this.closing) {
          this.closing = true;
          this.socket.end(encodeFrame(Opcode.Close, m.data.subarray(0, 2)));
        }
        this.finish(code);
      } else if (m.opcode !== Opcode.Pong && !this.closing) {
        this.emit('message', m);
      }
    }
  }

  private finish(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', code);
  }
}
