// Which cgroup layout the machine has (v1, v2 or hybrid) and where each hierarchy is mounted,
// read from /proc/self/mountinfo; and which cgroup the calling process is in (/proc/self/cgroup).
// The parsers are pure (they take the file's text); only `read*` functions touch the file system.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { unescapeMountinfo } from '../../common/mountinfo.js';
import { notFound } from '../../errors.js';

/** 'none': no cgroups of the container's own (none.ts, a rootless runtime where none are delegated). */
export type CgroupLayout = 'v1' | 'v2' | 'hybrid' | 'none';

/** The v1 controllers berth knows; a v1 mount's super options name them (plus `name=<x>` hierarchies). */
export const V1_CONTROLLERS = [
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'blkio',
  'pids',
  'hugetlb',
  'net_cls',
  'net_prio',
  'perf_event',
  'rdma',
  'misc',
] as const;

/** One cgroup file system mount. `root` is the cgroup the mount shows at `mountPoint` (`/` unless in a cgroup namespace or a bind mount). */
export interface CgroupMount {
  mountPoint: string;
  root: string;
}

export interface DetectedLayout {
  layout: CgroupLayout;
  /** Where the hierarchies were looked for (default /sys/fs/cgroup). */
  mountRoot: string;
  /** v1 and hybrid: controller (and `name=systemd`) → its mount. Co-mounted controllers share one. */
  v1: Record<string, CgroupMount>;
  /** v2: the mount at mountRoot; hybrid: the cgroup2 mount (usually mountRoot/unified). */
  unified?: CgroupMount;
}

export interface MountinfoEntry {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** Parses the cgroup and cgroup2 lines of a mountinfo text; other lines are skipped. */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const out: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    const fsType = post[0];
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    if (pre.length < 5) continue;
    out.push({
      root: unescapeMountinfo(pre[3]),
      mountPoint: unescapeMountinfo(pre[4]),
      fsType,
      superOptions: (post[2] ?? '').split(','),
    });
  }
  return out;
}

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : dir + '/');
}

/**
 * The layout as seen from `mountRoot`: a cgroup2 mount exactly at mountRoot is v2; v1 controller
 * mounts under mountRoot are v1, or hybrid when a cgroup2 mount also sits under mountRoot.
 * Pure: takes the text of /proc/self/mountinfo.
 */
export function parseLayout(mountinfo: string, mountRoot = '/sys/fs/cgroup'): DetectedLayout {
  const root = posix.normalize(mountRoot).replace(/\/+$/, '') || '/';
  const entries = parseMountinfo(mountinfo).filter((e) => isUnder(e.mountPoint, root));
  // Later mounts over the same point hide earlier ones; keep the last one per mount point.
  const byPoint = new Map<string, MountinfoEntry>();
  for (const e of entries) byPoint.set(e.mountPoint, e);
  const visible = [...byPoint.values()];

  const atRoot = visible.find((e) => e.mountPoint === root && e.fsType === 'cgroup2');
  if (atRoot) return { layout: 'v2', mountRoot: root, v1: {}, unified: { mountPoint: atRoot.mountPoint, root: atRoot.root } };

  const v1: Record<string, CgroupMount> = {};
  let unified: CgroupMount | undefined;
  for (const e of visible) {
    const mount = { mountPoint: e.mountPoint, root: e.root };
    if (e.fsType === 'cgroup2') {
      unified ??= mount;
      continue;
    }
    for (const opt of e.superOptions) {
      if ((V1_CONTROLLERS as readonly string[]).includes(opt) || opt.startsWith('name=')) v1[opt] ??= mount;
    }
  }
  const controllers = Object.keys(v1).filter((k) => !k.startsWith('name='));
  if (controllers.length === 0) {
    if (unified) return { layout: 'v2', mountRoot: unified.mountPoint, v1: {}, unified };
    throw notFound(`no cgroup hierarchy is mounted under ${root} (see /proc/self/mountinfo)`);
  }
  return unified ? { layout: 'hybrid', mountRoot: root, v1, unified } : { layout: 'v1', mountRoot: root, v1 };
}

/** Detects the layout of the running machine (reads /proc/self/mountinfo). */
export function readLayout(mountRoot = '/sys/fs/cgroup'): DetectedLayout {
  return parseLayout(readFileSync('/proc/self/mountinfo', 'utf8'), mountRoot);
}

/**
 * /proc/<pid>/cgroup → hierarchy key → cgroup path. Keys: each v1 controller of a line
 * (`4:cpu,cpuacct:/x` gives both), `name=systemd`, and '' for the unified hierarchy (`0::/x`).
 */
export function parseProcCgroup(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line) continue;
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const ctrls = line.slice(a + 1, b);
    const path = line.slice(b + 1);
    if (ctrls === '') out[''] = path;
    else for (const c of ctrls.split(',')) out[c] = path;
  }
  return out;
}

export function readOwnCgroups(): Record<string, string> {
  return parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
}
