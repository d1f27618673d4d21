// A container's file system as seen from berthd, for cp, stat and extract: its root (the
// snapshot's overlay) with its bind mounts (volumes, binds, the init files) laid over it.
// Every path is resolved as if chrooted: symlinks and `..` are followed component by
// component inside the container, and every open goes through openat2 RESOLVE_IN_ROOT
// (native binding) below the mount it lands in, so a path the container swaps for a symlink
// mid-operation still never reaches a host file. tmpfs, proc and the like live only in the
// container's mount namespace: their mount points are seen empty, as Docker's cp sees them.

import { closeSync, constants, lstatSync, openSync, readdirSync, readlinkSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { invalid, notFound } from '../errors.js';
import { openInRoot } from '../native/binding.js';

/** open(2)'s O_PATH (Linux, every architecture berth runs on); Node does not export it. */
export const O_PATH = 0o10000000;
const MAX_SYMLINKS = 40;

/** A bind mount of the container's: `source` on the host shows at `destination` inside. */
export interface RootMount {
  destination: string;
  source: string;
  readOnly: boolean;
}

/** Where a container path lives on the host: under the directory `root` at `rel` ('' = root itself). */
export interface Location {
  root: string;
  rel: string;
  /** The bind mount it is in; undefined for the container's own root file system. */
  mount?: RootMount;
}

export class ContainerRoot {
  private readonly mounts: RootMount[];

  constructor(
    readonly rootfs: string,
    mounts: RootMount[],
  ) {
    // Longest destination first: the innermost mount wins.
    this.mounts = [...mounts].sort((a, b) => b.destination.length - a.destination.length);
  }

  /** The host location of a canonical (symlink-free, absolute) container path. */
  locate(path: string): Location {
    for (const m of this.mounts) {
      if (path === m.destination) return { root: m.source, rel: '', mount: m };
      if (path.startsWith(m.destination === '/' ? '/' : `${m.destination}/`))
        return { root: m.source, rel: path.slice(m.destination.length + 1), mount: m };
    }
    return { root: this.rootfs, rel: path.slice(1) };
  }

  /**
   * Runs `fn` with a host path naming `path`'s last component in its parent directory, which is
   * opened inside its root (`/proc/self/fd/N/name`), so only the last component is looked up
   * by path and it is never followed by lstat, readlink, mkdir, symlink, unlink or O_NOFOLLOW opens.
   */
  at<T>(path: string, fn: (hostPath: string) => T): T {
    const loc = this.locate(path);
    if (loc.rel === '') return fn(loc.root); // a mount source or the root itself: chosen by berthd
    const parent = posix.dirname(loc.rel);
    const fd = openInRoot(loc.root, parent === '.' ? '' : parent, O_PATH | constants.O_DIRECTORY);
    try {
      return fn(`/proc/self/fd/${fd}/${posix.basename(loc.rel)}`);
    } finally {
      closeSync(fd);
    }
  }

  lstat(path: string): Stats {
    return this.at(path, (p) => lstatSync(p));
  }
  readlink(path: string): string {
    return this.at(path, (p) => readlinkSync(p));
  }

  /** An fd for a canonical path, opened inside its root (`flags` as open(2); O_NOFOLLOW is added). */
  open(path: string, flags: number): number {
    const loc = this.locate(path);
    // A mount's source (a file for the init files) is a path berthd chose: opened as it is.
    if (loc.rel === '') return openSync(loc.root, flags | constants.O_NOFOLLOW);
    return openInRoot(loc.root, loc.rel, flags | constants.O_NOFOLLOW);
  }

  /** The names in a canonical directory path. */
  readdir(path: string): string[] {
    const fd = this.open(path, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      return readdirSync(`/proc/self/fd/${fd}`);
    } finally {
      closeSync(fd);
    }
  }

  /** True when a mount is at `path` or under it. */
  holdsMount(path: string): boolean {
    return this.mounts.some((m) => m.destination === path || m.destination.startsWith(path === '/' ? '/' : `${path}/`));
  }

  /**
   * Removes `path` and, for a directory, everything under it, never following a symlink. A
   * path that is or holds a mount point is refused: a volume's content is never removed this way.
   */
  removeAll(path: string): void {
    if (this.holdsMount(path)) throw invalid(`cannot remove ${path}: it is or holds a mount point`);
    this.removeTree(path);
  }

  private removeTree(path: string): void {
    if (this.lstat(path).isDirectory()) {
      for (const name of this.readdir(path)) this.removeTree(posix.join(path, name));
      this.at(path, (p) => rmdirSync(p));
    } else {
      this.at(path, (p) => unlinkSync(p));
    }
  }

  /**
   * Resolves `path` (absolute inside the container) to its canonical path, following symlinks
   * inside the container; the last component is followed only when `followLast`. A missing
   * component is `not-found` (`what` names it), unless `allowMissingLast` and it is the last one.
   */
  resolve(path: string, followLast: boolean, allowMissingLast = false): string {
    let pending = path.split('/').filter((p) => p && p !== '.');
    let cur = '/';
    let links = 0;
    while (pending.length) {
      const comp = pending.shift()!;
      if (comp === '..') {
        cur = posix.dirname(cur);
        continue;
      }
      const next = posix.join(cur, comp);
      const last = pending.length === 0;
      let st: Stats;
      try {
        st = this.lstat(next);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && last && allowMissingLast) return next;
        if (code === 'ENOENT' || code === 'ENOTDIR') throw notFound(`no such file or directory: ${path}`);
        throw e;
      }
      if (st.isSymbolicLink() && (!last || followLast)) {
        if (++links > MAX_SYMLINKS) throw invalid(`too many levels of symbolic links: ${path}`);
        let target: string;
        try {
          target = this.readlink(next);
        } catch (e) {
          // The container changed it since the lstat (no longer a symlink, or gone): look again.
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'EINVAL' && code !== 'ENOENT') throw e;
          pending.unshift(comp);
          continue;
        }
        if (target.startsWith('/')) cur = '/';
        pending = [...target.split('/').filter((p) => p && p !== '.'), ...pending];
        continue;
      }
      if (!last && !st.isDirectory()) throw notFound(`not a directory: ${posix.join(cur, comp)} in ${path}`);
      cur = next;
    }
    return cur;
  }
}
