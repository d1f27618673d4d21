// Picks a container's cgroup driver (v1, v2 or hybrid, behind interface.ts) for the machine's
// layout, in two ways: open for a fresh container, reopen from the paths a previous command
// saved. Holds no policy of its own.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { inUserNamespace } from '../../common/rootless.js';
import { invalid } from '../../errors.js';
import { type CgroupLayout, type DetectedLayout, parseLayout, readOwnCgroups } from './detect.js';
import { hierarchyDir, parseCgroupsPath } from './paths.js';
import type { CgroupManager, CgroupOptions } from './interface.js';
import { V1Cgroups } from './v1.js';
import { V2Cgroups } from './v2.js';
import { HybridCgroups } from './hybrid.js';
import { NoCgroups } from './none.js';

export type { CgroupLayout, DetectedLayout } from './detect.js';
export type { CgroupStats } from './stats.js';
export type { CgroupManager, CgroupOptions } from './interface.js';
export { limitsAsked, NOT_DELEGATED } from './none.js';

/**
 * The machine's layouts, once read: where the cgroup hierarchies are mounted does not change
 * under a running berthd, and /proc/self/mountinfo grows with every container's root file
 * system (reading and parsing it cost ~2 ms a call with 200 containers, several calls a start).
 */
const detected = new Map<string, DetectedLayout>();

/** The layout of this machine (or of the given mountinfo text, for tests), and its mounts. */
export function detectLayout(mountinfo?: string, mountRoot = '/sys/fs/cgroup'): DetectedLayout {
  if (mountinfo !== undefined) return parseLayout(mountinfo, mountRoot);
  let det = detected.get(mountRoot);
  if (!det) detected.set(mountRoot, (det = parseLayout(readFileSync('/proc/self/mountinfo', 'utf8'), mountRoot)));
  return det;
}

/** Pure part of openCgroups: the directories for cgroupsPath in each hierarchy of `det`. */
export function containerPaths(det: DetectedLayout, cgroupsPath: string, id: string, own: Record<string, string>): Record<string, string> {
  const cp = parseCgroupsPath(cgroupsPath, id);
  const paths: Record<string, string> = {};
  if (det.layout !== 'v2') for (const [k, m] of Object.entries(det.v1)) paths[k] = hierarchyDir(m, cp, own[k]);
  if (det.unified && det.layout !== 'v1') paths[''] = hierarchyDir(det.unified, cp, own['']);
  return paths;
}

/** Whether this process may make every directory of `paths` (the nearest existing folder above each is writable). */
export function cgroupsWritable(paths: Record<string, string>): boolean {
  return Object.values(paths).every((p) => {
    let dir = p;
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    try {
      accessSync(dir, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Whether a container's cgroups at `cgroupsPath` can be made here: always as root on the host; in a user namespace where they are delegated. */
export function cgroupsDelegated(cgroupsPath: string, id: string): boolean {
  if (!inUserNamespace()) return true;
  const det = detectLayout();
  const relative = parseCgroupsPath(cgroupsPath, id).relative;
  return cgroupsWritable(containerPaths(det, cgroupsPath, id, relative ? readOwnCgroups() : {}));
}

/**
 * The cgroups for a fresh container; nothing is made until create(). In a user namespace (a
 * rootless runtime) whose cgroups are not delegated to it, none (none.ts): limits are refused.
 */
export function openCgroups(cgroupsPath: string, id: string, opts: CgroupOptions = {}): CgroupManager {
  const det = detectLayout(undefined, opts.mountRoot);
  const relative = parseCgroupsPath(cgroupsPath, id).relative;
  const paths = containerPaths(det, cgroupsPath, id, relative ? readOwnCgroups() : {});
  if (inUserNamespace() && !cgroupsWritable(paths)) return new NoCgroups();
  return build(det.layout, paths, opts, det.unified?.mountPoint, true);
}

/** The cgroups of an existing container, from the layout and paths saved in its state. */
export function reopenCgroups(layout: CgroupLayout, paths: Record<string, string>, opts: CgroupOptions = {}): CgroupManager {
  for (const [k, v] of Object.entries(paths)) {
    if (typeof v !== 'string' || !v.startsWith('/'))
      throw invalid(`saved cgroup path for ${JSON.stringify(k)} is not absolute: ${JSON.stringify(v)}`);
  }
  let unifiedMount: string | undefined;
  if (layout !== 'v1' && paths[''] !== undefined) {
    try {
      unifiedMount = detectLayout(undefined, opts.mountRoot).unified?.mountPoint;
    } catch {
      unifiedMount = undefined;
    }
  }
  return build(layout, paths, opts, unifiedMount, false);
}

function build(
  layout: CgroupLayout,
  paths: Record<string, string>,
  opts: CgroupOptions,
  unifiedMount: string | undefined,
  fresh: boolean,
): CgroupManager {
  switch (layout) {
    case 'none':
      return new NoCgroups(opts.initPid);
    case 'v1':
      return new V1Cgroups(paths, fresh);
    case 'v2':
      if (paths[''] === undefined) throw invalid('cgroup v2 paths lack the unified hierarchy (key "")');
      return new V2Cgroups(paths[''], unifiedMount, opts, fresh);
    case 'hybrid': {
      const { '': unified, ...v1 } = paths;
      if (unified === undefined) throw invalid('hybrid cgroup paths lack the unified hierarchy (key "")');
      return new HybridCgroups(new V1Cgroups(v1, fresh), new V2Cgroups(unified, unifiedMount, opts, fresh));
    }
    default:
      throw invalid(`unknown cgroup layout ${JSON.stringify(layout)}`);
  }
}
