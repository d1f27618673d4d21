// RUN --mount, BuildKit's mounts made ready for one step: `cache` (a directory under
// <data-root>/build/mounts kept across steps and builds, keyed by its id, shared, locked or
// private as asked, seeded from a stage's or image's folder with `from`), `bind` (a path of the
// context, or of a stage or image: read-only, or with `rw` writable through an overlay of the
// step's own whose writes are thrown away after it, as BuildKit does), `tmpfs`,
// and `secret` (the build request's secret written on a tmpfs for the step only, bind-mounted
// read-only; never in a layer, the history or the cache key). Each mount says what it adds to
// the step's cache key, and everything made for the step goes when `release` runs.

import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, lstat, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { invalid, notFound } from '../errors.js';
import { mountOverlay, unmount } from '../image/index.js';
import { errno } from '../common/errno.js';
import type { RunMount } from './dockerfile/index.js';
import type { BuildRequest } from './request.js';
import { digestSources, findSources } from './copy.js';
import { resolveInRoot } from './root.js';
import type { StepMount } from './step-runner.js';

const execFileAsync = promisify(execFile);

export interface MountSources {
  /** <data-root>/build/mounts */
  cacheDir: string;
  /** A folder on a tmpfs for the secrets' files. */
  secretsDir: string;
  /** A private folder for what a step alone uses (bind rw's overlays), under the data root. */
  tmpDir: string;
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
          let host: string;
          if (m.from) {
            const root = await src.rootOf(m.from);
            releases.push(root.release);
            host = await resolveInRoot(root.rootfs, m.source ?? '/', { followLast: true, escape: 'clamp' });
            out.key.push(['bind', m.from, root.digest, m.source ?? '/', m.target, ...(m.readonly ? [] : ['rw'])]);
          } else {
            // The mount is of the context's files: they are written now if they were not yet.
            await src.req.contextIndex?.materialize();
            const found = await findSources({ dir: src.req.contextDir, escape: 'refuse', name: 'build context' }, m.source ?? '.');
            if (!found.length) throw notFound(`RUN --mount=type=bind: ${m.source ?? '.'} not found in the build context`);
            host = found[0].host;
            out.key.push(['bind', null, (await digestSources(found)).digest, m.source ?? '.', m.target, ...(m.readonly ? [] : ['rw'])]);
          }
          if (!m.readonly) {
            const w = await writableView(host, src.tmpDir);
            releases.push(w.release);
            host = w.path;
          }
          out.mounts.push({ type: 'bind', source: host, target: m.target, readonly: m.readonly });
          break;
        }
        case 'cache': {
          const id = m.id ?? m.target;
          // `from`: a new cache starts as a copy of that stage's or image's `source` folder; as in
          // BuildKit, each such base has a cache of its own.
          let seed: { host: string; key: string } | undefined;
          if (m.from) {
            const root = await src.rootOf(m.from);
            releases.push(root.release);
            const host = await resolveInRoot(root.rootfs, m.source ?? '/', { followLast: true, escape: 'clamp' });
            seed = { host, key: `${m.from}\0${root.digest}\0${m.source ?? '/'}` };
          }
          let dir = cacheMountDir(src.cacheDir, seed ? `${id}\0${seed.key}` : id);
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
          await ensureDir(dir, m.mode ?? 0o755, m.uid ?? 0, m.gid ?? 0, id, seed?.host);
          out.mounts.push({ type: 'bind', source: dir, target: m.target, readonly: m.readonly });
          // The cache's content is not the step's input: BuildKit keys the step on the mount only.
          out.key.push(['cache', id, m.target, m.readonly, m.sharing, ...(seed ? [seed.key] : [])]);
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

/** Makes the cache mount's folder when missing: empty, or a copy of `seed`'s content (made aside, then renamed into place). */
async function ensureDir(dir: string, mode: number, uid: number, gid: number, id: string, seed?: string): Promise<void> {
  try {
    if ((await lstat(dir)).isDirectory()) return;
    throw invalid(`cache mount ${id}: ${dir} is not a directory`);
  } catch (e) {
    if (errno(e) !== 'ENOENT') throw e;
  }
  if (!seed) {
    await mkdir(dir, { recursive: true });
    await chown(dir, uid, gid);
    await chmod(dir, mode);
    return;
  }
  if (!(await stat(seed)).isDirectory()) throw invalid(`cache mount ${id}: its from= source is not a directory`);
  const aside = `${dir}.seed-${randomBytes(6).toString('hex')}`;
  try {
    await mkdir(aside, { recursive: true });
    await chown(aside, uid, gid);
    await chmod(aside, mode);
    await execFileAsync('cp', ['-a', '--', `${seed}/.`, `${aside}/`]);
    await rename(aside, dir).catch((e: unknown) => {
      // Another step seeded it first: that one is used.
      if (errno(e) !== 'ENOTEMPTY' && errno(e) !== 'EEXIST') throw e;
    });
  } finally {
    await rm(aside, { recursive: true, force: true });
  }
}

/**
 * A writable view of `host` for one step (bind `rw`): an overlay over a folder, a copy of a
 * file, under `tmpDir`; `release` unmounts and removes it with whatever the step wrote.
 */
async function writableView(host: string, tmpDir: string): Promise<{ path: string; release: () => Promise<void> }> {
  const dir = join(tmpDir, `bind-rw-${randomBytes(8).toString('hex')}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const st = await stat(host);
    if (!st.isDirectory()) {
      const file = join(dir, 'file');
      await copyFile(host, file);
      await chown(file, st.uid, st.gid);
      await chmod(file, st.mode & 0o7777);
      return { path: file, release: remove };
    }
    const [upper, work, merged] = ['upper', 'work', 'merged'].map((n) => join(dir, n));
    for (const d of [upper, work, merged]) await mkdir(d);
    await mountOverlay(merged, [host], upper, work, dir);
    return {
      path: merged,
      release: async () => {
        await unmount(merged);
        await remove();
      },
    };
  } catch (e) {
    await remove();
    throw e;
  }
}
