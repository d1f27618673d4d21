// The Engine API client the `berth` CLI uses: JSON requests, streamed responses (logs, pull
// progress) and hijacked connections (attach), over a unix socket or TCP. Errors come back as
// BerthErrors of the kind the status code names, with the daemon's message.

import { request, type IncomingMessage, type RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { BerthError, type ErrorKind } from '../errors.js';

export interface ApiClientOptions {
  /** `unix:///path` or `tcp://host:port`. */
  host: string;
}

const KIND: Record<number, ErrorKind> = { 400: 'invalid', 401: 'unauthorized', 404: 'not-found', 409: 'conflict' };

export class ApiClient {
  private readonly base: RequestOptions;

  constructor(readonly opts: ApiClientOptions) {
    const h = opts.host;
    if (h.startsWith('unix://')) this.base = { socketPath: h.slice(7) };
    else {
      const m = /^(?:tcp|http):\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(h);
      if (!m) throw new BerthError('invalid', `unsupported host ${h}: give unix:///path or tcp://host:port`);
      this.base = { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
    }
  }

  private path(path: string, query?: Record<string, string | number | boolean | undefined>): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (Array.isArray(v)) for (const x of v) q.append(k, String(x));
      else if (v !== undefined) q.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    }
    const s = q.toString();
    return s ? `${path}?${s}` : path;
  }

  /** A body that is a stream (a tar for load or import) is sent as it is, chunked; anything else as JSON. */
  private send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const raw = body instanceof Readable ? body : undefined;
      const data = body === undefined || raw ? undefined : Buffer.from(JSON.stringify(body));
      const req = request({
        ...this.base, method, path,
        headers: { ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}), ...headers },
      }, resolve);
      req.on('error', (e) => reject(this.connectError(e)));
      if (raw) {
        raw.on('error', (e) => req.destroy(e));
        raw.pipe(req);
      } else req.end(data);
    });
  }

  private connectError(e: NodeJS.ErrnoException): Error {
    if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
      return new BerthError('system', `Cannot connect to the berth daemon at ${this.opts.host}. Is berthd running?`);
    }
    return e;
  }

  private async check(res: IncomingMessage): Promise<IncomingMessage> {
    if (res.statusCode! < 400) return res;
    const text = await readAll(res);
    let message = text.toString().trim();
    try { message = JSON.parse(message).message ?? message; } catch { /* plain text */ }
    throw new BerthError(KIND[res.statusCode!] ?? 'system', message);
  }

  /** A request whose JSON answer (or nothing, for 204/304) is returned. */
  async json<T = any>(method: string, path: string, opts: { query?: Record<string, any>; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
    const res = await this.check(await this.send(method, this.path(path, opts.query), opts.body, opts.headers));
    const text = (await readAll(res)).toString();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A request whose answer is read as a stream (logs, pull progress). */
  async stream(method: string, path: string, opts: { query?: Record<string, any>; body?: unknown; headers?: Record<string, string> } = {}): Promise<IncomingMessage> {
    return this.check(await this.send(method, this.path(path, opts.query), opts.body, opts.headers));
  }

  /** A request whose body is a stream (a tar for PUT /archive); the checked answer is returned. */
  upload(method: string, path: string, body: NodeJS.ReadableStream, opts: { query?: Record<string, any>; contentType?: string } = {}): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request({ ...this.base, method, path: this.path(path, opts.query), headers: { 'Content-Type': opts.contentType ?? 'application/x-tar' } },
        (res) => { this.check(res).then(resolve, reject); });
      req.on('error', (e) => reject(this.connectError(e)));
      body.on('error', (e) => req.destroy(e));
      body.pipe(req);
    });
  }

  /** A hijacked connection (attach): after `101 UPGRADED`, the raw socket both ways. */
  hijack(path: string, query?: Record<string, any>, body?: unknown): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request({
        ...this.base, method: 'POST', path: this.path(path, query),
        headers: { Connection: 'Upgrade', Upgrade: 'tcp', ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}) },
      });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => { this.check(res).then(() => reject(new Error('the daemon did not upgrade the connection')), reject); });
      req.on('error', (e) => reject(this.connectError(e)));
      req.end(data);
    });
  }
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
