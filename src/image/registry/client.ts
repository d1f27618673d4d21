// A client of one registry over the OCI distribution API (Docker registry v2): requests with
// auth (bearer tokens from the WWW-Authenticate challenge, basic from the Docker config file),
// plain HTTP for localhost and listed insecure registries, timeouts, and registry errors turned
// into berth's categories. It knows nothing of the stores: pull.ts and push.ts use it.

import { BerthError, invalid, notFound, systemError, unauthorized } from '../../errors.js';
import type { Digest } from '../../oci/image.js';
import { DEFAULT_DOMAIN } from '../../common/reference.js';
import { credentialsFor, type Credentials } from '../../common/credentials.js';
import { basicHeader, parseChallenges, type Challenge } from './auth.js';

export interface RegistryOptions {
  /** Registries (`host:port`) reached over plain HTTP; localhost and 127.0.0.1 always are. */
  insecure?: string[];
  /**
   * Docker config file with credentials (default `$DOCKER_CONFIG/config.json` or
   * `~/.docker/config.json`); null reads none (berthd: its clients send credentials).
   */
  dockerConfig?: string | null;
  /** Credentials to use instead of the config file's. */
  credentials?: Credentials;
  /** Base URL of a registry host when it differs from its default (tests point `docker.io` at a local registry). */
  endpoints?: Record<string, string>;
  /** Mirrors tried before the registry itself for pulls, per registry host (dockerd: `docker.io`'s only). */
  mirrors?: Record<string, string[]>;
  /** Milliseconds to wait for a response's headers (default 30 s). */
  timeoutMs?: number;
  /** Milliseconds a body may go without data before the transfer is abandoned (default 60 s). */
  idleTimeoutMs?: number;
}

export type Scope = 'pull' | 'pull,push';

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: Uint8Array | AsyncIterable<Uint8Array>;
  scope?: Scope;
  /** Extra repositories the token must cover for pull (cross-repository mount). */
  extraPull?: string[];
  /** Status codes that are not errors (others throw). Default: 2xx. */
  ok?: number[];
  /** What the request is for, for error messages (`manifest for x:y`). */
  what?: string;
  /** Absolute URL instead of `/v2/<repo><path>` (upload locations). */
  url?: string;
  noTimeout?: boolean;
}

/** Docker Hub's registry endpoint, where dockerd pulls and pushes `docker.io` names (moby's DefaultV2Registry). */
export const DOCKER_HUB_ENDPOINT = 'https://registry-1.docker.io';

const isLocal = (host: string) => /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);

export class RegistryClient {
  readonly host: string;
  readonly opts: RegistryOptions;
  private readonly tokens = new Map<string, string>();
  private basic: string | undefined;
  private creds: Promise<Credentials | undefined> | undefined;
  private refreshToken: string | undefined;
  /** Base URL in use (a mirror or the registry). */
  base: string;

  constructor(host: string, opts: RegistryOptions = {}, base?: string) {
    this.host = host;
    this.opts = opts;
    this.base = base ?? RegistryClient.endpoint(host, opts);
  }

  static endpoint(host: string, opts: RegistryOptions): string {
    const e = opts.endpoints?.[host];
    if (e) return e.replace(/\/+$/, '');
    // `docker.io` is a name, not a host that serves the API: Docker Hub answers on registry-1.
    if (host === DEFAULT_DOMAIN) return DOCKER_HUB_ENDPOINT;
    const scheme = isLocal(host) || opts.insecure?.includes(host) ? 'http' : 'https';
    return `${scheme}://${host}`;
  }

  /** Clients to try in order for pulls: mirrors first, then the registry, as dockerd's lookupV2Endpoints. */
  static forPull(host: string, opts: RegistryOptions): RegistryClient[] {
    const out = (opts.mirrors?.[host] ?? []).map((m) => new RegistryClient(host, opts, m.replace(/\/+$/, '')));
    out.push(new RegistryClient(host, opts));
    return out;
  }

  private credentials(): Promise<Credentials | undefined> {
    this.creds ??=
      this.opts.credentials || this.opts.dockerConfig === null
        ? Promise.resolve(this.opts.credentials)
        : credentialsFor(this.host, this.opts.dockerConfig);
    return this.creds;
  }

  private scopeKey(repo: string, scope: Scope, extra: string[] = []): string {
    return [`repository:${repo}:${scope}`, ...extra.map((r) => `repository:${r}:pull`)].join(' ');
  }

  /** Makes a request to the registry, authenticating when challenged. */
  async request(method: string, repo: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const url = o.url ?? `${this.base}/v2/${repo}${path}`;
    const scope = this.scopeKey(repo, o.scope ?? 'pull', o.extraPull);
    const replayable = !(o.body && !(o.body instanceof Uint8Array));
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...o.headers };
      const token = this.tokens.get(scope);
      if (token) headers.authorization = `Bearer ${token}`;
      else if (this.basic) headers.authorization = this.basic;
      const res = await this.fetch(url, method, headers, o.body, o.what ?? `${method} ${url}`, o.noTimeout);
      if (res.status === 401 && attempt === 0 && replayable) {
        const ch = parseChallenges(res.headers.get('www-authenticate'));
        await discard(res.body);
        if (await this.authenticate(ch, scope)) continue;
      }
      if (o.ok ? o.ok.includes(res.status) : res.status >= 200 && res.status < 300) return res;
      throw await this.error(res, o.what ?? `${method} ${url}`);
    }
  }

  private async authenticate(challenges: ReturnType<typeof parseChallenges>, scope: string): Promise<boolean> {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const creds = await this.credentials();
    if (bearer) {
      this.tokens.set(scope, await this.token(bearer, scope, creds));
      return true;
    }
    if (challenges.some((c) => c.scheme === 'basic') && creds) {
      this.basic = basicHeader(creds);
      return true;
    }
    return false;
  }

  /**
   * A bearer token from the challenge's realm for `scope` (none for a login): a GET with basic
   * credentials, or with an identity token the OAuth2 refresh-token POST Docker makes.
   */
  private async token(bearer: Challenge, scope: string, creds: Credentials | undefined, login = false): Promise<string> {
    const realm = bearer.params.realm;
    if (!realm) throw invalid(`registry ${this.host}: bearer challenge without realm`);
    const u = new URL(realm);
    const scopes = scope.split(' ').filter(Boolean);
    let res: Response;
    if (creds?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'berth' });
      if (bearer.params.service) form.set('service', bearer.params.service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await this.fetch(
        u.toString(),
        'POST',
        { 'content-type': 'application/x-www-form-urlencoded' },
        Buffer.from(form.toString()),
        `token from ${u.origin}`,
      );
    } else {
      if (bearer.params.service) u.searchParams.set('service', bearer.params.service);
      for (const s of scopes) u.searchParams.append('scope', s);
      if (login) {
        u.searchParams.set('offline_token', 'true');
        u.searchParams.set('client_id', 'berth');
      }
      const headers: Record<string, string> = {};
      if (creds) headers.authorization = basicHeader(creds);
      res = await this.fetch(u.toString(), 'GET', headers, undefined, `token from ${u.origin}`);
    }
    if (res.status === 401 || res.status === 403) {
      await discard(res.body);
      const who = creds ? `credentials of ${creds.username || 'the identity token'}` : 'anonymous access';
      if (login) throw unauthorized(`login to ${this.host}: the token server refused ${who}: ${res.status} ${res.statusText}`);
      throw invalid(`registry ${this.host}: token server refused ${who} for ${scope}; run docker login ${this.host}`);
    }
    if (!res.ok) throw await this.error(res, `token from ${u.origin}`);
    const body = (await res.json()) as { token?: string; access_token?: string; refresh_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw invalid(`registry ${this.host}: token server answered without a token`);
    if (login) this.refreshToken = body.refresh_token;
    return token;
  }

  /**
   * A GET of a URL outside `/v2/` (the v1 search): with basic credentials from the start when
   * the caller has a password, as dockerd's v1 transport sends them, or with a bearer token for
   * `scope` when the server challenges for one. Any status is returned; the caller reads it.
   */
  async getWithAuth(url: string, scope: string, what: string): Promise<Response> {
    const creds = await this.credentials();
    const headers: Record<string, string> = creds?.password ? { authorization: basicHeader(creds) } : {};
    const res = await this.fetch(url, 'GET', headers, undefined, what);
    const bearer = res.status === 401 ? parseChallenges(res.headers.get('www-authenticate')).find((c) => c.scheme === 'bearer') : undefined;
    if (!bearer) return res;
    await discard(res.body);
    return this.fetch(url, 'GET', { authorization: `Bearer ${await this.token(bearer, scope, creds)}` }, undefined, what);
  }

  /**
   * `docker login`: checks the credentials against the registry's `/v2/` (through its token
   * server when it names one). Returns the identity (refresh) token the token server gave, if
   * any. Refused credentials are an `unauthorized` error with Docker's words.
   */
  async login(): Promise<{ identityToken?: string }> {
    const url = `${this.base}/v2/`;
    const what = `login to ${this.host}`;
    const probe = async (headers: Record<string, string>) => {
      const res = await this.fetch(url, 'GET', headers, undefined, what);
      await discard(res.body);
      return res;
    };
    let res = await probe({});
    if (res.status === 401) {
      const challenges = parseChallenges(res.headers.get('www-authenticate'));
      const creds = await this.credentials();
      const bearer = challenges.find((c) => c.scheme === 'bearer');
      if (bearer) res = await probe({ authorization: `Bearer ${await this.token(bearer, '', creds, true)}` });
      else if (creds) res = await probe({ authorization: basicHeader(creds) });
    }
    if (res.status === 200) return { identityToken: this.refreshToken };
    const message = `login attempt to ${url} failed with status: ${res.status} ${res.statusText}`;
    if (res.status === 401) throw unauthorized(message);
    throw systemError(message);
  }

  /**
   * One HTTP request. The response's headers must come within `timeoutMs`; for a streamed body
   * that clock starts once the body is sent, and while sending, a registry that takes no data
   * for `idleTimeoutMs` is given up on.
   */
  private async fetch(
    url: string,
    method: string,
    headers: Record<string, string>,
    body: RequestOptions['body'],
    what: string,
    noTimeout = false,
  ): Promise<Response> {
    const ac = new AbortController();
    const ms = this.opts.timeoutMs ?? 30_000;
    const idleMs = this.opts.idleTimeoutMs ?? 60_000;
    let why = `did not answer within ${ms} ms`;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const arm = (t: number, reason: string) => {
      // A streamed body may report its end after the answer came: no clock is left running then.
      if (noTimeout || settled) return;
      clearTimeout(timer);
      why = reason;
      timer = setTimeout(() => ac.abort(), t);
    };
    const streamed = body !== undefined && !(body instanceof Uint8Array);
    if (streamed) arm(idleMs, `took no data for ${idleMs} ms`);
    else arm(ms, `did not answer within ${ms} ms`);
    try {
      const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: ac.signal, redirect: 'follow' };
      if (body) {
        init.body = (body instanceof Uint8Array
          ? body
          : asReadableStream(body, {
              onPull: () => arm(idleMs, `took no data for ${idleMs} ms`),
              onEnd: () => arm(ms, `did not answer within ${ms} ms of the upload's end`),
            })) as unknown as BodyInit;
        if (streamed) init.duplex = 'half';
      }
      return await fetch(url, init);
    } catch (e) {
      if (ac.signal.aborted) throw systemError(`${what}: registry ${this.host} ${why}`, e);
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw systemError(`${what}: cannot reach registry ${this.host}: ${cause?.code ?? cause?.message ?? (e as Error).message}`, e);
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }

  /** Turns a failed response into a BerthError with the registry's own message. */
  async error(res: Response, what: string): Promise<BerthError> {
    let detail = '';
    try {
      const text = await res.text();
      try {
        const j = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
        detail = (j.errors ?? []).map((e) => `${e.code ?? ''}: ${e.message ?? ''}`).join('; ');
      } catch {
        detail = text.slice(0, 200).trim();
      }
    } catch {
      /* no body */
    }
    const tail = detail ? ` (${detail})` : '';
    switch (res.status) {
      case 401:
        return invalid(`${what}: unauthorized: authentication required by ${this.host}${tail}; run docker login ${this.host}`);
      case 403:
        return invalid(`${what}: denied by ${this.host}${tail}`);
      case 404:
        return notFound(`${what}: not found on ${this.host}${tail}`);
      case 400:
      case 405:
      case 416:
        return invalid(`${what}: registry ${this.host} answered ${res.status}${tail}`);
      default:
        return systemError(`${what}: registry ${this.host} answered ${res.status} ${res.statusText}${tail}`);
    }
  }

  /**
   * A blob's bytes from `offset` on, with an idle timeout. Uses `Range` when offset > 0; when
   * the registry ignores it (200), skips the bytes already held.
   */
  async *blob(repo: string, digest: Digest, offset = 0): AsyncGenerator<Uint8Array> {
    const headers: Record<string, string> = {};
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const res = await this.request('GET', repo, `/blobs/${digest}`, { headers, what: `blob ${digest} of ${repo}`, ok: [200, 206] });
    let skip = offset > 0 && res.status === 200 ? offset : 0;
    yield* idle(
      res,
      this.opts.idleTimeoutMs ?? 60_000,
      `blob ${digest} of ${this.host}/${repo}`,
      skip
        ? (c) => {
            if (skip >= c.length) {
              skip -= c.length;
              return undefined;
            }
            const r = c.subarray(skip);
            skip = 0;
            return r;
          }
        : undefined,
    );
  }
}

/** Bytes `start`..`end` (inclusive) of a blob; the registry must answer 206 with that range. */
export async function* blobRange(
  client: RegistryClient,
  repo: string,
  digest: Digest,
  start: number,
  end: number,
): AsyncGenerator<Uint8Array> {
  const res = await client.request('GET', repo, `/blobs/${digest}`, {
    headers: { range: `bytes=${start}-${end}` },
    what: `blob ${digest} of ${repo}`,
    ok: [206],
  });
  const cr = res.headers.get('content-range');
  if (cr && !cr.startsWith(`bytes ${start}-${end}/`)) {
    await discard(res.body);
    throw invalid(`blob ${digest}: asked bytes ${start}-${end}, registry ${client.host} sent ${cr}`);
  }
  yield* idle(res, client.opts.idleTimeoutMs ?? 60_000, `blob ${digest} of ${client.host}/${repo}`);
}

/** True when the registry serves byte ranges of this blob (a 1-byte probe answered 206). */
export async function supportsRanges(client: RegistryClient, repo: string, digest: Digest): Promise<boolean> {
  const res = await client.request('GET', repo, `/blobs/${digest}`, {
    headers: { range: 'bytes=0-0' },
    what: `blob ${digest} of ${repo}`,
    ok: [200, 206],
  });
  await discard(res.body);
  return res.status === 206;
}

async function* idle(res: Response, ms: number, what: string, map?: (c: Uint8Array) => Uint8Array | undefined): AsyncGenerator<Uint8Array> {
  if (!res.body) return;
  const reader = res.body.getReader();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(systemError(`${what}: no data for ${ms} ms, transfer abandoned`)), ms);
      });
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await Promise.race([reader.read(), timeout]);
      } catch (e) {
        if (e instanceof BerthError) throw e;
        throw systemError(`${what}: transfer broken: ${(e as Error).message}`, e);
      } finally {
        clearTimeout(timer);
      }
      if (r.done) return;
      const v = map ? map(r.value) : r.value;
      if (v && v.length) yield v;
    }
  } finally {
    await discard(reader);
  }
}

function asReadableStream(
  src: AsyncIterable<Uint8Array>,
  hooks: { onPull?: () => void; onEnd?: () => void } = {},
): ReadableStream<Uint8Array> {
  const it = src[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      hooks.onPull?.();
      const n = await it.next();
      if (n.done) {
        hooks.onEnd?.();
        controller.close();
      } else controller.enqueue(n.value);
    },
    async cancel() {
      await it.return?.();
    },
  });
}

/**
 * Drops a response body (or its reader) that berth does not read, so that undici may reuse the
 * connection. Cancelling fails only when the connection is already broken; undici reports that
 * on the next request that would have used it, so there is nothing to do with it here.
 */
export async function discard(stream: { cancel(): Promise<void> } | null | undefined): Promise<void> {
  try {
    await stream?.cancel();
  } catch {
    /* a broken connection: see above */
  }
}
