// A SPDY/3.1 client for the tests of the CRI streaming server, on spdy-transport (a SPDY/HTTP2
// implementation of its own, not berthd's): the HTTP upgrade Kubernetes' clients send
// (X-Stream-Protocol-Version offers), then streams opened with Kubernetes' headers, as kubectl
// and the API server open them. spdy-transport keeps SPDY/3.1's flow control windows.

import { request } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { UpgradeRefused } from './ws-client.js';

interface TransportStream extends Duplex {
  id: number;
  on(event: 'response', listener: (status: number, headers: Record<string, string>) => void): this;
  on(event: string, listener: (...args: any[]) => void): this;
}

interface TransportConnection {
  start(version: number): void;
  request(
    uri: { method: string; path: string; host?: string; headers: Record<string, string> },
    cb: (err: Error | null, s: TransportStream) => void,
  ): TransportStream;
  on(event: string, listener: (...args: any[]) => void): this;
}

const transport = createRequire(import.meta.url)('spdy-transport') as {
  connection: { create(socket: Socket, opts: { protocol: 'spdy'; isServer: boolean }): TransportConnection };
};

export interface SpdyClient {
  /** The X-Stream-Protocol-Version the server chose ('' for none). */
  protocol: string;
  socket: Socket;
  conn: TransportConnection;
  /** Opens a stream with these headers (Kubernetes' names: streamType, port, requestID) and waits for the server's reply. */
  open(headers: Record<string, string>): Promise<TransportStream>;
}

export function connectSpdy(url: string, protocols: string[]): Promise<SpdyClient> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols },
    });
    req.on('upgrade', (res, socket: Socket, head: Buffer) => {
      if (head.length) socket.unshift(head);
      const conn = transport.connection.create(socket, { protocol: 'spdy', isServer: false });
      conn.start(3.1);
      conn.on('error', () => socket.destroy());
      const protocol = String(res.headers['x-stream-protocol-version'] ?? '');
      resolve({
        protocol,
        socket,
        conn,
        open: (headers) =>
          new Promise((ok, fail) => {
            const s = conn.request({ method: 'POST', path: '/', headers }, (err) => err && fail(err));
            s.on('response', () => ok(s));
            s.on('error', fail);
          }),
      });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(Object.assign(new UpgradeRefused(res.statusCode ?? 0, body), { headers: res.headers })));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Everything a stream sends until its FIN (or its reset, or the connection's end). */
export function readAll(s: Duplex): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    const done = () => resolve(Buffer.concat(chunks).toString());
    s.once('end', done);
    s.once('close', done);
    s.once('error', done);
  });
}
