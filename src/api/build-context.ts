// The context `berth build` and `berth compose build` send: the directory walked as the docker
// CLI walks it, leaving out what .dockerignore leaves out (the .dockerignore and the Dockerfile
// are always sent; berthd removes them again where .dockerignore names them, as dockerd does),
// packed as a tar stream (owners 0:0 as the docker CLI sends them, modes and times kept, symlinks
// as links, hard links once). A Dockerfile from stdin or from outside the directory goes in under
// a random name that the sent .dockerignore names, so that `COPY . /` never copies it.

import { randomBytes } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DockerignoreMatcher, keepBuildFiles, parseDockerignore } from '../common/dockerignore.js';
import { errno } from '../common/errno.js';
import { invalid } from '../errors.js';
import { encodeHeader, padding, type TarHeaderInput } from '../tar/header.js';

/** Files up to this size are read whole; larger ones in pieces of this size. */
const PIECE = 1 << 20;
/** The stream is handed out in chunks of about this size: few turns of the loop, little held. */
const CHUNK = 256 << 10;

export interface ContextOptions {
  /** The Dockerfile's path relative to `dir`, when it is inside; else its text goes in as `extraDockerfile`. */
  dockerfile?: string;
  /** A Dockerfile's text to add under a random name (from stdin, or from outside the context). */
  extraDockerfile?: string;
}

export interface PackedContext {
  stream: Readable;
  /** The Dockerfile's name in the context (what the `dockerfile` query parameter says). */
  dockerfile: string;
}

/** The text of `dir`'s .dockerignore, or undefined when it has none. */
async function ignoreFile(dir: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, '.dockerignore'), 'utf8');
  } catch (e) {
    if (errno(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Packs `dir` as a build context; the stream fails with the first error of the walk. The walk is
 * synchronous (a command line's own process, no loop to keep free; an awaited call per stat and
 * read cost ~1 s for 2,000 files against ~0.1 s so) and runs as the stream is read, a chunk at a
 * time, so that the upload starts at once and a large context is never held whole.
 */
export async function packContext(dir: string, opts: ContextOptions): Promise<PackedContext> {
  const ignore = await ignoreFile(dir);
  const patterns = ignore === undefined ? [] : parseDockerignore(ignore);
  const extraName = opts.extraDockerfile !== undefined ? `.dockerfile.${randomBytes(10).toString('hex')}` : undefined;
  const dockerfile = extraName ?? opts.dockerfile ?? 'Dockerfile';
  const matcher = new DockerignoreMatcher(keepBuildFiles(patterns, dockerfile, extraName !== undefined));
  function* walk(): Generator<Buffer> {
    const out = new TarChunks();
    const links = new Map<string, string>();
    function* visit(rel: string): Generator<Buffer> {
      const path = join(dir, rel);
      const st = lstatSync(path);
      if (rel === '.dockerignore' && extraName) return; // written below, with the extra Dockerfile named in it
      const decision = matcher.decide(rel, st.isDirectory());
      if (decision === 'exclude') return;
      const base = { uid: 0, gid: 0, mode: st.mode & 0o7777, mtime: st.mtime };
      if (st.isDirectory()) {
        if (decision === 'include') out.add({ name: `${rel}/`, type: 'directory', ...base });
        for (const name of readdirSync(path).sort()) yield* visit(`${rel}/${name}`);
      } else if (decision === 'descend') {
        return;
      } else if (st.isSymbolicLink()) {
        out.add({ name: rel, type: 'symlink', linkname: readlinkSync(path), ...base });
      } else if (st.isFile()) {
        yield* addFile(out, rel, path, st, base, links);
      } else if (!st.isSocket()) {
        // Sockets are left out as the docker CLI leaves them; a device or FIFO is no build input.
        throw invalid(`build context: ${path} is not a file, directory or symbolic link`);
      }
      if (out.size >= CHUNK) yield out.take();
    }
    for (const name of readdirSync(dir).sort()) yield* visit(name);
    if (extraName) {
      out.add({ name: extraName, mode: 0o600 }, Buffer.from(opts.extraDockerfile!));
      // As the docker CLI: the user's .dockerignore with the name added, or one that leaves out itself and the name.
      out.add({ name: '.dockerignore', mode: 0o644 }, Buffer.from(`${ignore ?? '.dockerignore'}\n${extraName}\n`));
    }
    out.end();
    yield out.take();
  }
  return { stream: Readable.from(walk(), { objectMode: false }), dockerfile };
}

/** Tar blocks gathered until there are enough to hand out. */
class TarChunks {
  private parts: Buffer[] = [];
  size = 0;

  push(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
  }

  /** A header, and the body of a file that is read whole. */
  add(h: TarHeaderInput, body?: Buffer): void {
    this.push(encodeHeader(body ? { ...h, size: body.length } : h));
    if (body?.length) {
      this.push(body);
      const pad = padding(body.length);
      if (pad) this.push(Buffer.alloc(pad));
    }
  }

  /** The two zero blocks that close the archive. */
  end(): void {
    this.push(Buffer.alloc(1024));
  }

  take(): Buffer {
    const b = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    return b;
  }
}

function* addFile(
  out: TarChunks,
  rel: string,
  path: string,
  st: Stats,
  base: { uid: number; gid: number; mode: number; mtime: Date },
  links: Map<string, string>,
): Generator<Buffer> {
  const key = `${st.dev}:${st.ino}`;
  if (st.nlink > 1) {
    const first = links.get(key);
    if (first) return out.add({ name: rel, type: 'link', linkname: first, ...base });
    links.set(key, rel);
  }
  const header = { name: rel, size: st.size, ...base };
  if (st.size <= PIECE) {
    const data = readFileSync(path);
    if (data.length !== st.size) throw new Error(`${path} changed size while it was being packed (${st.size} → ${data.length} bytes)`);
    return out.add(header, data);
  }
  // A large file in pieces, each handed out as it is read.
  out.push(encodeHeader(header));
  const fd = openSync(path, 'r');
  try {
    let got = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(PIECE, st.size - got + 1));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      got += n;
      if (got > st.size) throw new Error(`${path} grew past its ${st.size} bytes while it was being packed`);
      out.push(n === buf.length ? buf : buf.subarray(0, n));
      if (out.size >= CHUNK) yield out.take();
    }
    if (got !== st.size) throw new Error(`${path} gave ${got} of its ${st.size} bytes while it was being packed`);
  } finally {
    closeSync(fd);
  }
  const pad = padding(st.size);
  if (pad) out.push(Buffer.alloc(pad));
}
