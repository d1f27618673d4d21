// The context `berth build` and `berth compose build` send: the directory walked as the docker
// CLI walks it, leaving out what .dockerignore leaves out (the .dockerignore and the Dockerfile
// are always sent; berthd removes them again where .dockerignore names them, as dockerd does),
// packed as a tar stream (owners 0:0 as the docker CLI sends them, modes and times kept, symlinks
// as links, hard links once). A Dockerfile from stdin or from outside the directory goes in under
// a random name that the sent .dockerignore names, so that `COPY . /` never copies it.

import { randomBytes } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DockerignoreMatcher, keepBuildFiles, parseDockerignore } from '../common/dockerignore.js';
import { errno } from '../common/errno.js';
import { invalid } from '../errors.js';
import { TarWriter } from '../tar/index.js';

/** Files up to this size are read whole into the archive. */
const SMALL_FILE = 64 << 10;

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

/** Packs `dir` as a build context; the stream fails with the first error of the walk. */
export async function packContext(dir: string, opts: ContextOptions): Promise<PackedContext> {
  const ignore = await ignoreFile(dir);
  const patterns = ignore === undefined ? [] : parseDockerignore(ignore);
  const extraName = opts.extraDockerfile !== undefined ? `.dockerfile.${randomBytes(10).toString('hex')}` : undefined;
  const dockerfile = extraName ?? opts.dockerfile ?? 'Dockerfile';
  const matcher = new DockerignoreMatcher(keepBuildFiles(patterns, dockerfile, extraName !== undefined));
  const tar = new TarWriter();
  const walk = async () => {
    const links = new Map<string, string>();
    const visit = async (rel: string): Promise<void> => {
      const path = join(dir, rel);
      const st = await lstat(path);
      if (rel === '.dockerignore' && extraName) return; // written below, with the extra Dockerfile named in it
      const decision = matcher.decide(rel, st.isDirectory());
      if (decision === 'exclude') return;
      const base = { uid: 0, gid: 0, mode: st.mode & 0o7777, mtime: st.mtime };
      if (st.isDirectory()) {
        if (decision === 'include') await tar.add({ name: `${rel}/`, type: 'directory', ...base });
        for (const name of (await readdir(path)).sort()) await visit(`${rel}/${name}`);
      } else if (decision === 'descend') {
        return;
      } else if (st.isSymbolicLink()) {
        await tar.add({ name: rel, type: 'symlink', linkname: await readlink(path), ...base });
      } else if (st.isFile()) {
        await addFile(tar, rel, path, st, base, links);
      } else if (!st.isSocket()) {
        // Sockets are left out as the docker CLI leaves them; a device or FIFO is no build input.
        throw invalid(`build context: ${path} is not a file, directory or symbolic link`);
      }
    };
    for (const name of (await readdir(dir)).sort()) await visit(name);
    if (extraName) {
      await tar.add({ name: extraName, mode: 0o600 }, opts.extraDockerfile);
      // As the docker CLI: the user's .dockerignore with the name added, or one that leaves out itself and the name.
      await tar.add({ name: '.dockerignore', mode: 0o644 }, `${ignore ?? '.dockerignore'}\n${extraName}\n`);
    }
    await tar.end();
  };
  walk().catch((e: Error) => tar.destroy(e));
  return { stream: tar.stream, dockerfile };
}

async function addFile(
  tar: TarWriter,
  rel: string,
  path: string,
  st: Stats,
  base: { uid: number; gid: number; mode: number; mtime: Date },
  links: Map<string, string>,
): Promise<void> {
  const key = `${st.dev}:${st.ino}`;
  if (st.nlink > 1) {
    const first = links.get(key);
    if (first) return tar.add({ name: rel, type: 'link', linkname: first, ...base });
    links.set(key, rel);
  }
  // A small file in one read: a stream's open, reads and close cost more turns of the loop.
  await tar.add({ name: rel, size: st.size, ...base }, st.size <= SMALL_FILE ? await readFile(path) : createReadStream(path));
}
