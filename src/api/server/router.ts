// A small router: method + path pattern (`/containers/:id/start`) → handler, with the
// `/v1.XX` prefix stripped first. Handlers get one context for plain and hijacked requests.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { invalid, notFound } from '../../errors.js';

export interface Context {
  req: IncomingMessage;
  /** Present for plain requests. */
  res?: ServerResponse;
  /** Present for upgraded (hijacked) requests, with the bytes read past the headers. */
  socket?: Duplex;
  head?: Buffer;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The API version the client asked for (from the path prefix), or undefined. */
  version?: string;
}

export type Handler = (ctx: Context) => Promise<void> | void;

interface Route {
  method: string;
  parts: string[];
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** Finds the handler; throws not-found (or invalid for a bad version prefix). */
  match(
    method: string,
    url: string,
  ): { handler: Handler; params: Record<string, string>; path: string; query: URLSearchParams; version?: string } {
    let u: URL;
    try {
      u = new URL(url, 'http://berth');
    } catch {
      throw invalid(`invalid request path ${JSON.stringify(url)}`);
    }
    let path = u.pathname;
    let version: string | undefined;
    const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
    if (m) {
      version = m[1];
      path = m[2];
    } else if (/^\/v[^/]*\//.test(path) && !this.routes.some((r) => r.parts[0] === path.split('/')[1])) {
      // (`/volumes/…` is a route, not a version)
      throw invalid(`invalid API version in ${path}`);
    }
    const segs = path.split('/').filter(Boolean).map(decodeSegment);
    for (const r of this.routes) {
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const params = matchParts(r.parts, segs);
      if (params) return { handler: r.handler, params, path, query: u.searchParams, version };
    }
    throw notFound(`page not found`);
  }
}

/** A path segment percent-decoded; a malformed escape (`%ff`) is the client's error, a 400. */
function decodeSegment(seg: string): string {
  try {
    return decodeURIComponent(seg);
  } catch {
    throw invalid(`invalid escape in the request path segment "${seg}": not percent-encoded UTF-8`);
  }
}

/** `:name` matches one segment; `:name*` the rest (image names hold slashes). */
function matchParts(parts: string[], segs: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  let i = 0;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p];
    if (part.startsWith(':') && part.endsWith('*')) {
      // Greedy up to the fixed parts that follow.
      const tail = parts.slice(p + 1);
      const n = segs.length - i - tail.length;
      if (n < 1) return undefined;
      params[part.slice(1, -1)] = segs.slice(i, i + n).join('/');
      i += n;
      continue;
    }
    if (i >= segs.length) return undefined;
    if (part.startsWith(':')) params[part.slice(1)] = segs[i];
    else if (part !== segs[i]) return undefined;
    i++;
  }
  return i === segs.length ? params : undefined;
}
