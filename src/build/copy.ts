// COPY and ADD's sources and their copying: patterns (Go's filepath.Match per component) found
// in a source root (the context, where a symlink that leaves it is an error, or a stage's root),
// the digest of exactly what they match (content and metadata: the step's cache key and its
// history's `file:<hash>`), and the copy into a step's mounted root with Docker's rules for the
// destination (a directory when it ends in `/`, exists as one, or takes several sources).

import { createHash } from 'node:crypto';
import { constants, createReadStream, type Stats } from 'node:fs';
import { chmod, copyFile, lchown, lstat, lutimes, mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { invalid } from '../errors.js';
import { errno } from '../common/errno.js';
import { resolveInRoot } from './root.js';
import { DockerignoreMatcher } from '../common/dockerignore.js';

/** One thing a source pattern matched: its path on the host, and its name relative to the source root. */
export interface Match {
  host: string;
  /** Relative to the source root, posix, no leading slash (`src/a.c`). */
  rel: string;
  st: Stats;
}

export interface SourceRoot {
  dir: string;
  /** The context refuses symlinks that lead out of it; a stage's root resolves them inside itself. */
  escape: 'refuse' | 'clamp';
  /** How errors name it: `build context`, `stage build`. */
  name: string;
}

const META = /[*?[\\]/;

/** One path component's wildcard pattern (Go's filepath.Match) as a regular expression. */
export function globRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw invalid(`syntax error in pattern: ${pattern}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * What `pattern` (a path in the source root, maybe with wildcards) names: one match for a plain
 * path (its symlinks resolved in the root), every entry matching for a pattern, sorted. An empty
 * list when nothing matches.
 */
export async function findSources(root: SourceRoot, pattern: string): Promise<Match[]> {
  const parts = posix.normalize(`/${pattern}`).split('/').filter(Boolean);
  let found: string[] = [''];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const next: string[] = [];
    for (const base of found) {
      if (!META.test(p)) {
        next.push(base ? `${base}/${p}` : p);
        continue;
      }
      const re = globRegex(p);
      const dir = await resolveInRoot(root.dir, base, { followLast: true, escape: root.escape, what: pattern });
      let names: string[] = [];
      try {
        names = await readdir(dir);
      } catch (e) {
        if (errno(e) !== 'ENOENT' && errno(e) !== 'ENOTDIR') throw e;
      }
      for (const n of names.sort()) if (re.test(n)) next.push(base ? `${base}/${n}` : n);
    }
    found = next;
  }
  const out: Match[] = [];
  for (const rel of found) {
    const host = await resolveInRoot(root.dir, rel, { followLast: true, escape: root.escape, what: rel || '.' });
    try {
      out.push({ host, rel, st: await lstat(host) });
    } catch (e) {
      if (errno(e) !== 'ENOENT' && errno(e) !== 'ENOTDIR') throw e;
    }
  }
  return out;
}

/**
 * `COPY --parents`: what `src` matches as BuildKit's include pattern, relative to the root or,
 * when `src` holds a `/./`, to the directory before it (only the parents after it are kept).
 * A matched directory is one match, with everything under it; `**` crosses directories. Each
 * match's `rel` is its path under that directory: where it goes under the destination.
 */
export async function findParentsSources(root: SourceRoot, src: string): Promise<Match[]> {
  const pivot = src.indexOf('/./');
  const base = await resolveInRoot(root.dir, pivot < 0 ? '.' : src.slice(0, pivot), { followLast: true, escape: root.escape, what: src });
  const pattern = posix
    .normalize(`/${pivot < 0 ? src : src.slice(pivot + 3)}`)
    .slice(1)
    .replace(/\/$/, '');
  const parts = pattern.split('/').filter(Boolean);
  const fixed = parts
    .slice(
      0,
      Math.max(
        0,
        parts.findIndex((p) => META.test(p)),
      ),
    )
    .join('/');
  if (!parts.some((p) => META.test(p))) {
    const host = await resolveInRoot(base, pattern, { followLast: true, escape: root.escape, what: src });
    try {
      return [{ host, rel: pattern, st: await lstat(host) }];
    } catch (e) {
      if (errno(e) !== 'ENOENT' && errno(e) !== 'ENOTDIR') throw e;
      return [];
    }
  }
  const matcher = new DockerignoreMatcher([pattern]);
  const start = await resolveInRoot(base, fixed || '.', { followLast: true, escape: root.escape, what: src });
  const out: Match[] = [];
  // Entries are read with lstat, never through a symlink: the walk stays under `start`.
  const walk = async (dir: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return;
      throw e;
    }
    for (const n of names.sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const host = posix.join(dir, n);
      const st = await lstat(host);
      if (matcher.matches(r)) out.push({ host, rel: r, st });
      else if (st.isDirectory()) await walk(host, r);
    }
  };
  await walk(start, fixed);
  return out;
}

/** Content digests of files already read, by host path and what identifies their content's version. */
const fileDigests = new Map<string, string>();

/** The stat fields that tell one version of a file from another. */
export type FileVersion = Pick<Stats, 'dev' | 'ino' | 'size' | 'mtimeMs' | 'ctimeMs'>;

function fileVersion(host: string, st: FileVersion): string {
  return `${host}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/**
 * Records the sha256 (hex) of the file at `host` as `st` (its stat after its last write and
 * metadata change) finds it: a context's unpacking hashes each file as it writes it, so COPY
 * never reads it again. Any later change to the file changes its ctime, and so the key.
 */
export function rememberFileDigest(host: string, st: FileVersion, sha256: string): void {
  if (fileDigests.size > 100_000) fileDigests.clear();
  fileDigests.set(fileVersion(host, st), sha256);
}

async function fileDigest(host: string, st: Stats): Promise<string> {
  const known = fileDigests.get(fileVersion(host, st));
  if (known) return known;
  const h = createHash('sha256');
  for await (const chunk of createReadStream(host)) h.update(chunk as Buffer);
  const d = h.digest('hex');
  rememberFileDigest(host, st, d);
  return d;
}

/** What a digest reads of an entry: a disk's lstat, or a context index's entry (context-index.ts). */
export interface EntryInfo {
  mode: number;
  size: number;
  rdev: number;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFile(): boolean;
}

/** The tree a digest walks: the disk, or a context's index; `host` is whatever its matches' `host` is. */
export interface SourceTree<S extends EntryInfo> {
  readdir(host: string): Promise<string[]> | string[];
  lstat(host: string): Promise<S> | S;
  readlink(host: string): Promise<string> | string;
  fileDigest(host: string, st: S): Promise<string> | string;
}

const disk: SourceTree<Stats> = { readdir, lstat, readlink, fileDigest };

/**
 * The digest of everything `matches` copy: each entry's path under its match, type, mode, size,
 * link target and content, directories walked (mtime and owner are not copied as such, so they
 * are not in it). `kind`: Docker's prefix for the history line (`file`, `dir`, `multi`).
 */
export function digestSources(matches: Match[], excluded?: Excluded): Promise<{ digest: string; kind: 'file' | 'dir' | 'multi' }> {
  return digestTree(disk, matches, excluded);
}

/** `digestSources` over any tree: the disk and a context's index give the same digest for the same files. */
export async function digestTree<S extends EntryInfo>(
  tree: SourceTree<S>,
  matches: { host: string; rel: string; st: S }[],
  excluded?: Excluded,
): Promise<{ digest: string; kind: 'file' | 'dir' | 'multi' }> {
  const h = createHash('sha256');
  let m!: { rel: string };
  const entry = async (host: string, rel: string, st: S, inside: string): Promise<void> => {
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) {
      h.update(`d ${rel} ${mode}\n`);
      for (const n of [...(await tree.readdir(host))].sort()) {
        const under = inside ? `${inside}/${n}` : n;
        if (excluded?.(m, under)) continue;
        const p = posix.join(host, n);
        await entry(p, `${rel}/${n}`, await tree.lstat(p), under);
      }
    } else if (st.isSymbolicLink()) h.update(`l ${rel} ${await tree.readlink(host)}\n`);
    else if (st.isFile()) h.update(`f ${rel} ${mode} ${st.size} ${await tree.fileDigest(host, st)}\n`);
    else h.update(`o ${rel} ${mode} ${st.rdev}\n`);
  };
  for (const x of matches) {
    m = x;
    await entry(x.host, x.rel, x.st, '');
  }
  const kind = matches.length > 1 ? 'multi' : matches[0]?.st.isDirectory() ? 'dir' : 'file';
  return { digest: h.digest('hex'), kind };
}

/**
 * `--exclude`: whether the entry at `inside` (a path under the match `m`, relative to it) is left
 * out, with everything under it.
 */
export type Excluded = (m: Pick<Match, 'rel'>, inside: string) => boolean;

export interface CopyOptions {
  excluded?: Excluded;
  /** Owner of everything copied; absent: each entry keeps its own (an archive's), new parents are 0:0. */
  owner?: { uid: number; gid: number };
  /** `--chmod`: the mode of every file and directory copied. */
  mode?: number;
}

/** Creates the missing directories of `hostDir` (already resolved in the root) with the copy's owner. */
async function mkdirs(hostDir: string, rootfs: string, o: CopyOptions): Promise<void> {
  const missing: string[] = [];
  for (let d = hostDir; d.length > rootfs.length; d = posix.dirname(d)) {
    try {
      const st = await lstat(d);
      if (!st.isDirectory()) throw invalid(`cannot copy to ${d.slice(rootfs.length) || '/'}: not a directory`);
      break;
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
      missing.unshift(d);
    }
  }
  for (const d of missing) {
    await mkdir(d, { mode: 0o755 });
    await lchown(d, o.owner?.uid ?? 0, o.owner?.gid ?? 0);
  }
}

/** Copies one entry (a directory with everything under it) to `to`, a host path already resolved in the root. */
async function copyEntry(from: string, st: Stats, to: string, o: CopyOptions, m: Match, inside: string): Promise<void> {
  let existing: Stats | undefined;
  try {
    existing = await lstat(to);
  } catch (e) {
    if (errno(e) !== 'ENOENT') throw e;
  }
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) await rm(to, { force: true });
    if (!existing?.isDirectory()) await mkdir(to);
    for (const n of (await readdir(from)).sort()) {
      const under = inside ? `${inside}/${n}` : n;
      if (o.excluded?.(m, under)) continue;
      const p = posix.join(from, n);
      await copyEntry(p, await lstat(p), posix.join(to, n), o, m, under);
    }
    await chmod(to, o.mode ?? st.mode & 0o7777);
  } else {
    if (existing) await rm(to, { recursive: true, force: true });
    if (st.isSymbolicLink()) await symlink(await readlink(from), to);
    else if (st.isFile()) {
      await copyFile(from, to, constants.COPYFILE_EXCL);
      await chmod(to, o.mode ?? st.mode & 0o7777);
    } else return; // devices, FIFOs and sockets of a context are not copied
  }
  await lchown(to, o.owner?.uid ?? st.uid, o.owner?.gid ?? st.gid);
  await lutimes(to, st.atime, st.mtime);
}

/**
 * Copies `matches` to `dest` (absolute in the root) in the mounted `rootfs`. A directory's
 * content goes into the destination; a file goes into it when it is a directory (ends in `/`,
 * exists as one, or there are several sources), else becomes it.
 */
export async function copyInto(rootfs: string, dest: string, matches: Match[], o: CopyOptions): Promise<void> {
  const destIsDir = dest.endsWith('/') || matches.length > 1;
  const target = await resolveInRoot(rootfs, dest, { followLast: true, escape: 'clamp' });
  let targetIsDir = destIsDir;
  try {
    targetIsDir ||= (await lstat(target)).isDirectory();
  } catch (e) {
    if (errno(e) !== 'ENOENT') throw e;
  }
  for (const m of matches) {
    if (m.st.isDirectory()) {
      await mkdirs(target, rootfs, o);
      for (const n of (await readdir(m.host)).sort()) {
        if (o.excluded?.(m, n)) continue;
        const p = posix.join(m.host, n);
        await copyEntry(p, await lstat(p), posix.join(target, n), o, m, n);
      }
    } else if (targetIsDir) {
      await mkdirs(target, rootfs, o);
      await copyEntry(m.host, m.st, posix.join(target, posix.basename(m.rel || m.host)), o, m, '');
    } else {
      await mkdirs(posix.dirname(target), rootfs, o);
      await copyEntry(m.host, m.st, target, o, m, '');
    }
  }
}
