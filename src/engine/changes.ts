// `docker diff` for berth's containers: the snapshot's changes less what the engine itself put
// in the writable layer — its init layer (init-layer.ts: /.dockerenv, /etc/mtab, the mount
// points of /dev/shm, /proc …) and the mount points the runtime made for the container's mounts
// (the init files, volumes …), as made and absent from the image — and the directories that
// changed only to hold them. Docker keeps those in a separate "init layer", so neither its diff
// nor its commit shows them; `commit` leaves out the same paths. An init layer path the user
// changed (a file copied into /dev/shm) is a change, as dockerd sees it over its init layer.

import { closeSync, constants, fstatSync, readdirSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import type { Change } from '../image/index.js';
import { openInRoot } from '../native/binding.js';
import { O_PATH } from './container-root.js';
import { INIT_LAYER } from './init-layer.js';

/**
 * True when `path` (absolute in the container) is, in the upper dir, as the engine makes it: an
 * empty directory or an empty file, or the symlink to `link`.
 */
function asMade(upper: string, path: string, link: string | undefined): boolean {
  let fd: number;
  try {
    fd = openInRoot(upper, path, O_PATH | constants.O_NOFOLLOW);
  } catch {
    return false;
  }
  try {
    const st = fstatSync(fd);
    if (st.isFile()) return st.size === 0;
    if (st.isDirectory()) return readdirSync(`/proc/self/fd/${fd}`).length === 0;
    return st.isSymbolicLink() && link !== undefined && linkIn(upper, path) === link;
  } finally {
    closeSync(fd);
  }
}

/** The target of the symlink `path` in `upper`, read through its parent opened inside it. */
function linkIn(upper: string, path: string): string {
  const dir = openInRoot(upper, posix.dirname(path), O_PATH | constants.O_DIRECTORY);
  try {
    return readlinkSync(`/proc/self/fd/${dir}/${posix.basename(path)}`);
  } finally {
    closeSync(dir);
  }
}

/**
 * Bytes of the init layer's symlinks still as made in `upper` (their targets' lengths): not the
 * container's own, as dockerd's separate init layer keeps them out of its `SizeRw`.
 */
export function initLayerBytes(upper: string): number {
  let n = 0;
  for (const [path, kind] of INIT_LAYER) if (kind !== 'dir' && kind !== 'file' && asMade(upper, path, kind)) n += Buffer.byteLength(kind);
  return n;
}

/** What the init layer makes `path` a symlink to, if it does. */
function symlinkOf(path: string): string | undefined {
  const kind = INIT_LAYER.get(path);
  return kind === 'dir' || kind === 'file' ? undefined : kind;
}

/**
 * Splits the snapshot's changes into what the user made (`changes`, Docker's diff) and the
 * paths the engine made or changed only for its mounts (`engineMade`, left out of commits). `mountPoints`: every mount
 * destination of the container.
 */
export function userChanges(all: Change[], mountPoints: string[], upper: string): { changes: Change[]; engineMade: Set<string> } {
  const targets = new Set([...mountPoints, ...INIT_LAYER.keys()]);
  const ancestors = new Set<string>();
  for (const m of targets) for (let p = m; p !== '/'; p = p.slice(0, p.lastIndexOf('/')) || '/') if (p !== m) ancestors.add(p);
  const dropped = new Set<string>();
  // Deepest first, so that a directory is judged after everything under it.
  const order = [...all].sort((a, b) => b.path.length - a.path.length);
  const kept = new Set<string>();
  for (const c of order) {
    // Only mount points and their parents are looked at closer: the rest is the user's.
    const candidate = (c.kind === 'A' && targets.has(c.path)) || (c.kind !== 'D' && ancestors.has(c.path));
    const under = (p: string) => p.startsWith(`${c.path}/`);
    const engine =
      candidate &&
      ![...kept].some(under) &&
      (targets.has(c.path) && c.kind === 'A' ? asMade(upper, c.path, symlinkOf(c.path)) : [...dropped].some(under));
    if (engine) dropped.add(c.path);
    else kept.add(c.path);
  }
  // An init layer path the image lacked is there below the user's layer: changed, not added.
  const changes = all
    .filter((c) => !dropped.has(c.path))
    .map((c) => (c.kind === 'A' && INIT_LAYER.has(c.path) ? { ...c, kind: 'C' as const } : c));
  return { changes, engineMade: dropped };
}

/** Docker's diff kinds: 0 modified, 1 added, 2 deleted. */
export function dockerChange(c: Change): { Path: string; Kind: 0 | 1 | 2 } {
  return { Path: c.path, Kind: c.kind === 'C' ? 0 : c.kind === 'A' ? 1 : 2 };
}
