// dockerd's init layer, made in the container's writable layer at create: the paths moby's
// daemon/initlayer puts between the image and the container (`/.dockerenv`, the mount points of
// /dev/pts, /dev/shm, /proc, /sys, /dev/console and the init files, an `/etc/mtab` symlink to
// /proc/mounts), each only where the image lacks it. `docker diff` and commit leave them out while
// they are as made (changes.ts), as dockerd's separate layer keeps them out; `export` carries them,
// as dockerd's does. Every path is resolved inside the root, so an image's symlink never leads
// a write out of it.

import { closeSync, constants, lchownSync, mkdirSync, openSync, symlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { ContainerRoot } from './container-root.js';

/** moby's initlayer.Setup: each path and what it is made as (another string: a symlink to it). */
export const INIT_LAYER: ReadonlyMap<string, string> = new Map([
  ['/dev/pts', 'dir'],
  ['/dev/shm', 'dir'],
  ['/proc', 'dir'],
  ['/sys', 'dir'],
  ['/.dockerenv', 'file'],
  ['/etc/resolv.conf', 'file'],
  ['/etc/hosts', 'file'],
  ['/etc/hostname', 'file'],
  ['/dev/console', 'file'],
  ['/etc/mtab', '/proc/mounts'],
]);

/** Whether `path` (canonical) is there, not following it. */
function present(root: ContainerRoot, path: string): boolean {
  try {
    root.lstat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * Makes the init layer's paths the image lacks in `rootfs` (the container's mounted snapshot),
 * as dockerd: directories and files mode 0755, missing parents made 0755, owned by `owner`
 * (the container's root on the host, under a user namespace) or root. Ten paths: a bounded
 * handful of system calls at create.
 */
export function makeInitLayer(rootfs: string, owner: { uid: number; gid: number } = { uid: 0, gid: 0 }): void {
  const root = new ContainerRoot(rootfs, []);
  const own = (p: string) => root.at(p, (h) => lchownSync(h, owner.uid, owner.gid));
  for (const [path, kind] of INIT_LAYER) {
    let dir = '/';
    for (const comp of posix.dirname(path).split('/').filter(Boolean)) {
      const next = root.resolve(posix.join(dir, comp), true, true);
      if (!present(root, next)) {
        root.at(next, (h) => mkdirSync(h, 0o755));
        own(next);
      }
      dir = next;
    }
    const target = posix.join(dir, posix.basename(path));
    if (present(root, target)) continue;
    root.at(target, (h) => {
      if (kind === 'dir') mkdirSync(h, 0o755);
      else if (kind === 'file')
        closeSync(openSync(h, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o755));
      else symlinkSync(kind, h);
    });
    own(target);
  }
}
