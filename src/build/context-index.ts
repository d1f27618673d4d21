// A build context known from its archive alone (engine/build-context.ts indexes the tar on a
// worker and spools it): its directories and files with their modes, sizes and content digests,
// and a way to write it to disk (`materialize`) the first time a step needs the files. COPY
// finds and digests its sources here exactly as it would on the unpacked context (the same
// walk, the same digest lines), so a step whose key hits the cache needs no file written; a
// step that misses, and anything else that reads the context, materializes it first. Only a
// plain archive (directories and regular files, parents before children, each path once) is
// indexed: for those the index is exactly what unpacking writes.

import { posix } from 'node:path';
import type { EntryInfo, SourceTree } from './copy.js';

/** A directory or file of the index, as a digest reads it. */
export class IndexStat implements EntryInfo {
  readonly rdev = 0;
  constructor(
    readonly type: 'dir' | 'file',
    readonly mode: number,
    readonly size: number,
    readonly sha256?: string,
  ) {}
  isDirectory(): boolean {
    return this.type === 'dir';
  }
  isFile(): boolean {
    return this.type === 'file';
  }
  isSymbolicLink(): boolean {
    return false;
  }
}

/** One match of a source pattern in the index: `host` and `rel` are both its path in the context. */
export interface IndexMatch {
  host: string;
  rel: string;
  st: IndexStat;
}

const META = /[*?[\\]/;

export class ContextIndex implements SourceTree<IndexStat> {
  private readonly entries = new Map<string, IndexStat>();
  private readonly kids = new Map<string, string[]>();
  private written?: Promise<void>;

  /**
   * @param entries the archive's entries in order (parents first), paths relative to the root
   * @param rootMode the root directory's mode as unpacking leaves it
   * @param fill writes the context to its directory (once)
   */
  constructor(
    entries: Iterable<{ path: string; type: 'dir' | 'file'; mode: number; size: number; sha256?: string }>,
    rootMode: number,
    private readonly fill: () => Promise<void>,
  ) {
    this.entries.set('', new IndexStat('dir', rootMode, 0));
    this.kids.set('', []);
    for (const e of entries) {
      this.entries.set(e.path, new IndexStat(e.type, e.mode, e.size, e.sha256));
      if (e.type === 'dir') this.kids.set(e.path, []);
      this.kids.get(posix.dirname(e.path) === '.' ? '' : posix.dirname(e.path))!.push(posix.basename(e.path));
    }
    for (const k of this.kids.values()) k.sort();
  }

  /** Leaves a path out (the Dockerfile or .dockerignore that the .dockerignore names, as on disk). */
  drop(path: string): void {
    if (!this.entries.delete(path)) return;
    const dir = posix.dirname(path) === '.' ? '' : posix.dirname(path);
    const k = this.kids.get(dir)!;
    k.splice(k.indexOf(posix.basename(path)), 1);
  }

  /** Writes the context to disk, once; every later call waits on the same write. */
  materialize(): Promise<void> {
    this.written ??= this.fill();
    return this.written;
  }

  /** True once the context is (being) written to disk: its readers then use the files. */
  get materialized(): boolean {
    return this.written !== undefined;
  }

  /** The entry at `path` (relative, '' the root), if the context has one. */
  get(path: string): IndexStat | undefined {
    return this.entries.get(path);
  }

  readdir(path: string): string[] {
    return this.kids.get(path) ?? [];
  }

  lstat(path: string): IndexStat {
    const st = this.entries.get(path);
    if (!st) throw new Error(`context index: no entry ${path}`);
    return st;
  }

  readlink(path: string): string {
    throw new Error(`context index: ${path} is no symbolic link`);
  }

  fileDigest(path: string, st: IndexStat): string {
    if (!st.sha256) throw new Error(`context index: ${path} has no digest`);
    return st.sha256;
  }

  /**
   * What `pattern` matches, as findSources (copy.ts) finds it on the unpacked context: with no
   * symbolic link in a plain context, resolving a path is normalizing it. An empty list when
   * nothing matches.
   */
  find(pattern: string, globRegex: (p: string) => RegExp): IndexMatch[] {
    const parts = posix.normalize(`/${pattern}`).split('/').filter(Boolean);
    let found: string[] = [''];
    for (const p of parts) {
      const next: string[] = [];
      for (const base of found) {
        if (!META.test(p)) {
          next.push(base ? `${base}/${p}` : p);
          continue;
        }
        const re = globRegex(p);
        for (const n of this.readdir(base)) if (re.test(n)) next.push(base ? `${base}/${n}` : n);
      }
      found = next;
    }
    const out: IndexMatch[] = [];
    for (const rel of found) {
      const st = this.entries.get(rel);
      if (st) out.push({ host: rel, rel, st });
    }
    return out;
  }
}
