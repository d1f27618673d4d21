// A container with no mount namespace of its own has its mounts made in the caller's, under its
// root (as runc makes them). runc leaves them there after delete; berth notes which mounts were
// under the root before create, and delete unmounts the others, deepest first.
import { readFile, realpath } from 'node:fs/promises';
import { mountEntries, type MountEntry } from '../common/mountinfo.js';
import { systemError } from '../errors.js';
import { MNT_DETACH, umount2 } from '../native/binding.js';

/** The mounts of a mountinfo text at `dir` or below it. Pure. */
export function mountsUnder(mountinfo: string, dir: string): MountEntry[] {
  return mountEntries(mountinfo).filter((e) => e.mountPoint === dir || e.mountPoint.startsWith(dir + '/'));
}

async function realRoot(rootfs: string): Promise<string | undefined> {
  try {
    return await realpath(rootfs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // gone: nothing is mounted under it
    throw e;
  }
}

/** The ids of the mounts under `rootfs` now, in this process's mount namespace. */
export async function mountIdsUnder(rootfs: string): Promise<number[]> {
  const dir = await realRoot(rootfs);
  return dir ? mountsUnder(await readFile('/proc/self/mountinfo', 'utf8'), dir).map((m) => m.id) : [];
}

/** Unmounts (lazily, deepest first) the mounts under `rootfs` that are not in `keep`; returns the errors. */
export async function unmountAddedUnder(rootfs: string, keep: number[]): Promise<Error[]> {
  const errors: Error[] = [];
  let added: MountEntry[];
  try {
    const dir = await realRoot(rootfs);
    if (!dir) return [];
    const kept = new Set(keep);
    added = mountsUnder(await readFile('/proc/self/mountinfo', 'utf8'), dir).filter((m) => !kept.has(m.id));
  } catch (e) {
    return [systemError(`list the mounts under ${rootfs}: ${(e as Error).message}`, e)];
  }
  // Later mounts first: a mount stacked on another, or made under it, goes before it.
  for (const m of added.reverse()) {
    try {
      umount2(m.mountPoint, MNT_DETACH);
    } catch (e) {
      // One above it, already detached, took it along.
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL' && (e as NodeJS.ErrnoException).code !== 'ENOENT')
        errors.push(systemError((e as Error).message, e));
    }
  }
  return errors;
}
