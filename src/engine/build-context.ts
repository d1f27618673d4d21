// A build's context on berthd's disk: the tar stream of POST /build (plain, gzip, bzip2, xz or
// zstd) or the file a `remote=` URL names (a tarball, or a plain Dockerfile as dockerd takes
// one), unpacked into a private directory under `<data-root>/tmp/` and its Dockerfile read.
// Every entry passes the layer rules first (no absolute or `..` names, nothing written through
// a symlink the archive made, hard links only to files it made), so a context never writes
// outside its directory; symlinks themselves are kept as they are, for the builder to resolve
// inside the context. The directory is removed when the build is over, whatever its end
// (`remove`), and one a killed berthd left is removed at the next start (`clean`). A full disk
// is one clear error naming the data root. A context sent as the body is first only indexed
// (build/context-index.ts) and its tar spooled to one file: when it is plain (directories and
// files only), its files are written only once a step needs them, so a build whose every step
// hits the cache writes none; else it is unpacked at once.

import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, realpath, rename, rm, rmdir } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join, posix, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { rememberFileDigest } from '../build/copy.js';
import { ContextIndex } from '../build/context-index.js';
import { dirSize } from '../common/dir-size.js';
import { spaceError } from '../common/disk-full.js';
import { ignores, parseDockerignore } from '../common/dockerignore.js';
import { errno } from '../common/errno.js';
import { settled } from '../common/promises.js';
import { BerthError, errorMessage, invalid, systemError } from '../errors.js';
import { cloneGitContext, isGitRemote, parseGitRemote } from './git-context.js';
import { detectCompression, indexArchiveThreaded, unpackLayerThreaded, type ArchiveIndex } from '../image/index.js';

/** The Dockerfile a build reads, by the name the request gave it. */
export interface ContextDockerfile {
  name: string;
  text: string;
}

/** A context: its directory, its Dockerfile, and how to remove it. */
export interface BuildContext {
  /** Where its files are, once written (at once, unless `index` says they are written on demand). */
  dir: string;
  /** A context whose files are written only when a step needs them (`index.materialize()`). */
  index?: ContextIndex;
  dockerfile: ContextDockerfile;
  /** Bytes of file content in the context. */
  size: number;
  /** Removes the directory; never throws (a failure is logged). */
  remove(): Promise<void>;
}

/** How far a remote context's download has come (dockerd shows it as "Downloading context"). */
export interface DownloadProgress {
  url: string;
  current: number;
  total?: number;
}

/** dockerd's name for the Dockerfile when the request names none. */
export const DEFAULT_DOCKERFILE = 'Dockerfile';
/** A Dockerfile bigger than this is refused: no real one comes near, and it is read whole. */
const MAX_DOCKERFILE = 16 << 20;
/** The most of a remote plain Dockerfile held while it is told apart from a tarball. */
const SNIFF_BYTES = 512;
const PREFIX = 'build-context-';

type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;

export class BuildContexts {
  /**
   * @param tmpDir where contexts are unpacked (`<data-root>/tmp`), on the data root's disk
   * @param dataRoot named in the error a full disk gives
   */
  constructor(
    private readonly tmpDir: string,
    private readonly dataRoot: string,
    private readonly log?: Log,
  ) {}

  /** Removes the contexts a berthd that was killed mid-build left behind. */
  async clean(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.tmpDir);
    } catch (e) {
      if (errno(e) === 'ENOENT') return;
      throw e;
    }
    for (const n of names.filter((n) => n.startsWith(PREFIX))) {
      this.log?.('info', `removing the build context ${n} a stopped berthd left`);
      await rm(join(this.tmpDir, n), { recursive: true, force: true });
    }
  }

  /**
   * A context sent as the request body; `dockerfile` is its path in the context. The tar is
   * indexed and spooled on a worker; a plain one is written to disk only when `index` is
   * materialized, any other at once.
   */
  async fromArchive(source: Readable | AsyncIterable<Uint8Array>, dockerfile = DEFAULT_DOCKERFILE): Promise<BuildContext> {
    return this.made(async (dir, outer) => {
      const spool = join(outer, 'context.tar');
      const name = cleanDockerfilePath(dockerfile);
      const idx = await indexArchiveThreaded(source, spool, {
        check: { whiteouts: false, scope: 'build context' },
        capture: [name, ...(name === DEFAULT_DOCKERFILE ? ['dockerfile'] : []), '.dockerignore'],
        captureMax: MAX_DOCKERFILE,
      });
      const unpackSpool = async () => {
        await unpack(createReadStream(spool), dir);
        await rm(spool);
      };
      const ignore = idx.capturedSizes['.dockerignore'];
      if (!idx.plain || (ignore !== undefined && !idx.captured['.dockerignore'])) {
        await unpackSpool();
        const df = await readDockerfile(dir, dockerfile);
        await dropIgnoredBuildFiles(dir, df.name);
        return { size: idx.fileBytes, dockerfile: df };
      }
      let df: ContextDockerfile | undefined;
      const index = new ContextIndex(idx.entries, idx.rootMode ?? (await newDirMode(outer)), async () => {
        await unpackSpool();
        await dropIgnoredBuildFiles(dir, df!.name);
      });
      df = indexedDockerfile(index, idx, dockerfile);
      dropIgnoredFromIndex(index, idx, df.name);
      return { size: idx.fileBytes, dockerfile: df, index };
    });
  }

  /**
   * Fetches `url` (http or https) and makes it the context: a tarball (any compression) is
   * unpacked, anything else is taken as the Dockerfile itself, named `dockerfile`, alone in an
   * empty context, as dockerd does.
   */
  async fromRemote(
    url: string,
    dockerfile = DEFAULT_DOCKERFILE,
    opts: { signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void } = {},
  ): Promise<BuildContext> {
    if (remoteKind(url) === 'git') return this.fromGit(url, dockerfile);
    const res = await download(url, opts.signal);
    const total = Number(res.headers['content-length']) || undefined;
    let current = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const c of res as AsyncIterable<Buffer>) {
        current += c.length;
        opts.onProgress?.({ url, current, total });
        yield c;
      }
    }
    return this.made(async (dir) => {
      const [head, rest] = await peek(counted(), SNIFF_BYTES);
      const all = (async function* () {
        if (head.length) yield head;
        yield* rest;
      })();
      if (detectCompression(head) !== 'none' || isTar(head)) {
        const size = await unpack(all, dir);
        const df = await readDockerfile(dir, dockerfile);
        await dropIgnoredBuildFiles(dir, df.name);
        return { size, dockerfile: df };
      }
      const chunks: Buffer[] = [];
      let have = 0;
      for await (const c of all) {
        have += c.length;
        if (have > MAX_DOCKERFILE)
          throw invalid(`remote context ${url}: not a tar archive, and too large (over ${MAX_DOCKERFILE} bytes) for a Dockerfile`);
        chunks.push(Buffer.from(c));
      }
      const text = Buffer.concat(chunks);
      const name = cleanDockerfilePath(dockerfile);
      await mkdir(dir, { mode: 0o755 });
      await mkdir(join(dir, posix.dirname(name)), { recursive: true, mode: 0o755 });
      const fh = await open(join(dir, name), 'wx', 0o600);
      try {
        await fh.writeFile(text);
      } finally {
        await fh.close();
      }
      return { size: text.length, dockerfile: { name, text: text.toString('utf8') } };
    });
  }

  /** Clones the repository `remote` names (git-context.ts); the context is the folder it names in it. */
  private fromGit(remote: string, dockerfile: string): Promise<BuildContext> {
    return this.made(async (dir) => {
      const clone = `${dir}-git`;
      try {
        const context = await cloneGitContext(remote, clone);
        await rm(dir, { recursive: true, force: true });
        await rename(context, dir);
      } finally {
        await rm(clone, { recursive: true, force: true });
      }
      const df = await readDockerfile(dir, dockerfile);
      await dropIgnoredBuildFiles(dir, df.name);
      return { size: await dirSize(dir), dockerfile: df };
    });
  }

  /**
   * A fresh directory filled by `fill` (which makes it), in a private one of its own (the
   * context's root takes the archive's mode); removed again when filling fails.
   */
  private async made(
    fill: (dir: string, outer: string) => Promise<{ size: number; dockerfile: ContextDockerfile; index?: ContextIndex }>,
  ): Promise<BuildContext> {
    const outer = join(this.tmpDir, PREFIX + randomBytes(8).toString('hex'));
    const dir = join(outer, 'context');
    let index: ContextIndex | undefined;
    // Removal is the build's last act, after its answer: a failure is logged, not thrown. A
    // write of the files still under way ends first (its error went to the step that asked).
    const remove = async () => {
      if (index?.materialized) await settled(index.materialize());
      await rm(outer, { recursive: true, force: true }).catch((e: unknown) =>
        this.log?.('error', `removing the build context ${outer}: ${errorMessage(e)}; remove it by hand`),
      );
    };
    try {
      await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
      await mkdir(outer, { mode: 0o700 });
      const made = await fill(dir, outer);
      index = made.index;
      return { dir, dockerfile: made.dockerfile, size: made.size, remove, ...(index ? { index } : {}) };
    } catch (e) {
      await remove();
      throw await spaceError(e, this.dataRoot);
    }
  }
}

/** What kind of remote a `remote=` value names (a git repository, else a URL); others are refused in dockerd's words. */
export function remoteKind(remote: string): 'git' | 'url' {
  if (remote === 'client-session')
    throw invalid('experimental session with v1 builder is no longer supported, use builder version v2 (BuildKit) instead');
  if (isGitRemote(remote)) {
    parseGitRemote(remote); // (a bad ref is refused before anything is made)
    return 'git';
  }
  if (!/^https?:\/\//.test(remote)) {
    // dockerd's words (a 500 there; a 400 here, as it is the request that is wrong).
    throw invalid(`remoteURL (${remote}) could not be recognized as URL`);
  }
  return 'url';
}

/** Redirects a remote context may take before it is refused (Go's http client's limit, as dockerd). */
const MAX_REDIRECTS = 10;

/** GETs `url` (following redirects); the response of a 2xx, else dockerd's "error downloading remote context". */
async function download(url: string, signal?: AbortSignal, hops = 0): Promise<IncomingMessage> {
  const failed = (why: string, cause?: unknown) => systemError(`error downloading remote context ${url}: ${why}`, cause);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsGet : httpGet)(url, { signal }, resolve);
    req.once('error', (e) => reject(failed(errorMessage(e), e)));
  });
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400 && res.headers.location) {
    res.resume();
    if (hops >= MAX_REDIRECTS) throw failed(`stopped after ${MAX_REDIRECTS} redirects`);
    return download(new URL(res.headers.location, url).href, signal, hops + 1);
  }
  if (status < 200 || status >= 300) {
    res.resume();
    throw failed(`${status} ${res.statusMessage ?? ''}`.trim());
  }
  return res;
}

/** The Dockerfile's path as a clean relative path in the context: `/x`, `./x` and `../x` are `x`, as dockerd scopes it. */
function cleanDockerfilePath(path: string): string {
  const clean = posix.normalize(`/${path}`).slice(1);
  if (!clean) throw new BerthError('system', `Cannot locate specified Dockerfile: ${path}`);
  return clean;
}

/**
 * Reads the Dockerfile at `path` in the context, its symlinks followed only inside it; as
 * dockerd, a missing `Dockerfile` falls back to `dockerfile`. Refuses one that is missing.
 */
async function readDockerfile(dir: string, path: string): Promise<ContextDockerfile> {
  const name = cleanDockerfilePath(path);
  const read = async (rel: string): Promise<string | undefined> => {
    let real: string;
    try {
      real = await realpath(join(dir, rel));
    } catch (e) {
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR' || errno(e) === 'ELOOP') return undefined;
      throw e;
    }
    // A symlink out of the context is as good as missing (dockerd resolves it inside, where it is not).
    if (!real.startsWith(dir + sep)) return undefined;
    const fh = await open(real, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile()) return undefined;
      if (st.size > MAX_DOCKERFILE) throw invalid(`the Dockerfile ${path} is larger than ${MAX_DOCKERFILE} bytes`);
      return (await fh.readFile()).toString('utf8');
    } finally {
      await fh.close();
    }
  };
  let text = await read(name);
  let used = name;
  if (text === undefined && name === DEFAULT_DOCKERFILE) {
    used = 'dockerfile';
    text = await read(used);
  }
  // dockerd's words (and its 500: the client's request named a file the context lacks).
  if (text === undefined) throw new BerthError('system', `Cannot locate specified Dockerfile: ${path}`);
  return { name: used, text };
}

/**
 * As dockerd: once the Dockerfile is read, it and the .dockerignore are removed from the context
 * where the .dockerignore names them (clients send both whatever it says; the docker CLI names a
 * Dockerfile it added from stdin there), so that `COPY . /` never copies them.
 */
async function dropIgnoredBuildFiles(dir: string, dockerfile: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(join(dir, '.dockerignore'), 'utf8');
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'EISDIR') return;
    throw e;
  }
  const patterns = parseDockerignore(text);
  for (const f of ['.dockerignore', dockerfile]) if (ignores(patterns, f)) await rm(join(dir, f), { force: true });
}

/** The mode a directory made as unpacking makes the context's root (0755 under berthd's umask). */
async function newDirMode(outer: string): Promise<number> {
  const probe = join(outer, 'mode-probe');
  await mkdir(probe, { mode: 0o755 });
  const mode = (await lstat(probe)).mode & 0o7777;
  await rmdir(probe);
  return mode;
}

/** readDockerfile's answer from the index and the files the worker kept (a plain context has no symlink to follow). */
function indexedDockerfile(index: ContextIndex, idx: ArchiveIndex, path: string): ContextDockerfile {
  const name = cleanDockerfilePath(path);
  const read = (rel: string): string | undefined => {
    if (!index.get(rel)?.isFile()) return undefined;
    if (idx.capturedSizes[rel] > MAX_DOCKERFILE) throw invalid(`the Dockerfile ${path} is larger than ${MAX_DOCKERFILE} bytes`);
    return idx.captured[rel];
  };
  let text = read(name);
  let used = name;
  if (text === undefined && name === DEFAULT_DOCKERFILE) {
    used = 'dockerfile';
    text = read(used);
  }
  if (text === undefined) throw new BerthError('system', `Cannot locate specified Dockerfile: ${path}`);
  return { name: used, text };
}

/** dropIgnoredBuildFiles on the index: what it would remove from the disk is left out of the index. */
function dropIgnoredFromIndex(index: ContextIndex, idx: ArchiveIndex, dockerfile: string): void {
  if (!index.get('.dockerignore')?.isFile()) return;
  const patterns = parseDockerignore(idx.captured['.dockerignore']);
  for (const f of ['.dockerignore', dockerfile]) if (ignores(patterns, f) && index.get(f)?.isFile()) index.drop(f);
}

/** The first `n` bytes of `source` (fewer at its end), and an iterator over the rest. */
async function peek(source: AsyncIterable<Uint8Array>, n: number): Promise<[Buffer, AsyncIterable<Uint8Array>]> {
  const it = source[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const r = await it.next();
    if (r.done) break;
    parts.push(Buffer.from(r.value));
    have += r.value.length;
  }
  const rest = { [Symbol.asyncIterator]: () => it };
  return [Buffer.concat(parts), rest];
}

/** An uncompressed tar begins with a header whose magic at 257 is `ustar`. */
function isTar(head: Buffer): boolean {
  return head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar';
}

/**
 * Unpacks the tar `source` (any compression) as the directory `dir` (which must not exist) on a
 * worker thread, with the layer rules but no whiteouts, refusing devices and FIFOs; entries land
 * with their modes, owners and times. Each file is hashed as it is written, and COPY takes
 * those digests (rememberFileDigest) instead of reading the files again. Returns the bytes of
 * file content.
 */
async function unpack(source: AsyncIterable<Uint8Array>, dir: string): Promise<number> {
  const r = await unpackLayerThreaded(source, dir, {
    check: { whiteouts: false, scope: 'build context' },
    noDevices: true,
    fileDigests: true,
  });
  for (const f of r.files ?? []) rememberFileDigest(join(dir, f.path), f, f.sha256);
  return r.fileBytes;
}
