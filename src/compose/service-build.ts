// Services' `build:` sections sent to berthd's `POST /build`, as Compose v2 builds them: the
// context packed and filtered by .dockerignore as `berth build` packs it (api/build-context.ts),
// the image named by `image:` or else `<project>-<service>`, plus `tags`. The long form's keys
// that the request carries are applied; the rest are refused with file and line (refuseBuild).
// Build secrets travel in the `X-Berth-Build-Secrets` header as `berth build --secret` sends them.

import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { DaemonError, readAll, type ApiClient } from '../api/client.js';
import { packContext, type PackedContext } from '../api/build-context.js';
import { parseSize } from '../common/size.js';
import { toDict, type Dict } from './normalize.js';
import type { Project } from './project.js';
import { ComposeFileError } from './source.js';

/** The image a service runs: its `image:`, or the one its build makes, `<project>-<service>` (Compose v2's rule). */
export const imageOf = (p: Project, service: string): string => p.services[service].image ?? `${p.name}-${service}`;

/** Build keys POST /build carries. */
const APPLIED = new Set([
  'context',
  'dockerfile',
  'dockerfile_inline',
  'args',
  'target',
  'labels',
  'network',
  'extra_hosts',
  'no_cache',
  'pull',
  'cache_from',
  'shm_size',
  'ulimits',
  'secrets',
  'platforms',
  'tags',
]);

/** Why each refused build key is refused. */
const REFUSED: Record<string, string> = {
  ssh: 'berthd does not forward an SSH agent to builds',
  cache_to: "the build cache stays in berthd's store",
  additional_contexts: 'a berth build has one context',
  isolation: 'berthd has only the default isolation',
  privileged: 'RUN steps run with the default security profile',
  entitlements: 'RUN steps run with the default security profile',
};

/** Refuses, with file and line, every key of service `name`'s build that berth compose does not apply. */
export function refuseBuild(p: Project, name: string): void {
  const b = p.services[name].build as Dict | undefined;
  if (!b) return;
  const at = (...path: (string | number)[]) => ['services', name, 'build', ...path];
  for (const k of Object.keys(b)) {
    if (k.startsWith('x-') || APPLIED.has(k)) continue;
    if (k === 'isolation' && b.isolation === 'default') continue;
    if (k === 'privileged' && b.privileged === false) continue;
    throw p.errorAt(at(k), `"build.${k}": berth compose cannot apply it (${REFUSED[k] ?? 'unknown key'})`, true);
  }
  if (b.context === undefined) throw p.errorAt(at(), 'build needs a context', true);
  if (/^[a-z]+:\/\//.test(b.context) || /^git@/.test(b.context))
    throw p.errorAt(at('context'), 'berth compose builds from a local directory only', true);
  if ((b.platforms?.length ?? 0) > 1) throw p.errorAt(at('platforms'), 'berthd builds one platform per image', true);
  if (b.dockerfile !== undefined && b.dockerfile_inline !== undefined)
    throw p.errorAt(at('dockerfile_inline'), 'dockerfile and dockerfile_inline are mutually exclusive', true);
  for (const [i, r] of ((b.secrets as unknown[]) ?? []).entries()) {
    const source = typeof r === 'string' ? r : (r as Dict).source;
    const def = p.secrets[source];
    if (!def) throw p.errorAt(at('secrets', i), `build secret "${source}" is not defined in the top-level secrets`, true);
    if (!def.file && !def.environment)
      throw p.errorAt(['secrets', source], 'berth compose passes build secrets from a file or an environment variable only', true);
  }
}

/** build.ulimits (`nofile: 1024` or `nofile: {soft, hard}`) as POST /build's ulimits. */
const buildUlimits = (u: Dict) =>
  Object.entries(u).map(([Name, v]) =>
    typeof v === 'object' ? { Name, Soft: Number(v.soft), Hard: Number(v.hard) } : { Name, Soft: Number(v), Hard: Number(v) },
  );

/** The services of `services` that have a build section. */
export const buildable = (p: Project, services: string[]): string[] => services.filter((s) => p.services[s].build);

/** The context, and the Dockerfile's name in it. */
async function pack(b: Dict): Promise<PackedContext> {
  const dir = b.context as string;
  const st = await stat(dir).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT' ? new ComposeFileError(`build context "${dir}" not found`) : e;
  });
  if (!st.isDirectory()) throw new ComposeFileError(`build context "${dir}" is not a directory`);
  if (b.dockerfile_inline !== undefined) return packContext(dir, { extraDockerfile: String(b.dockerfile_inline) });
  const df = resolve(dir, (b.dockerfile as string | undefined) ?? 'Dockerfile');
  const rel = relative(dir, df);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    return packContext(dir, { extraDockerfile: await readFile(df, 'utf8') });
  await stat(df).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT' ? new ComposeFileError(`Dockerfile "${df}" not found`) : e;
  });
  return packContext(dir, { dockerfile: rel.split(sep).join('/') });
}

/** Build args: a bare name takes its value from the project's variables, and is left out when unset (as Compose). */
function buildArgs(p: Project, args: Dict, extra: string[]): Dict {
  const out: Dict = {};
  for (const [k, v] of Object.entries(args ?? {})) {
    const value = v ?? p.lookup(k);
    if (value !== undefined) out[k] = value;
  }
  for (const a of extra) {
    const i = a.indexOf('=');
    if (i === 0) throw new ComposeFileError(`invalid --build-arg ${JSON.stringify(a)}`);
    const value = i > 0 ? a.slice(i + 1) : p.lookup(a);
    if (value !== undefined) out[i > 0 ? a.slice(0, i) : a] = value;
  }
  return out;
}

/** `host:ip` lines from extra_hosts' list (`host:ip` or `host=ip`) or mapping. */
function extraHosts(v: unknown): string[] {
  if (!v) return [];
  if (Array.isArray(v)) return v.map((h: string) => (/^[^:=]+=/.test(h) ? h.replace('=', ':') : h));
  return Object.entries(v as Dict).flatMap(([h, ips]) => (Array.isArray(ips) ? ips : [ips]).map((ip) => `${h}:${ip}`));
}

/** The build secrets' bytes by id, base64, as the X-Berth-Build-Secrets header carries them. */
async function secrets(p: Project, list: unknown[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const r of list) {
    const ref = typeof r === 'string' ? { source: r } : (r as Dict);
    const def = p.secrets[ref.source];
    const id = (ref.target as string | undefined) ?? ref.source;
    if (def.file) out[id] = (await readFile(def.file)).toString('base64');
    else {
      const v = p.lookup(def.environment) ?? process.env[def.environment];
      if (v === undefined) throw new ComposeFileError(`build secret ${ref.source}: environment variable ${def.environment} is not set`);
      out[id] = Buffer.from(v).toString('base64');
    }
  }
  return out;
}

export interface BuildOptions {
  noCache?: boolean;
  pull?: boolean;
  buildArgs?: string[];
  quiet?: boolean;
}

/** Builds service `name`'s image through POST /build; the build's output goes to `out` unless quiet. */
export async function buildService(
  client: ApiClient,
  p: Project,
  name: string,
  opts: BuildOptions,
  log: (m: string) => void,
  out: NodeJS.WritableStream,
): Promise<string> {
  refuseBuild(p, name);
  const b = p.services[name].build as Dict;
  const image = imageOf(p, name);
  const ctx = await pack(b);
  const headers: Record<string, string> = { 'Content-Type': 'application/x-tar' };
  const secret = await secrets(p, (b.secrets as unknown[]) ?? []);
  if (Object.keys(secret).length) headers['X-Berth-Build-Secrets'] = Buffer.from(JSON.stringify(secret)).toString('base64url');
  const hosts = extraHosts(b.extra_hosts);
  const labels = toDict(b.labels);
  log(`Image ${image}  Building`);
  const res = await client.stream('POST', '/build', {
    query: {
      dockerfile: ctx.dockerfile,
      t: [image, ...((b.tags as string[] | undefined) ?? [])],
      target: b.target as string | undefined,
      q: opts.quiet || undefined,
      nocache: opts.noCache || b.no_cache ? true : undefined,
      pull: opts.pull || b.pull ? true : undefined,
      networkmode: b.network as string | undefined,
      platform: (b.platforms as string[] | undefined)?.[0],
      extrahosts: hosts.length ? hosts : undefined,
      buildargs: JSON.stringify(buildArgs(p, b.args as Dict, opts.buildArgs ?? [])),
      labels: Object.keys(labels).length ? JSON.stringify(labels) : undefined,
      cachefrom: b.cache_from ? JSON.stringify(b.cache_from) : undefined,
      shmsize: b.shm_size === undefined ? undefined : String(typeof b.shm_size === 'number' ? b.shm_size : parseSize(String(b.shm_size))),
      ulimits: b.ulimits ? JSON.stringify(buildUlimits(b.ulimits as Dict)) : undefined,
      version: '1',
    },
    body: ctx.stream,
    headers,
  });
  // The JSON messages: `stream` text shown, `error` fails the build, `aux.ID` is the image's ID.
  let id: string | undefined;
  for (const line of (await readAll(res)).toString().split('\n')) {
    if (!line.trim()) continue;
    const m = JSON.parse(line) as Dict;
    if (m.error) throw new DaemonError('system', `service "${name}" failed to build: ${m.error}`, 500);
    if (m.aux?.ID) id = m.aux.ID;
    if (m.stream && !opts.quiet) out.write(m.stream);
  }
  if (!id) throw new DaemonError('system', `service "${name}": berthd ended the build without an image ID`, 500);
  log(`Image ${image}  Built`);
  return id;
}

/**
 * Builds the images of `services` that have a build section: all of them when `always` (up
 * --build, compose build), else those whose image is not here yet. One image at a time: berthd's
 * builder runs independent stages in parallel already, and two services naming one image must
 * not race.
 */
export async function buildImages(
  client: ApiClient,
  p: Project,
  services: string[],
  opts: BuildOptions & { always?: boolean },
  log: (m: string) => void,
  out: NodeJS.WritableStream,
): Promise<void> {
  for (const s of buildable(p, services)) {
    if (!opts.always) {
      try {
        await client.json('GET', `/images/${encodeURIComponent(imageOf(p, s))}/json`);
        continue;
      } catch (e) {
        if (!(e instanceof DaemonError && e.statusCode === 404)) throw e;
      }
    }
    await buildService(client, p, s, opts, log, out);
  }
}
