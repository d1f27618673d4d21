// `docker cp` through the Engine API: stat a path in a container (HEAD /archive), a tar of it
// (GET /archive) and a tar extracted into a directory of it (PUT /archive). Paths resolve as
// moby resolves them (the directory part follows symlinks inside the container, the last
// component is taken as it is unless the path ends in `/` or `/.`), through ContainerRoot, so
// nothing here ever reads or writes outside the container's own files and mounts. A tar to
// extract (plain, gzip, bzip2 or xz, as dockerd takes) is first read whole into an unlinked
// spool file while every entry is checked (names, hard links, symlinks the archive makes,
// entry types): a refused archive has written nothing into the container.

import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  futimesSync,
  lchownSync,
  linkSync,
  lutimesSync,
  chmodSync,
  chownSync,
  mkdirSync,
  openSync,
  readSync,
  symlinkSync,
  utimesSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { decompress, LayerCheck, mknodSync, type Plan } from '../image/index.js';
import { readTar, TarWriter, type TarHeader, type TarHeaderInput } from '../tar/index.js';
import { BerthError, forbidden, invalid, notFound } from '../errors.js';
import { O_PATH, type ContainerRoot } from './container-root.js';
import type { IdShift } from '../common/id-map.js';

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
    // A trailing `/` or `/.` asks for a directory: moby's lstat of such a path fails with ENOTDIR on anything else.
    if (followLast && path !== '.' && !st.isDirectory()) throw fileNotFound(path, container);
    let linkTarget = '';
    if (st.isSymbolicLink()) linkTarget = root.resolve(abs, true, true);
    return { stat: { name, size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget }, canonical };
  });
}

/**
 * GET /containers/{id}/archive: the stat and a tar of the path (a directory with everything
 * under it, mounts included), its entries named from the requested name (`.` for `dir/.`).
 */
export function archivePath(root: ContainerRoot, path: string, container: string, ids?: IdShift): { stat: PathStat; stream: Readable } {
  const { stat, canonical } = statPath(root, path, container);
  const base = stat.name === '/' ? '.' : stat.name;
  const pack = new TarWriter();
  packPath(root, canonical, base, pack, ids)
    .then(() => pack.end())
    .catch((e: Error) => pack.destroy(e));
  return { stat, stream: pack.stream };
}

async function packPath(root: ContainerRoot, canonical: string, name: string, pack: TarWriter, ids?: IdShift): Promise<void> {
  const links = new Map<string, string>();
  const add = (header: TarHeaderInput, body?: AsyncIterable<Uint8Array>) => pack.add(header, body);
  const walk = async (path: string, entry: string): Promise<void> => {
    const st = root.lstat(path);
    const owner = ids ? ids({ uid: st.uid, gid: st.gid }) : { uid: st.uid, gid: st.gid };
    const base = { ...owner, mode: st.mode & 0o7777, mtime: st.mtime };
    if (st.isDirectory()) {
      await add({ name: `${entry}/`, type: 'directory', ...base });
      for (const child of root.readdir(path).sort()) await walk(posix.join(path, child), `${entry}/${child}`);
    } else if (st.isSymbolicLink()) {
      await add({ name: entry, type: 'symlink', linkname: root.readlink(path), ...base });
    } else if (st.isFile()) {
      const id = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? links.get(id) : undefined;
      if (first) {
        await add({ name: entry, type: 'link', linkname: first, ...base });
        return;
      }
      if (st.nlink > 1) links.set(id, entry);
      const fd = root.open(path, constants.O_RDONLY);
      try {
        const size = fstatSync(fd).size;
        await add({ name: entry, type: 'file', size, ...base }, Readable.from(readExactly(fd, size)));
      } finally {
        closeSync(fd);
      }
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      await add({
        name: entry,
        type: st.isCharacterDevice() ? 'character-device' : 'block-device',
        devmajor: Math.floor(st.rdev / 256) & 0xfff,
        devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
        ...base,
      });
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
    if (n === 0) {
      yield Buffer.alloc(left);
      return;
    }
    left -= n;
    yield buf.subarray(0, n);
  }
}

export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory or the other way round. */
  noOverwriteDirNonDir?: boolean;
  /** Own every extracted file by these ids (`copyUIDGID` with a container user); else the tar's ids. */
  chown?: { uid: number; gid: number };
  /** The container's ids (the tar's, or `chown`) to the host's: a remapped container's. */
  ids?: IdShift;
  /** The container's root file system is read-only (a write outside a writable mount is refused). */
  readonlyRootfs?: boolean;
  /** Where the checked archive is spooled (an unlinked file: nothing stays there). */
  spoolDir: string;
}

/**
 * Reads the whole archive (decompressed) into an unlinked file in `dir`, checking every entry
 * on the way: the rules of a layer without whiteouts (no `..` or absolute names, nothing
 * through a symlink the archive makes, hard links only to a non-directory the archive made
 * before, known entry types). Returns the file, open; the caller closes it.
 */
async function spoolChecked(source: Readable, dir: string): Promise<FileHandle> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = posix.join(dir, `cp-${randomBytes(6).toString('hex')}.tar`);
  const fh = await open(path, 'w+', 0o600);
  try {
    await unlink(path);
    const check = new LayerCheck({ whiteouts: false, scope: 'archive' });
    async function* spooled(): AsyncGenerator<Buffer> {
      for await (const c of decompress(source) as AsyncIterable<Buffer>) {
        for (let off = 0; off < c.length;) off += (await fh.write(c, off, c.length - off)).bytesWritten;
        yield c;
      }
    }
    for await (const e of readTar(spooled())) check.entry(e.header);
    return fh;
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** PUT /containers/{id}/archive: extracts a tar (plain, gzip, bzip2 or xz) into the directory `path`, once all of it passed the checks. */
export async function extractToDir(
  root: ContainerRoot,
  path: string,
  container: string,
  source: Readable,
  opts: ExtractOptions,
): Promise<void> {
  const { abs } = parsePath(path);
  const dest = withNotFound(path, container, () => root.resolve(abs, true));
  if (!root.lstat(dest).isDirectory()) throw invalid('extraction point is not a directory');
  const mount = root.locate(dest).mount;
  if (mount?.readOnly) throw forbidden('mounted volume is marked read-only');
  if (!mount && opts.readonlyRootfs) throw forbidden('container rootfs is marked read-only');

  const spool = await spoolChecked(source, opts.spoolDir);
  const dirTimes: { path: string; mtime: Date }[] = [];
  try {
    // The same rules again, for each entry's plan (its clean path, a hard link's target).
    const check = new LayerCheck({ whiteouts: false, scope: 'archive' });
    for await (const e of readTar(spool.createReadStream({ start: 0, autoClose: false }))) {
      const h = e.header;
      const plan = check.entry(h);
      if (plan.step.op === 'root' || plan.step.op === 'skip') continue;
      const rel = 'path' in plan.step ? plan.step.path : '';
      await extractEntry(root, dest, rel, h, plan, e.body, opts, dirTimes);
    }
  } finally {
    await spool.close();
  }
  // Directory times last, deepest first, so that their children do not change them again.
  for (const d of dirTimes.reverse()) setMeta(root, d.path, undefined, undefined, d.mtime);
}

/** Writes one checked entry at `rel` under `dest`, inside the container. */
async function extractEntry(
  root: ContainerRoot,
  dest: string,
  rel: string,
  h: TarHeader,
  plan: Plan,
  body: AsyncIterable<Buffer>,
  opts: ExtractOptions,
  dirTimes: { path: string; mtime: Date }[],
): Promise<void> {
  const parent = ensureParents(root, dest, posix.dirname(rel));
  const target = posix.join(parent, posix.basename(rel));
  const own = opts.chown ?? { uid: h.uid, gid: h.gid };
  const ids = opts.ids ? opts.ids(own) : own;
  const mode = h.mode;
  const mtime = new Date(h.mtime * 1000);
  const existing = lstatOrUndefined(root, target);
  if (h.type === 'directory') {
    if (existing && !existing.isDirectory()) {
      if (opts.noOverwriteDirNonDir) throw invalid(`cannot overwrite non-directory "${target}" with directory "${rel}"`);
      root.removeAll(target);
    }
    if (!existing?.isDirectory()) root.at(target, (p) => mkdirSync(p, 0o700));
    setMeta(root, target, ids, mode);
    dirTimes.push({ path: target, mtime });
    return;
  }
  const isFile = h.type === 'file' || h.type === 'contiguous-file';
  // A file mounted from elsewhere (the init files, a bound file) is written in place: its mount stays.
  const inPlace = isFile && existing?.isFile() && root.holdsMount(target);
  if (existing && !inPlace) {
    if (existing.isDirectory() && opts.noOverwriteDirNonDir)
      throw invalid(`cannot overwrite directory "${target}" with non-directory "${rel}"`);
    root.removeAll(target);
  }
  switch (h.type) {
    case 'file':
    case 'contiguous-file': {
      const fd = inPlace
        ? root.open(target, constants.O_WRONLY | constants.O_TRUNC)
        : root.at(target, (p) => openSync(p, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
      try {
        for await (const chunk of body) {
          let off = 0;
          while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
        }
        fchownSync(fd, ids.uid, ids.gid);
        fchmodSync(fd, mode);
        futimesSync(fd, mtime, mtime);
      } finally {
        closeSync(fd);
      }
      return;
    }
    case 'symlink':
      root.at(target, (p) => {
        symlinkSync(h.linkname, p);
        lchownSync(p, ids.uid, ids.gid);
        lutimesSync(p, mtime, mtime);
      });
      return;
    case 'link': {
      const lrel = plan.step.op === 'link' ? plan.step.target : '';
      const from = posix.join(root.resolve(posix.join(dest, posix.dirname(lrel)), true), posix.basename(lrel));
      try {
        root.at(from, (src) => root.at(target, (dst) => linkSync(src, dst)));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EXDEV') throw invalid(`archive entry "${h.name}": cannot hard link to "${h.linkname}" across mounts`);
        if (code === 'ENOENT') throw invalid(`archive entry "${h.name}": hard link target "${h.linkname}" is gone`);
        throw err;
      }
      return;
    }
    case 'character-device':
    case 'block-device':
    case 'fifo': {
      const t = h.type === 'fifo' ? 'p' : h.type === 'block-device' ? 'b' : 'c';
      // mknodSync runs whole while `at`'s directory fd is open: the node lands in that directory.
      root.at(target, (p) => mknodSync(p, t, 0o600, h.devmajor, h.devminor));
      setMeta(root, target, ids, mode, mtime);
      return;
    }
    default:
      throw invalid(`archive entry "${h.name}": unsupported tar entry type "${h.type}"`);
  }
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
