// Which optional cgroup limits this machine can apply, as dockerd's sysinfo reads them: a limit
// the kernel or the mounted controllers lack is warned of and discarded by the engine, in
// dockerd's words, and GET /info reports them. Reads only where each hierarchy is mounted (the
// files of its root cgroup; on v2 the controllers its root offers). Also the realtime budget of
// a container's parent cgroup: read, and written where berthd has `--cpu-rt-*`.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { systemError, unsupported } from '../../errors.js';
import type { DetectedLayout } from './detect.js';
import { detectLayout } from './manager.js';

export interface CgroupFeatures {
  /** blkio.weight (CFQ) or blkio.bfq.weight (BFQ) on v1; the io controller on v2. */
  blkioWeight: boolean;
  blkioWeightDevice: boolean;
  /** blkio.throttle.* on v1; io.max on v2. */
  blkioThrottle: boolean;
  /** cpu.rt_period_us and cpu.rt_runtime_us (v1 with CONFIG_RT_GROUP_SCHED); v2 has none. */
  cpuRealtime: boolean;
  /** memory.oom_control (v1); v2 has none. */
  oomKillDisable: boolean;
  /** memory.swappiness (v1); v2 has none. */
  memorySwappiness: boolean;
  /** memory.kmem.limit_in_bytes (v1; Linux 6.1 keeps the file but ignores what is written); v2 has none. */
  kernelMemory: boolean;
  /** memory.kmem.tcp.limit_in_bytes (v1); v2 has none. */
  kernelMemoryTCP: boolean;
  /** The memory controller; swap: memory.memsw.limit_in_bytes (v1, swap accounting on) or memory.swap.max (v2). */
  memoryLimit: boolean;
  swapLimit: boolean;
  /** cpu.cfs_period_us and cpu.cfs_quota_us (v1); the cpu controller (v2). */
  cpuCfsPeriod: boolean;
  cpuCfsQuota: boolean;
  /** cpu.shares (v1); the cpu controller (v2). */
  cpuShares: boolean;
  cpuset: boolean;
  /** The CPUs and memory nodes a container may ask (the cpuset root's lists, as dockerd's sysinfo reads them; v2: the effective ones). */
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit: boolean;
}

/** The features of a detected layout; `has(dir, file)` is the file check (a seam for tests). */
export function featuresOf(det: DetectedLayout, has: (dir: string, file: string) => boolean): CgroupFeatures {
  const v1 = (ctl: string, ...files: string[]) => {
    const m = det.v1[ctl];
    return det.layout !== 'v2' && m !== undefined && files.some((f) => has(m.mountPoint, f));
  };
  // v2: a controller offered at the root (its files are in child cgroups only); in the hybrid
  // layout only where no v1 hierarchy has it.
  const v2 = (ctl: string) =>
    det.layout !== 'v1' &&
    det.unified !== undefined &&
    det.v1[ctl] === undefined &&
    has(det.unified.mountPoint, `cgroup.controllers:${ctl}`);
  const io = v2('io');
  const memory = v1('memory', 'memory.limit_in_bytes') || v2('memory');
  const cpu = v2('cpu');
  return {
    blkioWeight: v1('blkio', 'blkio.weight', 'blkio.bfq.weight') || io,
    blkioWeightDevice: v1('blkio', 'blkio.weight_device', 'blkio.bfq.weight_device') || io,
    blkioThrottle: v1('blkio', 'blkio.throttle.read_bps_device') || io,
    cpuRealtime: v1('cpu', 'cpu.rt_runtime_us'),
    oomKillDisable: v1('memory', 'memory.oom_control'),
    memorySwappiness: v1('memory', 'memory.swappiness'),
    kernelMemory: v1('memory', 'memory.kmem.limit_in_bytes'),
    kernelMemoryTCP: v1('memory', 'memory.kmem.tcp.limit_in_bytes'),
    memoryLimit: memory,
    // (v2: swap is limited where the kernel has swap accounting, shown by memory.swap.max in a child.)
    swapLimit: v1('memory', 'memory.memsw.limit_in_bytes') || (v2('memory') && has(det.unified!.mountPoint, 'memory.swap.max@child')),
    cpuCfsPeriod: v1('cpu', 'cpu.cfs_period_us') || cpu,
    cpuCfsQuota: v1('cpu', 'cpu.cfs_quota_us') || cpu,
    cpuShares: v1('cpu', 'cpu.shares') || cpu,
    cpuset: v1('cpuset', 'cpuset.cpus') || v2('cpuset'),
    pidsLimit: v1('pids', 'cgroup.procs') || v2('pids'),
  };
}

/**
 * `dir/file` exists; for `cgroup.controllers:<name>`, the controllers file lists it; for
 * `<file>@child`, some cgroup just below `dir` has it (v2's root lacks the controllers' files).
 */
function hasFile(dir: string, file: string): boolean {
  if (file.endsWith('@child')) {
    const name = file.slice(0, -'@child'.length);
    try {
      return readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory() && existsSync(posix.join(dir, e.name, name)));
    } catch {
      return false;
    }
  }
  const [name, controller] = file.split(':');
  if (controller === undefined) return existsSync(posix.join(dir, name));
  try {
    return readFileSync(posix.join(dir, name), 'utf8').split(/\s+/).includes(controller);
  } catch {
    return false;
  }
}

let cached: CgroupFeatures | undefined;

/** This machine's features, read once (the mounts do not change under a running berthd). */
export function cgroupFeatures(): CgroupFeatures {
  if (!cached) {
    const det = detectLayout();
    cached = { ...featuresOf(det, hasFile), ...cpusetLists(det) };
  }
  return cached;
}

/** The cpuset root's CPU and memory node lists, where the controller is mounted. */
function cpusetLists(det: DetectedLayout): Pick<CgroupFeatures, 'cpusetCpus' | 'cpusetMems'> {
  const v1 = det.layout !== 'v2' ? det.v1.cpuset : undefined;
  const dir = v1?.mountPoint ?? (det.layout !== 'v1' ? det.unified?.mountPoint : undefined);
  if (!dir) return {};
  const read = (f: string) => {
    try {
      return readFileSync(posix.join(dir, v1 ? f : `${f}.effective`), 'utf8').trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  };
  return { cpusetCpus: read('cpuset.cpus'), cpusetMems: read('cpuset.mems') };
}

/**
 * The realtime budget a container below `parent` (an absolute cgroupfs path) can have, and the
 * file its runtime would be written to: the parent's cpu.rt_runtime_us, or 0 where the parent
 * is not made yet (a new v1 cgroup starts with none). Undefined without a v1 cpu hierarchy.
 */
export function realtimeBudget(parent: string, id: string): { budget: number; file: string } | undefined {
  const m = detectLayout().v1.cpu;
  if (m === undefined) return undefined;
  const dir = posix.join(m.mountPoint, posix.relative(m.root, posix.join('/', parent)));
  let budget = 0;
  try {
    budget = Number(readFileSync(posix.join(dir, 'cpu.rt_runtime_us'), 'utf8').trim());
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return { budget, file: posix.join(dir, id, 'cpu.rt_runtime_us') };
}

/**
 * dockerd's check of its daemon-scoped realtime budget (`--cpu-rt-period`, `--cpu-rt-runtime`)
 * at start, in its words: none on a pure v2 machine, none without realtime groups (this
 * machine's unless given).
 */
export function checkDaemonRealtime(
  period: number,
  runtime: number,
  layout: DetectedLayout['layout'] = detectLayout().layout,
  cpuRealtime = cgroupFeatures().cpuRealtime,
): void {
  if (period === 0 && runtime === 0) return;
  if (layout === 'v2') throw unsupported('daemon-scoped cpu-rt-period and cpu-rt-runtime are not implemented for cgroup v2');
  if (!cpuRealtime) throw unsupported('daemon-scoped cpu-rt-period and cpu-rt-runtime are not supported by the kernel');
}

/** The cgroups from `parent`'s first component down to `parent` (the root excluded), as dockerd's initCgroupsPath walks them. */
export function ancestorsOf(parent: string): string[] {
  const parts = posix.join('/', parent).split('/').filter(Boolean);
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

/**
 * Gives `parent` (an absolute cgroupfs path) and each cgroup above it but the root the daemon's
 * realtime period and runtime (a value of 0 is left as it is), making those missing, period
 * before runtime: what dockerd does before each start when it has `--cpu-rt-*`, so a container's
 * own `--cpu-rt-runtime` fits within its parent's budget. v1 cpu hierarchy only
 * (checkDaemonRealtime refused the others at berthd's start).
 */
export function giveRealtimeBudget(parent: string, period: number, runtime: number): void {
  const m = detectLayout().v1.cpu;
  if (m === undefined || (period === 0 && runtime === 0)) return;
  for (const p of ancestorsOf(parent)) {
    const rel = posix.relative(m.root, p);
    if (rel.startsWith('..')) continue; // above this namespace's view of the hierarchy
    const dir = posix.join(m.mountPoint, rel);
    mkdirSync(dir, { recursive: true });
    for (const [file, v] of [
      ['cpu.rt_period_us', period],
      ['cpu.rt_runtime_us', runtime],
    ] as const) {
      if (v === 0) continue;
      const path = posix.join(dir, file);
      try {
        writeFileSync(path, String(v));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === 'EINVAL' ? 'invalid argument' : code === 'EBUSY' ? 'device or resource busy' : (e as Error).message;
        throw systemError(`linux init cgroups path: write ${path}: ${why}`, e);
      }
    }
  }
}
