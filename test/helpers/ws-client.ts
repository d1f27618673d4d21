// A WebSocket client for the tests of the CRI streaming server and of attach/ws, written from RFC 6455 apart from
// the server's code so the two check each other: the opening handshake (the answer's accept key
// checked), masked frames out, frames in, and Kubernetes' channel messages on top.

import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

export interface WsMessage {
  opcode: number;
  data: Buffer;
}

export interface WsClient {
  /** The subprotocol the server chose ('' for none). */
  protocol: string;
  socket: Socket;
  /** Sends one frame, masked; `opcode` 2 (binary) unless told. */
  send(data: Buffer, opcode?: number): void;
  /** Every message (data and control) until the connection ends, as they come. */
  messages(): AsyncGenerator<WsMessage>;
  /** Resolves with every message once the connection has ended (the close frame included). */
  all(): Promise<WsMessage[]>;
}

export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused: ${status} ${body}`);
  }
}

export function maskedFrame(opcode: number, data: Buffer, fin = true): Buffer {
  const mask = randomBytes(4);
  const n = data.length;
  const head = n < 126 ? Buffer.from([0, 0x80 | n]) : n < 65536 ? Buffer.from([0, 0x80 | 126, n >> 8, n & 255]) : Buffer.alloc(10);
  if (n >= 65536) {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  head[0] = (fin ? 0x80 : 0) | opcode;
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

/** Opens `url` (http://…, over `socketPath` when given) as a WebSocket offering `protocols`. */
export function connectWs(url: string, protocols: string[], o: { socketPath?: string } = {}): Promise<WsClient> {
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = request(url, {
      ...(o.socketPath ? { socketPath: o.socketPath } : {}),
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key,
        ...(protocols.length ? { 'Sec-WebSocket-Protocol': protocols.join(', ') } : {}),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(new UpgradeRefused(res.statusCode ?? 0, body.trim())));
    });
    req.on('upgrade', (res, socket, head) => {
      const want = createHash('sha1')
        .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
        .digest('base64');
      if (res.headers['sec-websocket-accept'] !== want) return reject(new Error('bad Sec-WebSocket-Accept'));
      const queue: WsMessage[] = [];
      let wake: (() => void) | undefined;
      let ended = false;
      let buf = Buffer.alloc(0);
      const receive = (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          if (buf.length < 2) break;
          let len = buf[1] & 0x7f;
          let off = 2;
          if (len === 126) {
            if (buf.length < 4) break;
            len = buf.readUInt16BE(2);
            off = 4;
          } else if (len === 127) {
            if (buf.length < 10) break;
            len = Number(buf.readBigUInt64BE(2));
            off = 10;
          }
          if (buf.length < off + len) break;
          queue.push({ opcode: buf[0] & 0x0f, data: buf.subarray(off, off + len) });
          buf = buf.subarray(off + len);
        }
        wake?.();
      };
      // What came with the 101 answer is the first of the frames.
      receive(head);
      socket.on('data', receive);
      const end = () => {
        ended = true;
        wake?.();
      };
      socket.on('close', end);
      socket.on('error', end);
      async function* messages(): AsyncGenerator<WsMessage> {
        for (;;) {
          while (queue.length) yield queue.shift()!;
          if (ended) return;
          await new Promise<void>((r) => (wake = r));
        }
      }
      const client: WsClient = {
        protocol: String(res.headers['sec-websocket-protocol'] ?? ''),
        socket,
        send: (data, opcode = 2) => socket.write(maskedFrame(opcode, data)),
        messages,
        async all() {
          const out: WsMessage[] = [];
          for await (const m of messages()) out.push(m);
          return out;
        },
      };
      resolve(client);
    });
    req.end();
  });
}

/** Channel messages (binary protocols) of data frames, joined per channel, as text. */
export function byChannel(msgs: WsMessage[]): Record<number, string> {
  const out: Record<number, string> = {};
  for (const m of msgs) if (m.opcode === 2 && m.data.length) out[m.data[0]] = (out[m.data[0]] ?? '') + m.data.subarray(1).toString();
  return out;
}
