// `docker cp` through the Engine API: stat a path in a container (HEAD /archive), a tar of it
// (GET /archive) and a tar extracted into a directory of it (PUT /archive). Paths resolve as
// moby resolves them (the directory part follows symlinks inside the container, the last
// component is taken as it is unless the path ends in `/` or `/.`), through ContainerRoot, so
// nothing here ever reads or writes outside the container's own files and mounts.

import { closeSync, constants, fchmodSync, fchownSync, fstatSync, futimesSync, lchownSync, linkSync, lutimesSync,
  chmodSync, chownSync, mkdirSync, openSync, readSync, symlinkSync, utimesSync, writeSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import '../image/tar.js'; // binary-safe pax values
import { cleanEntryPath } from '../image/unpack.js';
import { mknod } from '../image/xattr.js';
import { BerthError, forbidden, invalid, notFound } from '../errors.js';
import { O_PATH, type ContainerRoot } from './container-root.js';

/** moby's ContainerPathStat, sent base64-encoded in `X-Docker-Container-Path-Stat`. */
export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode bits (type bits high, permissions low), as the docker CLI reads them. */
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** Go's os.FileMode of a file: the type in the high bits, setuid/setgid/sticky moved, permissions as they are. */
export function goFileMode(st: Stats): number {
  let m = st.mode & 0o777;
  if (st.mode & 0o4000) m += 2 ** 23;
  if (st.mode & 0o2000) m += 2 ** 22;
  if (st.mode & 0o1000) m += 2 ** 20;
  if (st.isDirectory()) m += 2 ** 31;
  else if (st.isSymbolicLink()) m += 2 ** 27;
  else if (st.isBlockDevice()) m += 2 ** 26;
  else if (st.isCharacterDevice()) m += 2 ** 26 + 2 ** 21;
  else if (st.isFIFO()) m += 2 ** 25;
  else if (st.isSocket()) m += 2 ** 24;
  return m;
}

/** Splits the request path the way moby does: absolute, and whether its last component is followed. */
function parsePath(path: string): { abs: string; followLast: boolean; name: string } {
  if (!path) throw invalid('path is required');
  const abs = posix.join('/', path);
  const followLast = path.endsWith('/') || path.endsWith('/.') || path === '.';
  // Go's filepath.Base of the path with its trailing "." kept: the name the CLI rebases.
  const name = path.endsWith('/.') || path === '.' ? '.' : abs === '/' ? '/' : posix.basename(abs);
  return { abs, followLast, name };
}

function fileNotFound(path: string, container: string): BerthError {
  return notFound(`Could not find the file ${path} in container ${container}`);
}

function withNotFound<T>(path: string, container: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((e instanceof BerthError && e.kind === 'not-found') || code === 'ENOENT' || code === 'ENOTDIR') throw fileNotFound(path, container);
    throw e;
  }
}

/** HEAD /containers/{id}/archive: the path's lstat (its symlink target resolved in the container). */
export function statPath(root: ContainerRoot, path: string, container: string): { stat: PathStat; canonical: string } {
  const { abs, followLast, name } = parsePath(path);
  return withNotFound(path, container, () => {
    const canonical = root.resolve(abs, followLast);
    const st = root.lstat(canonical);
    let linkTarget = '';
    if (st.isSymbolicLink()) linkTarget = root.resolve(abs, true, true);
    return { stat: { name, size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget }, canonical };
  });
}

/**
 * GET /containers/{id}/archive: the stat and a tar of the path (a directory with everything
 * under it, mounts included), its entries named from the requested name (`.` for `dir/.`).
 */
export function archivePath(root: ContainerRoot, path: string, container: string): { stat: PathStat; stream: Readable } {
  const { stat, canonical } = statPath(root, path, container);
  const base = stat.name === '/' ? '.' : stat.name;
  const pack = tar.pack();
  const out = new PassThrough();
  pipeline(pack as unknown as NodeJS.ReadableStream, out).catch((e) => out.destroy(e));
  packPath(root, canonical, base, pack).then(() => pack.finalize(), (e) => { pack.destroy(e); out.destroy(e); });
  return { stat, stream: out };
}

async function packPath(root: ContainerRoot, canonical: string, name: string, pack: tar.Pack): Promise<void> {
  const links = new Map<string, string>();
  const add = (header: Partial<tar.Header> & { name: string }) => new Promise<void>((resolve, reject) => pack.entry(header as tar.Header, (e) => (e ? reject(e) : resolve())));
  const walk = async (path: string, entry: string): Promise<void> => {
    const st = root.lstat(path);
    const base = { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, mtime: st.mtime };
    if (st.isDirectory()) {
      await add({ name: `${entry}/`, type: 'directory', ...base });
      for (const child of root.readdir(path).sort()) await walk(posix.join(path, child), `${entry}/${child}`);
    } else if (st.isSymbolicLink()) {
      await add({ name: entry, type: 'symlink', linkname: root.readlink(path), ...base });
    } else if (st.isFile()) {
      const id = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? links.get(id) : undefined;
      if (first) { await add({ name: entry, type: 'link', linkname: first, ...base }); return; }
      if (st.nlink > 1) links.set(id, entry);
      const fd = root.open(path, constants.O_RDONLY);
      try {
        const size = fstatSync(fd).size;
        const sink = pack.entry({ name: entry, type: 'file', size, ...base });
        await pipeline(Readable.from(readExactly(fd, size)), sink as unknown as NodeJS.WritableStream);
      } finally {
        closeSync(fd);
      }
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      await add({ name: entry, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: Math.floor(st.rdev / 256) & 0xfff, devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00), ...base });
    } else if (st.isFIFO()) {
      await add({ name: entry, type: 'fifo', ...base });
    }
    // sockets are not archived (as Docker)
  };
  await walk(canonical, name);
}

/** `size` bytes of the file: a file that shrank meanwhile is padded with zeros, one that grew is cut (the header holds the size). */
function* readExactly(fd: number, size: number): Generator<Buffer> {
  let left = size;
  while (left > 0) {
    const buf = Buffer.alloc(Math.min(left, 1 << 16));
    const n = readSync(fd, buf, 0, buf.length, size - left);
    if (n === 0) { yield Buffer.alloc(left); return; }
    left -= n;
    yield buf.subarray(0, n);
  }
}

export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory or the other way round. */
  noOverwriteDirNonDir?: boolean;
  /** Own every extracted file by these ids (`copyUIDGID` with a container user); else the tar's ids. */
  chown?: { uid: number; gid: number };
  /** The container's root file system is read-only (a write outside a writable mount is refused). */
  readonlyRootfs?: boolean;
}

/** PUT /containers/{id}/archive: extracts a tar (plain) into the directory `path`. */
export async function extractToDir(root: ContainerRoot, path: string, container: string, source: Readable, opts: ExtractOptions = {}): Promise<void> {
  const { abs } = parsePath(path);
  const dest = withNotFound(path, container, () => root.resolve(abs, true));
  if (!root.lstat(dest).isDirectory()) throw invalid('extraction point is not a directory');
  const mount = root.locate(dest).mount;
  if (mount?.readOnly) throw forbidden('mounted volume is marked read-only');
  if (!mount && opts.readonlyRootfs) throw forbidden('container rootfs is marked read-only');

  const dirTimes: { path: string; mtime: Date }[] = [];
  const extract = tar.extract();
  const feeding = pipeline(source, extract);
  feeding.catch(() => {});
  try {
    for await (const e of extract) {
      const h = e.header;
      const rel = cleanEntryPath(h.name);
      if (rel === '') { await drain(e); continue; }
      const parent = ensureParents(root, dest, posix.dirname(rel));
      const target = posix.join(parent, posix.basename(rel));
      const ids = opts.chown ?? { uid: h.uid ?? 0, gid: h.gid ?? 0 };
      const mode = (h.mode ?? 0o644) & 0o7777;
      const mtime = h.mtime ?? new Date();
      const existing = lstatOrUndefined(root, target);
      if (h.type === 'directory') {
        if (existing && !existing.isDirectory()) {
          if (opts.noOverwriteDirNonDir) throw invalid(`cannot overwrite non-directory "${target}" with directory "${rel}"`);
          root.removeAll(target);
        }
        if (!existing?.isDirectory()) root.at(target, (p) => mkdirSync(p, 0o700));
        setMeta(root, target, ids, mode);
        dirTimes.push({ path: target, mtime });
        await drain(e);
        continue;
      }
      const isFile = h.type === 'file' || h.type === 'contiguous-file' || h.type === undefined;
      // A file mounted from elsewhere (the init files, a bound file) is written in place: its mount stays.
      const inPlace = isFile && existing?.isFile() && root.holdsMount(target);
      if (existing && !inPlace) {
        if (existing.isDirectory() && opts.noOverwriteDirNonDir) throw invalid(`cannot overwrite directory "${target}" with non-directory "${rel}"`);
        root.removeAll(target);
      }
      switch (h.type) {
        case 'file': case 'contiguous-file': case undefined: {
          const fd = inPlace ? root.open(target, constants.O_WRONLY | constants.O_TRUNC)
            : root.at(target, (p) => openSync(p, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
          try {
            for await (const chunk of e as AsyncIterable<Buffer>) {
              let off = 0;
              while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
            }
            fchownSync(fd, ids.uid, ids.gid);
            fchmodSync(fd, mode);
            futimesSync(fd, mtime, mtime);
          } finally {
            closeSync(fd);
          }
          continue;
        }
        case 'symlink':
          root.at(target, (p) => { symlinkSync(h.linkname ?? '', p); lchownSync(p, ids.uid, ids.gid); lutimesSync(p, mtime, mtime); });
          break;
        case 'link': {
          const lrel = cleanEntryPath(h.linkname ?? '', `hard link "${h.name}" → target`);
          const from = posix.join(root.resolve(posix.join(dest, posix.dirname(lrel)), true), posix.basename(lrel));
          root.at(from, (src) => root.at(target, (dst) => linkSync(src, dst)));
          break;
        }
        case 'character-device': case 'block-device': case 'fifo': {
          const t = h.type === 'fifo' ? 'p' : h.type === 'block-device' ? 'b' : 'c';
          await root.at(target, (p) => mknod(p, t, 0o600, h.devmajor ?? 0, h.devminor ?? 0));
          setMeta(root, target, ids, mode, mtime);
          break;
        }
        default:
          throw invalid(`archive entry "${h.name}": unsupported tar entry type "${h.type}"`);
      }
      await drain(e);
    }
    await feeding;
  } catch (err) {
    extract.destroy();
    await feeding.catch(() => {});
    if (err instanceof BerthError) throw err;
    if (/Unexpected end|Invalid tar header|invalid header/i.test((err as Error).message)) throw invalid(`the archive is not a valid tar: ${(err as Error).message}`);
    throw err;
  }
  // Directory times last, deepest first, so that their children do not change them again.
  for (const d of dirTimes.reverse()) setMeta(root, d.path, undefined, undefined, d.mtime);
}

/** Makes sure `rel` (a directory path under `dest`) exists, creating what is missing; returns its canonical path. */
function ensureParents(root: ContainerRoot, dest: string, rel: string): string {
  let cur = dest;
  for (const comp of rel.split('/').filter((c) => c && c !== '.')) {
    const next = root.resolve(posix.join(cur, comp), true, true);
    const st = lstatOrUndefined(root, next);
    if (!st) root.at(next, (p) => mkdirSync(p, 0o755));
    else if (!st.isDirectory()) throw invalid(`cannot extract into "${next}": not a directory`);
    cur = next;
  }
  return cur;
}

function lstatOrUndefined(root: ContainerRoot, path: string): Stats | undefined {
  try {
    return root.lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Ownership, mode and times of a node we just made, through an O_PATH fd of it (its
 * `/proc/self/fd` link names the inode, not a path), so a node swapped for a symlink
 * meanwhile is left alone rather than followed.
 */
function setMeta(root: ContainerRoot, path: string, ids?: { uid: number; gid: number }, mode?: number, mtime?: Date): void {
  const fd = root.at(path, (p) => openSync(p, O_PATH | constants.O_NOFOLLOW));
  try {
    if (fstatSync(fd).isSymbolicLink()) return;
    const self = `/proc/self/fd/${fd}`;
    if (ids) chownSync(self, ids.uid, ids.gid);
    if (mode !== undefined) chmodSync(self, mode);
    if (mtime) utimesSync(self, mtime, mtime);
  } finally {
    closeSync(fd);
  }
}

async function drain(body: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of body) { /* skip */ }
}
