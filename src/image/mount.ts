// Mounting overlay file systems for snapshots, through the in-process native binding
// (src/native/binding.ts), each on a thread of its own so the event loop never waits on the kernel's
// mount lock. The lowerdir list is given relative to a directory (`cwd`) so that
// long lists fit the one page the kernel allows for the option string; this process's working
// directory never changes.

import { readFile } from 'node:fs/promises';
import { mountEntries } from '../common/mountinfo.js';
import { inUserNamespace } from '../common/rootless.js';
import * as native from '../native/binding.js';
import { mapText, type IdMapping } from '../common/id-map.js';

/**
 * The prefix of overlayfs' own xattrs (opaque markers, redirects): trusted.overlay.* for root on
 * the host; in a user namespace (a rootless berthd), which cannot write trusted.*, overlays are
 * mounted with `userxattr` and keep them in user.overlay.*.
 */
export function overlayXattrs(): string {
  return inUserNamespace() ? 'user.overlay.' : 'trusted.overlay.';
}

/** Mounts an overlay at `target`; `lower` is listed top first, paths relative to `cwd`; no `upper`: read-only. */
export async function mountOverlay(
  target: string,
  lower: string[],
  upper: string | undefined,
  work: string | undefined,
  cwd: string,
): Promise<void> {
  const opts = [`lowerdir=${lower.join(':')}`];
  if (upper && work) opts.push(`upperdir=${upper}`, `workdir=${work}`);
  if (inUserNamespace()) opts.push('userxattr');
  await native.mountAsync('overlay', target, 'overlay', 0, opts.join(','), cwd);
}

/** An id map of a snapshot's overlay: uid_map's lines, as OCI's linux.uidMappings. */
export type IdMap = IdMapping;

/**
 * Mounts an overlay at `target` whose layers (`lower`, top first, relative to `cwd`) are
 * idmapped to `uids`/`gids` (shared, never copied or chowned); `upper` and `work` as they are,
 * or none (undefined): a read-only overlay.
 */
export async function mountIdmappedOverlay(
  target: string,
  lower: string[],
  upper: string | undefined,
  work: string | undefined,
  cwd: string,
  uids: IdMap[],
  gids: IdMap[],
): Promise<void> {
  const abs = (p: string) => (p.startsWith('/') ? p : `${cwd}/${p}`);
  const rw = upper && work ? [abs(upper), abs(work)] : [null, null];
  await native.idmappedOverlayAsync(target, lower.map(abs), rw[0], rw[1], mapText(uids), mapText(gids));
}

/**
 * Unmounts the mount at `target` (never following a symlink there). Idempotent: a target that
 * is no longer a mount point (EINVAL) or gone (ENOENT) — another caller unmounted it between
 * our look at mountinfo and this call — is done.
 */
export async function unmount(target: string): Promise<void> {
  try {
    await native.umount2Async(target, native.UMOUNT_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOENT') throw e;
  }
}

/** Mount points at or under `dir`, deepest first (from /proc/self/mountinfo). */
export async function mountsUnder(dir: string): Promise<string[]> {
  return mountEntries(await readFile('/proc/self/mountinfo', 'utf8'))
    .map((e) => e.mountPoint)
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}
