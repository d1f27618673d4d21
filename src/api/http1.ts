// A small HTTP/1.1 client over node:net, for the CLI: node:http and what it pulls in cost the
// `berth` command more start-up time than the rest of its bundle. One request per connection:
// a body by Content-Length (Buffer) or chunked (stream); answers delimited by Content-Length,
// chunked coding or the close; `101` upgrades (hijack) hand back the socket with the bytes read
// past the headers put back. Nothing else of HTTP (no redirects, no keep-alive pool, no TLS).

import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';

/** Where to connect: a unix socket path, or a TCP host and port. */
export type Target = { path: string } | { host: string; port: number };

export interface Request {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** A Buffer goes with Content-Length, a stream chunked. */
  body?: Buffer | NodeJS.ReadableStream;
}

/** An answer's body, readable as a stream, with the status and headers (names lower-case). */
export class Response extends Readable {
  constructor(
    readonly statusCode: number,
    readonly statusMessage: string,
    readonly headers: Record<string, string>,
    private readonly socket: Socket,
  ) {
    super();
  }

  override _read(): void {
    this.socket.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}

/** What a request resolves to: an answer, or (status 101) the upgraded socket. */
export type Result =
  { upgraded: false; res: Response } | { upgraded: true; statusCode: 101; headers: Record<string, string>; socket: Socket };

const MAX_HEAD = 64 * 1024;

/** Sends one request on a new connection; rejects on connection errors (with the errno's code). */
export function request(target: Target, req: Request): Promise<Result> {
  return new Promise((resolve, reject) => {
    const socket = 'path' in target ? connect(target.path) : connect(target.port, target.host);
    const host = 'path' in target ? 'localhost' : `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
    const headers: Record<string, string> = { Host: host, 'User-Agent': 'berth', ...req.headers };
    const body = req.body;
    if (Buffer.isBuffer(body)) headers['Content-Length'] = String(body.length);
    else if (body) headers['Transfer-Encoding'] = 'chunked';
    else if (req.method === 'POST' || req.method === 'PUT') headers['Content-Length'] = '0';
    let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    socket.write(head + '\r\n');
    if (Buffer.isBuffer(body)) {
      if (body.length) socket.write(body);
    } else if (body) {
      // A streamed body (a tar on stdin) is read only once connected: a request that finds no
      // daemon is sent again after autostart, and its body must still be unread then.
      socket.once('connect', () => pipeChunked(body, socket));
    }

    let buf: Buffer = Buffer.alloc(0);
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_HEAD) fail(new Error('the daemon sent an HTTP head too large'));
        return;
      }
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0]);
      if (!m) return fail(new Error(`the daemon sent a malformed HTTP answer: ${JSON.stringify(lines[0].slice(0, 80))}`));
      const status = Number(m[1]);
      // 1xx answers other than 101 (100 Continue) come before the real one.
      if (status >= 100 && status < 200 && status !== 101) {
        buf = buf.subarray(end + 4);
        if (buf.length) onData(Buffer.alloc(0));
        return;
      }
      const hdrs: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        if (c > 0) {
          const k = l.slice(0, c).trim().toLowerCase();
          const v = l.slice(c + 1).trim();
          hdrs[k] = k in hdrs ? `${hdrs[k]}, ${v}` : v;
        }
      }
      const rest = buf.subarray(end + 4);
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('close', onEarlyClose);
      settled = true;
      if (status === 101) {
        // As node's own upgrade: paused, the extra bytes put back, and the flow left to whoever
        // reads next (a 'data' listener or a pipe starts it).
        socket.pause();
        if (rest.length) socket.unshift(rest);
        (socket as { readableFlowing: boolean | null }).readableFlowing = null;
        resolve({ upgraded: true, statusCode: 101, headers: hdrs, socket });
        return;
      }
      const res = new Response(status, m[2], hdrs, socket);
      resolve({ upgraded: false, res });
      readBody(socket, res, req.method === 'HEAD' || status === 204 || status === 304 ? 0 : hdrs, rest);
    };
    const onEarlyClose = () => fail(new Error('the daemon closed the connection before answering'));
    socket.on('data', onData);
    socket.on('error', fail);
    socket.on('close', onEarlyClose);
  });
}

/** Feeds the body into `res` by its framing: a fixed length (0 for none), chunked, or up to the close. */
function readBody(socket: Socket, res: Response, framing: Record<string, string> | 0, first: Buffer): void {
  const done = () => {
    socket.removeAllListeners('data');
    socket.destroy();
    res.push(null);
  };
  const deliver = (b: Buffer) => {
    if (b.length && !res.push(b)) socket.pause();
  };
  socket.on('error', (e) => res.destroy(e));
  const chunked = framing !== 0 && /\bchunked\b/i.test(framing['transfer-encoding'] ?? '');
  const length = framing === 0 ? 0 : framing['content-length'] !== undefined && !chunked ? Number(framing['content-length']) : undefined;

  if (length !== undefined) {
    let left = length;
    const take = (c: Buffer) => {
      const b = c.subarray(0, left);
      left -= b.length;
      deliver(b);
      if (left === 0) done();
    };
    socket.on('close', () => {
      if (left > 0) res.destroy(new Error('the daemon closed the connection in the middle of an answer'));
    });
    if (left === 0) return done();
    socket.on('data', take);
    if (first.length) take(first);
    return;
  }
  if (!chunked) {
    socket.on('data', deliver);
    socket.on('end', () => res.push(null));
    socket.on('close', () => res.push(null));
    if (first.length) deliver(first);
    return;
  }
  // Chunked: size line, data, CRLF; a zero size ends (trailers skipped up to the blank line).
  let buf: Buffer = Buffer.alloc(0);
  let need = -1; // bytes of chunk data still to come; -1: a size line is next; -2: trailers
  let finished = false;
  const parse = (c: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, c]) : c;
    for (;;) {
      if (need === -1) {
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const size = parseInt(buf.subarray(0, nl).toString('latin1'), 16);
        if (Number.isNaN(size)) return res.destroy(new Error('the daemon sent a malformed chunked answer'));
        buf = buf.subarray(nl + 2);
        need = size === 0 ? -2 : size + 2;
      } else if (need === -2) {
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.subarray(0, nl);
        buf = buf.subarray(nl + 2);
        if (line.length === 0) {
          finished = true;
          return done();
        }
      } else {
        if (!buf.length) return;
        const take = Math.min(need, buf.length);
        // The last two bytes of a chunk are its CRLF, not data.
        const dataEnd = Math.max(0, Math.min(take, need - 2));
        deliver(buf.subarray(0, dataEnd));
        buf = buf.subarray(take);
        need -= take;
        if (need === 0) need = -1;
      }
    }
  };
  socket.on('close', () => {
    if (!finished) res.destroy(new Error('the daemon closed the connection in the middle of an answer'));
  });
  socket.on('data', parse);
  if (first.length) parse(first);
}

/** Sends `body` as HTTP/1.1 chunks, pausing it while the socket's buffer is full. */
function pipeChunked(body: NodeJS.ReadableStream, socket: Socket): void {
  body.on('data', (c: Buffer | string) => {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    if (!b.length) return;
    socket.write(`${b.length.toString(16)}\r\n`);
    socket.write(b);
    if (!socket.write('\r\n')) {
      body.pause();
      socket.once('drain', () => body.resume());
    }
  });
  body.once('end', () => socket.write('0\r\n\r\n'));
  body.once('error', (e) => socket.destroy(e as Error));
}
