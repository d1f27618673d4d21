// `berth cp [-a] [-L] [-q] CONTAINER:SRC_PATH DEST_PATH|-` and `berth cp SRC_PATH|- CONTAINER:DEST_PATH`:
// the archive endpoints (HEAD stat, GET tar, PUT tar) with docker cp's rules for names — into an
// existing directory a copy keeps its name, otherwise it takes the destination's; `dir/.`
// copies a directory's contents. The tars are made and read here, on the client's side.

import {
  createReadStream,
  createWriteStream,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  chmodSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ApiClient } from '../../api/client.js';
import { BerthError, invalid } from '../../errors.js';
import { readTar, TarWriter, type TarHeader, type TarHeaderInput } from '../../tar/index.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { isErrno } from '../../common/errno.js';

interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const isDirMode = (m: number) => m >= GO_DIR;
const isLinkMode = (m: number) => Math.floor(m / GO_SYMLINK) % 2 === 1;

/** docker's splitCpArg: `name:path` names a container unless the argument is a local path. */
function split(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/')) return { path: arg };
  const i = arg.indexOf(':');
  if (i < 0 || arg.startsWith('.')) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** The stat of a container path, or undefined when it does not exist (the container is known to). */
async function statIn(client: ApiClient, container: string, path: string): Promise<PathStat | undefined> {
  try {
    const res = await client.stream('HEAD', `/containers/${encodeURIComponent(container)}/archive`, { query: { path } });
    res.resume();
    return JSON.parse(Buffer.from(String(res.headers['x-docker-container-path-stat'] ?? ''), 'base64').toString());
  } catch (e) {
    if (e instanceof BerthError && e.kind === 'not-found') return undefined;
    throw e;
  }
}

const CP: CommandSpec = {
  path: 'cp',
  use: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  about:
    "Copy files/folders between a container and the local filesystem\n\nUse '-' as the source to read a tar archive from stdin and unpack it into a directory in\nthe container; use '-' as the destination to write a tar archive of the container's files\nto stdout.",
  aliases: ['berth container cp', 'berth cp'],
  args: { min: 2, max: 2 },
  flags: {
    archive: { short: 'a', type: 'bool', desc: 'Archive mode (keep the uid/gid of the files)' },
    'follow-link': { short: 'L', type: 'bool', desc: 'Always follow a symbolic link in SRC_PATH' },
    quiet: { short: 'q', type: 'bool', desc: 'Suppress the progress output (it is off without a terminal)' },
  },
};

export async function cp(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(CP, argv);
  const src = split(args[0]);
  const dst = split(args[1]);
  if (src.container && dst.container) throw invalid('copying between containers is not supported');
  if (!src.container && !dst.container) throw invalid('must specify at least one container source');
  if (!(src.container ? src.path : dst.path)) throw invalid('filesystem path cannot be empty');
  await client.json('GET', `/containers/${encodeURIComponent((src.container ?? dst.container)!)}/json`); // "No such container"
  if (src.container) await fromContainer(client, src.container, src.path, dst.path, !!flags['follow-link'], !!flags.archive);
  else await toContainer(client, src.path, dst.container!, dst.path, !!flags['follow-link'], !!flags.archive);
  return 0;
}

async function fromContainer(
  client: ApiClient,
  container: string,
  path: string,
  dest: string,
  follow: boolean,
  keepIds: boolean,
): Promise<void> {
  if (follow) {
    const st = await statIn(client, container, path);
    if (st && isLinkMode(st.mode)) path = st.linkTarget;
  }
  const res = await client.stream('GET', `/containers/${encodeURIComponent(container)}/archive`, { query: { path } });
  if (dest === '-') {
    await pipeline(res, process.stdout);
    return;
  }
  const stat = JSON.parse(Buffer.from(String(res.headers['x-docker-container-path-stat']), 'base64').toString()) as PathStat;
  const top = stat.name === '/' ? '.' : stat.name;
  let existing: Stats | undefined;
  try {
    existing = statSync(dest);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e; // absent: made below
  }
  let root: string;
  if (existing?.isDirectory()) root = top === '.' ? dest : join(dest, top);
  else if (existing && isDirMode(stat.mode)) throw invalid(`cannot copy a directory to a file: ${dest}`);
  else {
    if (!existing && dest.endsWith('/')) throw invalid(`destination directory ${dest} does not exist`);
    try {
      if (!statSync(dirname(resolve(dest))).isDirectory()) throw new Error();
    } catch {
      throw invalid(`destination directory ${dirname(dest)} does not exist`);
    }
    root = dest;
  }
  await extractHost(res, top, root, keepIds);
}

/** Extracts the daemon's tar, whose entries start with `top`, as `root`. */
async function extractHost(source: NodeJS.ReadableStream, top: string, root: string, keepIds: boolean): Promise<void> {
  const dirs: { p: string; h: TarHeader }[] = [];
  for await (const e of readTar(source as AsyncIterable<Buffer>)) {
    const h = e.header;
    const name = h.name.replace(/\/+$/, '');
    const rel = name === top ? '' : name.startsWith(`${top}/`) ? name.slice(top.length + 1) : undefined;
    if (rel === undefined || rel.split('/').includes('..')) throw invalid(`unexpected archive entry "${h.name}"`);
    noLinkedParent(root, rel, h.name);
    const p = rel ? join(root, rel) : root;
    if (h.type === 'directory') {
      mkdirSync(p, { recursive: true });
      dirs.push({ p, h });
      continue;
    }
    rmSync(p, { force: true });
    if (h.type === 'file' || h.type === 'contiguous-file') {
      await pipeline(e.body, createWriteStream(p));
    } else {
      if (h.type === 'symlink') symlinkSync(h.linkname, p);
      else if (h.type === 'link') {
        const lname = h.linkname.replace(/\/+$/, '');
        linkSync(lname === top ? root : join(root, lname.slice(top.length + 1)), p);
        continue;
      } else continue; // devices and FIFOs are not made on the host
    }
    meta(p, h, keepIds);
  }
  for (const d of dirs.reverse()) meta(d.p, d.h, keepIds);
}

/** Refuses an entry whose parent inside `root` is a symlink (an archive must not write through one). */
function noLinkedParent(root: string, rel: string, entry: string): void {
  const parts = rel.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    let st: Stats;
    try {
      st = lstatSync(join(root, ...parts.slice(0, i)));
    } catch {
      return;
    }
    if (st.isSymbolicLink()) throw invalid(`archive entry "${entry}" goes through a symbolic link: refused`);
  }
}

function meta(p: string, h: TarHeader, keepIds: boolean): void {
  const link = h.type === 'symlink';
  if (keepIds) lchownSync(p, h.uid, h.gid);
  if (!link) {
    chmodSync(p, h.mode);
    if (h.mtime) utimesSync(p, h.mtime, h.mtime);
  }
}

async function toContainer(
  client: ApiClient,
  src: string,
  container: string,
  dest: string,
  follow: boolean,
  copyUIDGID: boolean,
): Promise<void> {
  const put = (path: string, body: NodeJS.ReadableStream) =>
    client
      .upload('PUT', `/containers/${encodeURIComponent(container)}/archive`, body, {
        query: { path, noOverwriteDirNonDir: true, copyUIDGID: copyUIDGID || undefined },
      })
      .then((r) => {
        r.resume();
      });
  if (src === '-') {
    await put(dest, process.stdin);
    return;
  }
  const st = follow ? statSync(src) : lstatSync(src);
  const contents = src.endsWith('/.') || src === '.';
  const target = await statIn(client, container, dest);
  let dir: string;
  let name: string;
  if (target && isDirMode(target.mode)) {
    dir = dest;
    name = contents ? '.' : basename(resolve(src));
  } else if (target) {
    if (st.isDirectory()) throw invalid(`cannot copy a directory to a file: ${dest}`);
    dir = dirname(dest);
    name = basename(dest);
  } else {
    if (dest.endsWith('/') && !st.isDirectory()) throw invalid(`no such directory: ${dest}`);
    dir = dirname(dest.replace(/\/+$/, '')) || '/';
    name = basename(dest.replace(/\/+$/, ''));
  }
  const pack = new TarWriter();
  const packing = packHost(pack, src, name, st).then(
    () => pack.end(),
    (e: Error) => {
      pack.destroy(e);
      throw e;
    },
  );
  await Promise.all([put(dir, pack.stream), packing]);
}

/** Host files under `name` in the tar (the top entry `st`, already stat'ed, with -L followed). */
async function packHost(pack: TarWriter, path: string, name: string, st: Stats): Promise<void> {
  const add = (h: TarHeaderInput, body?: AsyncIterable<Uint8Array>) => pack.add(h, body);
  const walk = async (p: string, n: string, s: Stats): Promise<void> => {
    const base = { uid: s.uid, gid: s.gid, mode: s.mode & 0o7777, mtime: s.mtime };
    if (s.isDirectory()) {
      if (n !== '.') await add({ name: `${n}/`, type: 'directory', ...base });
      for (const c of readdirSync(p).sort()) await walk(join(p, c), n === '.' ? c : `${n}/${c}`, lstatSync(join(p, c)));
    } else if (s.isSymbolicLink()) {
      await add({ name: n, type: 'symlink', linkname: readlinkSync(p), ...base });
    } else if (s.isFile()) {
      await add({ name: n, type: 'file', size: s.size, ...base }, createReadStream(p));
    }
  };
  await walk(path, name, st);
}
