// Where a container's cgroup lives in each hierarchy: runc's cgroupsPath rules (absolute →
// under the hierarchy's root, relative → under the caller's own cgroup, empty → /berth/<id>).
// Pure: the caller passes the mounts and its own cgroups.
import { posix } from 'node:path';
import { invalid, unsupported } from '../../errors.js';
import type { CgroupMount } from './detect.js';

export interface CgroupPath {
  /** true: relative to the calling process's own cgroup in each hierarchy. */
  relative: boolean;
  /** Normalized; starts with '/' when absolute. */
  path: string;
}

/** Parses an OCI `linux.cgroupsPath` for the cgroupfs driver. */
export function parseCgroupsPath(cgroupsPath: string | undefined, id: string): CgroupPath {
  const p = (cgroupsPath ?? '').trim();
  if (p === '') {
    if (!id || id.includes('/') || id === '.' || id === '..') throw invalid(`container id ${JSON.stringify(id)} cannot name a cgroup`);
    return { relative: false, path: `/berth/${id}` };
  }
  // systemd's form is "slice:prefix:name" (three fields, no slashes).
  if (!p.includes('/') && p.split(':').length === 3) {
    throw unsupported(`cgroupsPath ${JSON.stringify(p)}: systemd cgroup driver is not supported; use cgroupfs paths`);
  }
  if (p.includes('\0')) throw invalid(`cgroupsPath ${JSON.stringify(p)} contains a NUL byte`);
  if (p.startsWith('/')) {
    const path = posix.normalize(p).replace(/\/+$/, '');
    if (path === '' || path === '/') throw invalid(`cgroupsPath ${JSON.stringify(p)} names the root cgroup; a container needs its own`);
    if (path.split('/').includes('..')) throw invalid(`cgroupsPath ${JSON.stringify(p)} leaves the cgroup root`);
    return { relative: false, path };
  }
  const path = posix.normalize(p).replace(/\/+$/, '');
  if (path === '.' || path === '' || path === '..' || path.startsWith('../')) {
    throw invalid(`cgroupsPath ${JSON.stringify(p)} must name a cgroup below the caller's own`);
  }
  return { relative: true, path };
}

/**
 * The directory of `cp` in one hierarchy. `own` is the caller's cgroup in that hierarchy as
 * /proc/self/cgroup shows it; it is needed only for relative paths.
 */
export function hierarchyDir(mount: CgroupMount, cp: CgroupPath, own?: string): string {
  if (!cp.relative) return posix.join(mount.mountPoint, cp.path);
  if (own === undefined)
    throw invalid(`relative cgroupsPath ${JSON.stringify(cp.path)}: the caller's cgroup in ${mount.mountPoint} is unknown`);
  const rel = posix.relative(mount.root, own);
  if (rel.startsWith('..')) {
    throw invalid(
      `relative cgroupsPath ${JSON.stringify(cp.path)}: the caller's cgroup ${own} is outside what ${mount.mountPoint} shows (${mount.root})`,
    );
  }
  return posix.join(mount.mountPoint, rel, cp.path);
}
