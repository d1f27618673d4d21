// Pins a container's network namespace by bind-mounting /proc/<pid>/ns/net on a file under
// berth's exec-root, so the namespace (and the CNI DEL that needs it) outlives the process,
// and `--network container:<id>` has a stable path to join. Unpinning lets the kernel free it.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MNT_DETACH, mountAsync, umount2Async } from '../native/binding.js';
import { isErrno } from '../common/errno.js';

const MS_BIND = 0x1000;

export function netnsPath(dir: string, containerId: string): string {
  return join(dir, containerId);
}

/** Binds the namespace of `pid` on `<dir>/<containerId>` and returns that path. */
export async function pinNetns(dir: string, containerId: string, pid: number): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = netnsPath(dir, containerId);
  await unpinNetns(dir, containerId);
  await writeFile(path, '', { mode: 0o600 });
  await mountAsync(`/proc/${pid}/ns/net`, path, null, MS_BIND, null);
  return path;
}

/** Removes the pin; nothing to do when there is none. */
export async function unpinNetns(dir: string, containerId: string): Promise<void> {
  const path = netnsPath(dir, containerId);
  try {
    await umount2Async(path, MNT_DETACH);
  } catch (e) {
    if (!isErrno(e, 'EINVAL', 'ENOENT')) throw e; // not mounted (EINVAL), or no pin at all
  }
  await rm(path, { force: true });
}
