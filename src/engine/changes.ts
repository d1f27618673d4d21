// `docker diff` for berth's containers: the snapshot's changes less what the engine itself put
// in the writable layer — the mount points the runtime made for the container's mounts (the
// init files, /proc, /dev, volumes …), empty and absent from the image — and the directories
// that changed only to hold them. Docker keeps those in a separate "init layer", so neither
// its diff nor its commit shows them; `commit` leaves out the same paths.

import { closeSync, constants, fstatSync, readdirSync } from 'node:fs';
import type { Change } from '../image/index.js';
import { openInRoot } from '../native/binding.js';
import { O_PATH } from './container-root.js';

/** True when `path` (absolute in the container) is, in the upper dir, an empty directory or an empty file. */
function emptyIn(upper: string, path: string): boolean {
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
    return false;
  } finally {
    closeSync(fd);
  }
}

/**
 * Splits the snapshot's changes into what the user made (`changes`, Docker's diff) and the
 * paths the engine made or changed only for its mounts (`engineMade`, left out of commits). `mountPoints`: every mount
 * destination of the container.
 */
export function userChanges(all: Change[], mountPoints: string[], upper: string): { changes: Change[]; engineMade: Set<string> } {
  const targets = new Set(mountPoints);
  const ancestors = new Set<string>();
  for (const m of mountPoints) for (let p = m; p !== '/'; p = p.slice(0, p.lastIndexOf('/')) || '/') if (p !== m) ancestors.add(p);
  const dropped = new Set<string>();
  // Deepest first, so that a directory is judged after everything under it.
  const order = [...all].sort((a, b) => b.path.length - a.path.length);
  const kept = new Set<string>();
  for (const c of order) {
    // Only mount points and their parents are looked at closer: the rest is the user's.
    const candidate = (c.kind === 'A' && targets.has(c.path)) || (c.kind !== 'D' && ancestors.has(c.path));
    const under = (p: string) => p.startsWith(`${c.path}/`);
    const engine =
      candidate && ![...kept].some(under) && (targets.has(c.path) && c.kind === 'A' ? emptyIn(upper, c.path) : [...dropped].some(under));
    if (engine) dropped.add(c.path);
    else kept.add(c.path);
  }
  return { changes: all.filter((c) => !dropped.has(c.path)), engineMade: dropped };
}

/** Docker's diff kinds: 0 modified, 1 added, 2 deleted. */
export function dockerChange(c: Change): { Path: string; Kind: 0 | 1 | 2 } {
  return { Path: c.path, Kind: c.kind === 'C' ? 0 : c.kind === 'A' ? 1 : 2 };
}
