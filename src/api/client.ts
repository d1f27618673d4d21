// The Engine API client the `berth` CLI uses: JSON requests, streamed responses (logs, pull
// progress) and hijacked connections (attach, exec), over a unix socket or TCP, through the
// small HTTP/1.1 client of http1.ts. Errors come back as BerthErrors of the kind the status
// code names, with the daemon's message.

import type { Socket } from 'node:net';
import { BerthError, type ErrorKind } from '../errors.js';
import { request, type Request, type Response, type Result, type Target } from './http1.js';

export type { Response } from './http1.js';

export interface ApiClientOptions {
  /** `unix:///path` or `tcp://host:port`. */
  host: string;
  /**
   * Called once, when the first connection finds no daemon (no socket file, or refused), before
   * trying again: the CLI starts berthd there. Unset: the error is the caller's.
   */
  onNoDaemon?: () => Promise<void>;
}

const KIND: Record<number, ErrorKind> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  413: 'too-large',
};

/** An error answer of the daemon (status 400 or more), with its message: docker prints these as "Error response from daemon: …". */
export class DaemonError extends BerthError {
  constructor(
    kind: ErrorKind,
    message: string,
    readonly statusCode: number,
  ) {
    super(kind, message);
  }
}

type Query = Record<string, string | number | boolean | string[] | undefined>;
type Body = unknown;

export class ApiClient {
  private readonly target: Target;
  private noDaemon?: Promise<void>;

  constructor(readonly opts: ApiClientOptions) {
    const h = opts.host;
    if (h.startsWith('unix://')) this.target = { path: h.slice(7) };
    else {
      const m = /^(?:tcp|http):\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(h);
      if (!m) throw new BerthError('invalid', `unsupported host ${h}: give unix:///path or tcp://host:port`);
      this.target = { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
    }
  }

  private path(path: string, query?: Query): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (Array.isArray(v)) for (const x of v) q.append(k, String(x));
      else if (v !== undefined) q.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    }
    const s = q.toString();
    return s ? `${path}?${s}` : path;
  }

  private async send(req: Request): Promise<Result> {
    try {
      return await request(this.target, req);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const absent = code === 'ENOENT' || code === 'ECONNREFUSED';
      if (absent && this.opts.onNoDaemon) {
        this.noDaemon ??= this.opts.onNoDaemon();
        await this.noDaemon;
        try {
          return await request(this.target, req);
        } catch (e2) {
          throw this.connectError(e2 as Error);
        }
      }
      throw this.connectError(e as Error);
    }
  }

  private connectError(e: Error): Error {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') {
      return new BerthError('system', `Cannot connect to the berth daemon at ${this.opts.host}. Is berthd running?`);
    }
    return e;
  }

  private static jsonBody(body: Body, headers: Record<string, string> = {}): Pick<Request, 'body' | 'headers'> {
    if (body === undefined) return { headers };
    if (
      Buffer.isBuffer(body) ||
      (typeof body === 'object' && body !== null && typeof (body as NodeJS.ReadableStream).pipe === 'function')
    ) {
      return { body: body as Buffer | NodeJS.ReadableStream, headers: { 'Content-Type': 'application/x-tar', ...headers } };
    }
    return { body: Buffer.from(JSON.stringify(body)), headers: { 'Content-Type': 'application/json', ...headers } };
  }

  private async check(res: Response): Promise<Response> {
    if (res.statusCode < 400) return res;
    const text = await readAll(res);
    let message = text.toString().trim();
    try {
      message = JSON.parse(message).message ?? message;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e; // plain text
    }
    throw new DaemonError(KIND[res.statusCode] ?? 'system', message, res.statusCode);
  }

  private async plain(
    method: string,
    path: string,
    opts: { query?: Query; body?: Body; headers?: Record<string, string> },
  ): Promise<Response> {
    const r = await this.send({ method, path: this.path(path, opts.query), ...ApiClient.jsonBody(opts.body, opts.headers) });
    if (r.upgraded) {
      r.socket.destroy();
      throw new BerthError('system', 'the daemon upgraded a connection it was not asked to');
    }
    return this.check(r.res);
  }

  /** A request whose JSON answer (or nothing, for 204/304) is returned. */
  async json<T = any>(
    method: string,
    path: string,
    opts: { query?: Query; body?: Body; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const text = (await readAll(await this.plain(method, path, opts))).toString();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * A request whose answer is read as a stream (logs, pull progress, archives). A Buffer or
   * stream body is sent as is (`application/x-tar` unless `headers` say otherwise).
   */
  stream(method: string, path: string, opts: { query?: Query; body?: Body; headers?: Record<string, string> } = {}): Promise<Response> {
    return this.plain(method, path, opts);
  }

  /** A request whose body is a stream (a tar for PUT /archive); the checked answer is returned. */
  upload(method: string, path: string, body: NodeJS.ReadableStream, opts: { query?: Query; contentType?: string } = {}): Promise<Response> {
    return this.plain(method, path, { query: opts.query, body, headers: { 'Content-Type': opts.contentType ?? 'application/x-tar' } });
  }

  /** A hijacked connection (attach, exec start): after `101 UPGRADED`, the raw socket both ways. */
  async hijack(path: string, query?: Query, body?: Body): Promise<Socket> {
    const r = await this.send({
      method: 'POST',
      path: this.path(path, query),
      ...ApiClient.jsonBody(body, { Connection: 'Upgrade', Upgrade: 'tcp' }),
    });
    if (r.upgraded) return r.socket;
    await this.check(r.res);
    r.res.destroy();
    throw new BerthError('system', 'the daemon did not upgrade the connection');
  }
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
