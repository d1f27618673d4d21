// Response helpers shared by the routes: JSON bodies, request bodies, Docker's error shape
// (`{"message": …}` with the status of the error's kind), and streams that work the same on a
// plain response and on a hijacked (upgraded) connection.

import { STATUS_CODES } from 'node:http';
import type { Writable } from 'node:stream';
import { errorMessage, httpStatus, invalid } from '../../errors.js';
import type { GoType } from './body-decode.js';
import { parseBody, readBounded, type BodyOptions } from './body-read.js';
import { BERTH_VERSION } from '../../common/version.js';
import { API_VERSION } from '../version.js';
import type { Context } from './router.js';

export const COMMON_HEADERS: Record<string, string> = {
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: `Berth/${BERTH_VERSION} (linux)`,
};

export function sendJSON(ctx: Context, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body) + '\n';
  if (ctx.res) {
    ctx.res.writeHead(status, {
      ...COMMON_HEADERS,
      ...(text ? { 'Content-Type': 'application/json' } : {}),
      'Content-Length': Buffer.byteLength(text),
    });
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : text);
  } else if (ctx.socket) {
    ctx.socket.end(
      `HTTP/1.1 ${status} ${status < 300 ? 'OK' : 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
}

export function sendEmpty(ctx: Context, status: number): void {
  if (ctx.res) {
    ctx.res.writeHead(status, COMMON_HEADERS);
    ctx.res.end();
  } else sendJSON(ctx, status, undefined);
}

/**
 * The 413 of a body refused part-read. The rest is never read (even reading to drop it costs
 * berthd memory), and the connection is not closed under a client still sending either: closing
 * with unread bytes resets it, and the client sees a broken pipe instead of the answer. So the
 * socket stops reading, the answer and a FIN go out on it (docker's, curl's and node's clients
 * read it while sending), and the socket is destroyed REFUSED_LINGER_MS later.
 */
function refuseUnread(ctx: Context, message: string): void {
  const socket = ctx.req.socket;
  socket.pause();
  const text = JSON.stringify({ message }) + '\n';
  socket.end(
    `HTTP/1.1 413 Request Entity Too Large\r\n${Object.entries(COMMON_HEADERS)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}` + `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
  setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
}
const REFUSED_LINGER_MS = 5000;

/**
 * dockerd's refusal of an attach before its stream: the status, then the error as plain text and
 * the connection closed (its attach route writes it so on the hijacked connection, not as JSON).
 */
export function attachRefused(ctx: Context, err: unknown): void {
  const status = httpStatus(err);
  const text = `${errorMessage(err)}\r\n`;
  if (ctx.socket)
    ctx.socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n${text}`);
  else {
    ctx.res!.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': 'application/vnd.docker.raw-stream', Connection: 'close' });
    ctx.res!.end(text);
  }
}

export function sendError(ctx: Context, err: unknown): void {
  const status = httpStatus(err);
  if (ctx.res?.headersSent) {
    ctx.res.destroy();
    return;
  }
  if (status === 413 && ctx.res && !ctx.req.complete) refuseUnread(ctx, errorMessage(err));
  else sendJSON(ctx, status, { message: errorMessage(err) });
}

/**
 * The request's JSON body decoded as the Go type dockerd declares for it (body-types.ts): bounded
 * in size and depth, every field of its declared type, unknown fields dropped; else a 400 or 413.
 */
export async function readJSON(ctx: Context, type: Extract<GoType, { kind: 'struct' }>, opts?: BodyOptions): Promise<Record<string, any>> {
  checkForJSON(ctx.req);
  return parseBody(type, await readBounded(ctx.req, ctx.req.headers['content-length']), opts);
}

/** `1`, `true`, `True` … as Docker's boolean query values. */
/** Whether the request's API version is older than `than` (`1.44`); a request with none asks for the newest. */
export function apiOlder(version: string | undefined, than: string): boolean {
  if (!version) return false;
  const [a, b] = version.split('.').map(Number);
  const [c, d] = than.split('.').map(Number);
  return a < c || (a === c && b < d);
}

export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  return !['0', 'false', 'False', 'no'].includes(v);
}

/** `h` and `w` of a resize (containers and exec): whole numbers up to 65535, both required, as moby parses them. */
export function resizeDimensions(q: URLSearchParams): [number, number] {
  const [h, w] = ['h', 'w'].map((k) => q.get(k) ?? '');
  if (!/^\d{1,5}$/.test(h) || !/^\d{1,5}$/.test(w) || Number(h) > 0xffff || Number(w) > 0xffff) {
    throw invalid(`invalid resize dimensions h=${JSON.stringify(h)} w=${JSON.stringify(w)}: both must be whole numbers from 0 to 65535`);
  }
  return [Number(h), Number(w)];
}

/**
 * Begins a streamed answer: `101 UPGRADED` on a hijacked connection (Docker's attach), else a
 * 200 response of `contentType`. Returns where to write.
 */
export function beginStream(ctx: Context, contentType: string): Writable {
  if (ctx.socket) {
    ctx.socket.write(
      `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
        Object.entries(COMMON_HEADERS)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('') +
        '\r\n',
    );
    return ctx.socket;
  }
  ctx.res!.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': contentType });
  ctx.res!.flushHeaders();
  return ctx.res!;
}

/**
 * A header that carries base64 (or base64url: Node's decoder takes both) of a JSON document, as
 * X-Registry-Auth and X-Registry-Config do: the parsed value, or undefined when the header is
 * absent. `shape` says what was expected, for the 400.
 */
export function base64JSONHeader(ctx: Context, name: string, shape: string): unknown {
  const h = ctx.req.headers[name.toLowerCase()];
  const raw = Array.isArray(h) ? h[0] : h;
  if (!raw) return undefined;
  try {
    return JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw invalid(`${name}: not ${shape}`);
  }
}

/**
 * moby's CheckForJSON, before any JSON body is read: a body must say it is JSON (a request with
 * neither a body nor a Content-Type passes), else dockerd 28's 400 in its words (20.10's differ).
 */
function checkForJSON(req: Context['req']): void {
  const ct = req.headers['content-type'] ?? '';
  const len = req.headers['content-length'];
  if (!ct && (len === '0' || (len === undefined && req.headers['transfer-encoding'] === undefined))) return;
  const type = ct.split(';')[0].trim().toLowerCase();
  if (!type) throw invalid(`malformed Content-Type header (${ct}): mime: no media type`);
  if (type !== 'application/json') throw invalid(`unsupported Content-Type header (${ct}): must be 'application/json'`);
}
