// RUN --mount, BuildKit's mounts made ready for one step: `cache` (a directory under
// <data-root>/build/mounts kept across steps and builds, keyed by its id, shared, locked or
// private as asked), `bind` (a path of the context, or of a stage or image, read-only), `tmpfs`,
// and `secret` (the build request's secret written on a tmpfs for the step only, bind-mounted
// read-only; never in a layer, the history or the cache key). Each mount says what it adds to
// the step's cache key, and everything made for the step goes when `release` runs.

import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid, notFound, unsupported } from '../errors.js';
import { errno } from '../common/errno.js';
import type { RunMount } from './dockerfile/index.js';
import type { BuildRequest } from './request.js';
import { digestSources, findSources } from './copy.js';
import { resolveInRoot } from './root.js';
import type { StepMount } from './step-runner.js';

export interface MountSources {
  /** <data-root>/build/mounts */
  cacheDir: string;
  /** A folder on a tmpfs for the secrets' files. */
  secretsDir: string;
  req: BuildRequest;
  /** A stage's or image's root, mounted until `release`; `digest` identifies its content. */
  rootOf(from: string): Promise<{ rootfs: string; digest: string; release: () => Promise<void> }>;
}

export interface PreparedMounts {
  mounts: StepMount[];
  /** Variables for the step (`type=secret,env=NAME`). */
  env: string[];
  /** What the mounts add to the step's cache key. */
  key: unknown[];
  release: () => Promise<void>;
}

/** Cache mounts in use by id, for `sharing=locked` (one at a time) and `private` (a fresh one when busy). */
const inUse = new Map<string, { count: number; queue: Promise<void> }>();

/** True while a step uses the cache mount at `dir`. */
export function cacheMountInUse(dir: string): boolean {
  return (inUse.get(dir)?.count ?? 0) > 0;
}

export function cacheMountDir(cacheDir: string, id: string): string {
  return join(cacheDir, createHash('sha256').update(id).digest('hex').slice(0, 32));
}

export async function prepareMounts(list: RunMount[], src: MountSources): Promise<PreparedMounts> {
  const out: PreparedMounts = { mounts: [], env: [], key: [], release: async () => undefined };
  const releases: (() => Promise<void> | void)[] = [];
  out.release = async () => {
    for (const r of releases.reverse()) await r();
  };
  try {
    for (const m of list) {
      switch (m.type) {
        case 'tmpfs':
          out.mounts.push({ type: 'tmpfs', target: m.target, ...(m.size ? { size: m.size } : {}) });
          out.key.push(['tmpfs', m.target, m.size ?? null]);
          break;
        case 'bind': {
          if (!m.readonly) throw unsupported(`RUN --mount=type=bind,rw: writable bind mounts are not supported by berth yet`);
          if (m.from) {
            const root = await src.rootOf(m.from);
            releases.push(root.release);
            const host = await resolveInRoot(root.rootfs, m.source ?? '/', { followLast: true, escape: 'clamp' });
            out.mounts.push({ type: 'bind', source: host, target: m.target, readonly: true });
            out.key.push(['bind', m.from, root.digest, m.source ?? '/', m.target]);
          } else {
            const found = await findSources({ dir: src.req.contextDir, escape: 'refuse', name: 'build context' }, m.source ?? '.');
            if (!found.length) throw notFound(`RUN --mount=type=bind: ${m.source ?? '.'} not found in the build context`);
            out.mounts.push({ type: 'bind', source: found[0].host, target: m.target, readonly: true });
            out.key.push(['bind', null, (await digestSources(found)).digest, m.source ?? '.', m.target]);
          }
          break;
        }
        case 'cache': {
          if (m.from) throw unsupported('RUN --mount=type=cache,from=…: seeding a cache from a stage is not supported by berth yet');
          const id = m.id ?? m.target;
          let dir = cacheMountDir(src.cacheDir, id);
          let use = inUse.get(dir);
          if (!use) inUse.set(dir, (use = { count: 0, queue: Promise.resolve() }));
          if (m.sharing === 'locked') {
            const prev = use.queue;
            let done!: () => void;
            use.queue = new Promise<void>((r) => (done = r));
            await prev;
            releases.push(done);
          } else if (m.sharing === 'private' && use.count > 0) {
            dir = `${dir}-private-${randomBytes(6).toString('hex')}`;
            const d = dir;
            releases.push(() => rm(d, { recursive: true, force: true }));
          }
          use.count++;
          const u = use;
          releases.push(() => {
            u.count--;
          });
          await ensureDir(dir, m.mode ?? 0o755, m.uid ?? 0, m.gid ?? 0, id);
          out.mounts.push({ type: 'bind', source: dir, target: m.target, readonly: m.readonly });
          // The cache's content is not the step's input: BuildKit keys the step on the mount only.
          out.key.push(['cache', id, m.target, m.readonly, m.sharing]);
          break;
        }
        case 'secret': {
          const given = src.req.secrets[m.id];
          if (!given) {
            if (m.required) throw invalid(`secret ${m.id}: not found`);
            break;
          }
          const data = 'data' in given ? given.data : await readFile(given.path);
          if (m.target !== undefined || m.env === undefined) {
            const dir = join(src.secretsDir, randomBytes(12).toString('hex'));
            await mkdir(dir, { recursive: true, mode: 0o700 });
            releases.push(() => rm(dir, { recursive: true, force: true }));
            const file = join(dir, 'secret');
            await writeFile(file, data, { mode: m.mode });
            await chown(file, m.uid, m.gid);
            await chmod(file, m.mode);
            out.mounts.push({ type: 'bind', source: file, target: m.target ?? `/run/secrets/${m.id}`, readonly: true });
          }
          if (m.env !== undefined) out.env.push(`${m.env}=${data.toString()}`);
          out.key.push(['secret', m.id, m.target ?? null, m.env ?? null]);
          break;
        }
      }
    }
    return out;
  } catch (e) {
    await out.release();
    throw e;
  }
}

async function ensureDir(dir: string, mode: number, uid: number, gid: number, id: string): Promise<void> {
  try {
    if ((await lstat(dir)).isDirectory()) return;
    throw invalid(`cache mount ${id}: ${dir} is not a directory`);
  } catch (e) {
    if (errno(e) !== 'ENOENT') throw e;
  }
  await mkdir(dir, { recursive: true });
  await chown(dir, uid, gid);
  await chmod(dir, mode);
}
