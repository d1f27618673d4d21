// POST /build, the classic builder's endpoint (what `docker build` without buildx and client
// libraries' build() call): every query parameter of the Engine API applied or refused in
// dockerd's words, the context (the request body as a tar, plain or compressed, or `remote=` a
// URL) unpacked by the engine into a directory of its own and removed when the build ends,
// whatever the end (a client that goes away cancels the build), and the build's events written
// as dockerd writes them: `{"stream": "Step 1/5 : FROM …"}`, ` ---> Using cache`, ` ---> <id>`,
// `{"aux": {"ID": …}}`, `Successfully built/tagged`, and a failure as the last message
// (`errorDetail` with a RUN step's exit code). `POST /build/cancel` stops a build by its
// `buildid`. BuildKit (`version=2`, `/session`) is refused as dockerd without it refuses it.

import { StringDecoder } from 'node:string_decoder';
import { familiarString, parseReference } from '../../common/reference.js';
import type { Credentials } from '../../common/credentials.js';
import { BerthError, errorMessage, invalid, unsupported } from '../../errors.js';
import {
  DEFAULT_DOCKERFILE,
  remoteKind,
  type BuildContext,
  type BuildEvent,
  type BuildRequest,
  type Engine,
  type StepResources,
} from '../../engine/index.js';
import { credentialsOf, type AuthConfig } from './auth.js';
import { decodeBody } from './body-decode.js';
import { AuthConfig as AuthConfigBody } from './body-types.js';
import { COMMON_HEADERS, apiOlder, base64JSONHeader, boolParam, sendError, sendJSON } from './http.js';
import type { Context, Router } from './router.js';

/** The query parameters of POST /build that limit each RUN step's container, by their HostConfig names. */
const RESOURCE_INTS = {
  memory: 'Memory',
  memswap: 'MemorySwap',
  cpushares: 'CpuShares',
  cpuperiod: 'CpuPeriod',
  cpuquota: 'CpuQuota',
  shmsize: 'ShmSize',
} as const;
const RESOURCE_STRINGS = { cpusetcpus: 'CpusetCpus', cpusetmems: 'CpusetMems', cgroupparent: 'CgroupParent' } as const;

/** What the route reads from the query, beside the builder's request. */
interface BuildQuery {
  request: Omit<BuildRequest, 'contextDir' | 'contextIndex' | 'dockerfile' | 'signal'>;
  dockerfile: string;
  remote?: string;
  quiet: boolean;
  buildId?: string;
}

/** A JSON query value, or dockerd's "error reading …" 400. */
function jsonParam<T>(q: URLSearchParams, name: string, what: string, check: (v: unknown) => v is T): T | undefined {
  const raw = q.get(name);
  if (!raw) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw invalid(`error reading ${what}: ${errorMessage(e)}`);
  }
  if (!check(v)) throw invalid(`error reading ${what}: ${JSON.stringify(raw)} is not ${typeName(name)}`);
  return v;
}

const typeName = (param: string) =>
  ({
    buildargs: 'a JSON object of strings (or null)',
    labels: 'a JSON object of strings',
    cachefrom: 'a JSON array of strings',
    ulimits: 'a JSON array of ulimits (Name, Soft, Hard)',
    outputs: 'a JSON array of outputs',
  })[param] ?? 'valid';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringMap = (v: unknown): v is Record<string, string> => isObject(v) && Object.values(v).every((x) => typeof x === 'string');
const isArgMap = (v: unknown): v is Record<string, string | null> =>
  isObject(v) && Object.values(v).every((x) => typeof x === 'string' || x === null);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isObjects = (v: unknown): v is Record<string, unknown>[] => Array.isArray(v) && v.every(isObject);
const isUlimits = (v: unknown): v is NonNullable<StepResources['Ulimits']> =>
  Array.isArray(v) &&
  v.every((u) => isObject(u) && typeof u.Name === 'string' && Number.isInteger(u.Soft ?? 0) && Number.isInteger(u.Hard ?? 0));

/** A whole number (Go's ParseInt), or a 400 naming the parameter. */
function intParam(q: URLSearchParams, name: string): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return 0;
  if (!/^[-+]?\d+$/.test(raw)) throw invalid(`invalid value for ${name}: strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`);
  return Number(raw);
}

/** `name:ip` (or docker 28's `name=ip`) of --add-host; anything else refused in dockerd's words. */
function extraHost(h: string): string {
  const m = /^([^:=\s]+)[:=](\S+)$/.exec(h);
  if (!m) throw invalid(`bad format for add-host: ${JSON.stringify(h)}`);
  return `${m[1]}:${m[2].replace(/^\[(.*)\]$/, '$1')}`;
}

/** A registry key of `X-Registry-Config` (`https://index.docker.io/v1/`, `localhost:5000`) as a reference's domain. */
function registryHost(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return ['index.docker.io', 'registry-1.docker.io', 'docker.io', ''].includes(host) ? 'docker.io' : host;
}

/** `X-Registry-Config`: base64url of a JSON map of registry → AuthConfig (the docker CLI sends every login it has). */
function registryConfig(ctx: Context): Record<string, Credentials> | undefined {
  const parsed = base64JSONHeader(ctx, 'X-Registry-Config', 'base64 of a JSON object of AuthConfig by registry');
  if (parsed === undefined) return undefined;
  if (!isObject(parsed)) throw invalid('X-Registry-Config: not base64 of a JSON object of AuthConfig by registry');
  const out: Record<string, Credentials> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!isObject(value)) throw invalid(`X-Registry-Config: the entry for ${JSON.stringify(key)} is not an AuthConfig`);
    const creds = credentialsOf(decodeBody(AuthConfigBody, value) as AuthConfig);
    if (creds) out[registryHost(key)] = creds;
  }
  return out;
}

/** The most bytes of one secret (BuildKit's limit). */
const MAX_SECRET = 500 * 1024;

/**
 * `X-Berth-Build-Secrets` (berth's own, from `berth build --secret`): base64url of a JSON object
 * of secret id → base64 of its bytes. A header, so that a secret is never in the context on
 * disk nor in the query berthd logs; the builder holds it in memory and mounts it for the RUN
 * steps that ask for it (`RUN --mount=type=secret`), never in a layer or the history.
 */
function buildSecrets(ctx: Context): BuildRequest['secrets'] {
  const parsed = base64JSONHeader(ctx, 'X-Berth-Build-Secrets', 'base64url of a JSON object of secret id → base64 bytes');
  if (parsed === undefined) return {};
  if (!isStringMap(parsed)) throw invalid('X-Berth-Build-Secrets: not base64url of a JSON object of secret id → base64 bytes');
  const out: BuildRequest['secrets'] = {};
  for (const [id, b64] of Object.entries(parsed)) {
    const data = Buffer.from(b64, 'base64');
    if (data.length > MAX_SECRET) throw invalid(`secret ${id} is larger than ${MAX_SECRET} bytes`);
    out[id] = { data };
  }
  return out;
}

/** Reads and checks every query parameter of POST /build (dockerd's `newImageBuildOptions`, then what berth refuses). */
export function buildQuery(q: URLSearchParams): BuildQuery {
  // BuildKit is a builder berthd does not have: dockerd's answer when it is disabled.
  const version = q.get('version') ?? '';
  if (version === '2') throw invalid('buildkit is not enabled on daemon');
  if (version !== '' && version !== '1') throw invalid(`invalid version ${JSON.stringify(version)}`);
  if (q.get('session')) throw invalid('berthd has no BuildKit session endpoint: a build with session= is not supported');
  if (q.getAll('securityopt').length) throw invalid('The daemon on this platform does not support setting security options on build');
  const isolation = q.get('isolation') ?? '';
  if (isolation && isolation !== 'default') throw invalid(`Unsupported isolation: ${JSON.stringify(isolation)}`);
  if (boolParam(q, 'squash')) throw invalid('squash is only supported with experimental mode');
  // A step's container is always removed; keeping them (rm=0) is not something berth does.
  const rm = q.get('rm');
  if (rm !== null && rm !== '' && !boolParam(q, 'rm'))
    throw unsupported("berthd removes each build step's container when the step ends: rm=0 (keep them) is not supported");

  // The RUN steps' limits, checked by the engine at each step's create as dockerd's are.
  const resources: StepResources = {};
  for (const [p, field] of Object.entries(RESOURCE_INTS)) {
    const v = intParam(q, p);
    if (v !== 0) resources[field] = v;
  }
  for (const [p, field] of Object.entries(RESOURCE_STRINGS)) {
    const v = q.get(p);
    if (v) resources[field] = v;
  }
  const ulimits = jsonParam(q, 'ulimits', 'ulimit settings', isUlimits);
  if (ulimits?.length) resources.Ulimits = ulimits.map((u) => ({ Name: u.Name, Soft: u.Soft ?? 0, Hard: u.Hard ?? 0 }));
  // The classic builder's one output is an image in the daemon's store; BuildKit's exporters are refused.
  const outputs = jsonParam(q, 'outputs', 'outputs', isObjects);
  for (const o of outputs ?? []) {
    if (o.Type !== 'moby' || (o.Attrs && isObject(o.Attrs) && Object.keys(o.Attrs).length))
      throw unsupported(`build output ${JSON.stringify(o)} is not supported: berthd's builder makes an image in its own store only`);
  }

  const tags: string[] = [];
  for (const t of q.getAll('t').filter(Boolean)) {
    const ref = parseReference(t);
    if (ref.digest) throw invalid('build tag cannot contain a digest');
    const name = `${ref.domain}/${ref.path}:${ref.tag}`;
    if (!tags.includes(name)) tags.push(name);
  }
  // Any mode a container takes, `container:<name>` too: each RUN step's container is created with it.
  const network = q.get('networkmode') || 'default';
  const platform = q.get('platform')?.toLowerCase() || undefined;
  if (platform !== undefined && !/^[a-z0-9_.-]+(\/[a-z0-9_.-]+){0,2}$/.test(platform))
    throw invalid(`${JSON.stringify(platform)}: cannot parse platform specifier: invalid argument`);
  const buildArgs = jsonParam(q, 'buildargs', 'build args', isArgMap) ?? {};
  const labels = jsonParam(q, 'labels', 'labels', isStringMap) ?? {};
  const cacheFrom = jsonParam(q, 'cachefrom', 'cache-from', isStrings) ?? [];
  const extraHosts = q.getAll('extrahosts').filter(Boolean).map(extraHost);
  const remote = q.get('remote') || undefined;
  if (remote) remoteKind(remote);
  return {
    request: {
      tags,
      target: q.get('target') || undefined,
      buildArgs,
      labels,
      noCache: boolParam(q, 'nocache'),
      pull: boolParam(q, 'pull'),
      cacheFrom,
      network,
      platform,
      secrets: {},
      ...(extraHosts.length ? { extraHosts } : {}),
      ...(Object.keys(resources).length ? { resources } : {}),
    },
    dockerfile: q.get('dockerfile') || DEFAULT_DOCKERFILE,
    remote,
    quiet: boolParam(q, 'q'),
    buildId: q.get('buildid') || undefined,
  };
}

const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
const familiar = (name: string) => familiarString(parseReference(name));

/** A build's answer: Docker's JSON messages, held back whole under `q=1` (dockerd shows them only on a failure). */
function buildOutput(ctx: Context, quiet: boolean) {
  const res = ctx.res!;
  const held: unknown[] = [];
  const send = (msg: unknown) => {
    if (!res.headersSent) res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json' });
    res.write(JSON.stringify(msg) + '\r\n');
  };
  return {
    write(msg: unknown) {
      if (quiet) held.push(msg);
      else send(msg);
    },
    /** Written even under `q=1`: the image ID. */
    always(msg: unknown) {
      send(msg);
    },
    end() {
      if (!res.headersSent) res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json' });
      res.end();
    },
    fail(err: unknown) {
      for (const m of held) send(m);
      // Nothing written yet: the status code says it (a Dockerfile that does not parse is a 400).
      if (!res.headersSent) return sendError(ctx, err);
      const message = errorMessage(err);
      const code = (err as { exitCode?: unknown }).exitCode;
      const errorDetail = typeof code === 'number' ? { code, message } : { message };
      res.end(JSON.stringify({ errorDetail, error: message }) + '\r\n');
    },
  };
}

/**
 * The build's events as the classic builder's lines, one step's block at a time: independent
 * stages run side by side, but the classic builder's output (which the docker CLI and berth's
 * progress read) puts each ` ---> Using cache`, output and ` ---> ID` right under its own
 * `Step N/M` line. The first step begun is written as it goes; the others' lines are held until
 * it is done, then the next begun is written. `flush` writes whatever is held (a failed build).
 */
export function eventWriter(write: (msg: unknown) => void): { onEvent: (e: BuildEvent) => void; flush: () => void } {
  // A step's output may split a character between chunks: one decoder per step.
  const decoders = new Map<string, StringDecoder>();
  const held = new Map<number, { msgs: unknown[]; done: boolean }>();
  const waiting: number[] = [];
  let current: number | undefined;
  const emit = (index: number, msg: unknown) => {
    const block = held.get(index);
    if (index === current || !block) write(msg);
    else block.msgs.push(msg);
  };
  const next = () => {
    while (current === undefined && waiting.length) {
      const index = waiting.shift()!;
      const block = held.get(index)!;
      for (const m of block.msgs) write(m);
      block.msgs = [];
      if (block.done) held.delete(index);
      else current = index;
    }
  };
  const onEvent = (e: BuildEvent) => {
    switch (e.kind) {
      case 'step':
        held.set(e.index, { msgs: [], done: false });
        waiting.push(e.index);
        emit(e.index, { stream: `Step ${e.index}/${e.total} : ${e.instruction}` });
        emit(e.index, { stream: '\n' });
        next();
        break;
      case 'cached':
        emit(e.index, { stream: ' ---> Using cache\n' });
        break;
      case 'output': {
        const key = `${e.stage}/${e.index}`;
        let d = decoders.get(key);
        if (!d) decoders.set(key, (d = new StringDecoder('utf8')));
        const text = d.write(e.data);
        if (text) emit(e.index, { stream: text });
        break;
      }
      case 'done': {
        const rest = decoders.get(`${e.stage}/${e.index}`)?.end();
        if (rest) emit(e.index, { stream: rest });
        emit(e.index, { stream: ` ---> ${shortId(e.id)}\n` });
        const block = held.get(e.index);
        if (block) block.done = true;
        if (e.index === current) {
          held.delete(e.index);
          current = undefined;
          next();
        }
        break;
      }
      case 'note':
        write({ stream: e.text.endsWith('\n') ? e.text : `${e.text}\n` });
        break;
    }
  };
  const flush = () => {
    current = undefined;
    for (const block of held.values()) block.done = true;
    next();
  };
  return { onEvent, flush };
}

export function buildRoutes(router: Router, engine: Engine): void {
  /** Builds under way by their `buildid`, for POST /build/cancel. */
  const running = new Map<string, AbortController>();

  router.on('POST', '/build', async (ctx) => {
    const query = buildQuery(ctx.query);
    const registryAuth = registryConfig(ctx);
    const secrets = buildSecrets(ctx);
    if (query.remote && Number(ctx.req.headers['content-length'] ?? 0) > 0)
      throw invalid('a build with remote= takes its context from that URL: send no request body with it');
    if (query.buildId && running.has(query.buildId)) throw invalid(`a build with ID ${query.buildId} is already running`);
    const out = buildOutput(ctx, query.quiet);
    const abort = new AbortController();
    let finished = false;
    ctx.res!.once('close', () => {
      if (!finished) abort.abort(new BerthError('system', 'the client went away: build cancelled'));
    });
    if (query.buildId) running.set(query.buildId, abort);
    let context: BuildContext | undefined;
    // The context goes before the answer ends: a client that sees the end finds nothing left.
    const events = eventWriter((m) => out.write(m));
    const cleanup = async () => {
      if (query.buildId) running.delete(query.buildId);
      await context?.remove();
      context = undefined;
    };
    try {
      context = query.remote
        ? await engine.buildContexts.fromRemote(query.remote, query.dockerfile, {
            signal: abort.signal,
            onProgress: (p) =>
              out.write({ status: 'Downloading context', progressDetail: { current: p.current, total: p.total }, id: p.url }),
          })
        : await engine.buildContexts.fromArchive(ctx.req, query.dockerfile);
      const result = await engine.build(
        {
          ...query.request,
          secrets,
          contextDir: context.dir,
          ...(context.index ? { contextIndex: context.index } : {}),
          dockerfile: { text: context.dockerfile.text, name: context.dockerfile.name },
          ...(registryAuth ? { registryAuth } : {}),
          signal: abort.signal,
        },
        events.onEvent,
      );
      finished = true;
      if (query.quiet) out.always({ stream: `${result.id}\n` });
      else {
        if (!apiOlder(ctx.version, '1.30')) out.write({ aux: { ID: result.id } });
        out.write({ stream: `Successfully built ${shortId(result.id)}\n` });
        for (const t of query.request.tags) out.write({ stream: `Successfully tagged ${familiar(t)}\n` });
      }
      await cleanup();
      out.end();
    } catch (e) {
      finished = true;
      events.flush();
      await cleanup();
      // The body may be left unread: the connection cannot carry another request.
      if (!ctx.res!.headersSent && !ctx.req.complete) ctx.res!.setHeader('Connection', 'close');
      out.fail(e);
    }
  });

  router.on('POST', '/build/cancel', (ctx) => {
    const id = ctx.query.get('id');
    if (!id) throw invalid('build ID not provided');
    // As dockerd: a build that is not (or no longer) running is no error.
    running.get(id)?.abort(new BerthError('system', `build ${id} cancelled`));
    sendJSON(ctx, 200, undefined);
  });
}
