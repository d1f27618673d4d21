// A container's resource limits: Docker's HostConfig fields (Memory, MemorySwap, NanoCpus,
// CpuShares, CpuQuota/CpuPeriod, PidsLimit, block I/O, realtime CPU, OomKillDisable, swappiness,
// kernel memory), checked as
// dockerd checks them at create and at update (what the machine's cgroups cannot apply is warned
// of and discarded, in dockerd's words), and turned into the OCI runtime's `linux.resources`.
// Pure but for the stat of a block device's path.

import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { conflict, invalid, systemError } from '../errors.js';
import type { LinuxBlockIO, LinuxResources, LinuxThrottleDevice } from '../oci/runtime-spec.js';
import type { CgroupFeatures } from '../runtime/cgroups/features.js';
import type { HostConfig, ThrottleDevice } from './types.js';

export type ResourceConfig = Pick<
  HostConfig,
  | 'Memory'
  | 'MemorySwap'
  | 'MemoryReservation'
  | 'NanoCpus'
  | 'CpuShares'
  | 'CpuQuota'
  | 'CpuPeriod'
  | 'PidsLimit'
  | 'CpusetCpus'
  | 'CpusetMems'
  | 'BlkioWeight'
  | 'BlkioWeightDevice'
  | 'BlkioDeviceReadBps'
  | 'BlkioDeviceWriteBps'
  | 'BlkioDeviceReadIOps'
  | 'BlkioDeviceWriteIOps'
  | 'CpuRealtimePeriod'
  | 'CpuRealtimeRuntime'
  | 'OomKillDisable'
  | 'MemorySwappiness'
  | 'KernelMemory'
  | 'KernelMemoryTCP'
>;

/** The numeric fields (CpusetCpus and CpusetMems are strings). */
export const RESOURCE_FIELDS = [
  'Memory',
  'MemorySwap',
  'MemoryReservation',
  'NanoCpus',
  'CpuShares',
  'CpuQuota',
  'CpuPeriod',
  'PidsLimit',
  'BlkioWeight',
  'CpuRealtimePeriod',
  'CpuRealtimeRuntime',
  'KernelMemory',
] as const;

/** The block I/O fields that name devices: set at create only (dockerd's update ignores them; berthd refuses them there). */
export const BLKIO_DEVICE_FIELDS = [
  'BlkioWeightDevice',
  'BlkioDeviceReadBps',
  'BlkioDeviceWriteBps',
  'BlkioDeviceReadIOps',
  'BlkioDeviceWriteIOps',
] as const;

/** dockerd's smallest memory (and kernel memory) limit. */
const MIN_MEMORY = 6 * 1024 * 1024;

/**
 * The swappiness asked for: null for none (dockerd's fixMemorySwappiness makes -1 none), else
 * the number, which must be 0..100 (dockerd's 400 in its words).
 */
export function memorySwappiness(v: number | null | undefined): number | null {
  if (v === undefined || v === null || v === -1) return null;
  if (!Number.isInteger(v) || v < 0 || v > 100) throw invalid(`Invalid value: ${v}, valid memory swappiness range is 0-100`);
  return v;
}

/**
 * dockerd's checks of the limits the machine may lack (its verifyPlatformContainerResources):
 * each one the cgroups cannot apply is discarded with dockerd's warning, in dockerd's order;
 * then the ranges it refuses (a 500, as dockerd 20.10 answers them). Returns the limits to apply.
 */
export function discardUnsupported(r: ResourceConfig, f: CgroupFeatures, warnings: string[]): ResourceConfig {
  const out = { ...r };
  const no = 'Your kernel does not support';
  if (out.MemorySwappiness === -1) out.MemorySwappiness = null;
  if (out.MemorySwappiness !== undefined && out.MemorySwappiness !== null && !f.memorySwappiness) {
    warnings.push(`${no} memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.`);
    out.MemorySwappiness = null;
  }
  memorySwappiness(out.MemorySwappiness);
  if ((out.KernelMemory ?? 0) > 0) {
    // dockerd 20.10's words; Linux 6.1 and later keep the file and ignore what is written to it.
    warnings.push('Specifying a kernel memory limit is deprecated and will be removed in a future release.');
    if (!f.kernelMemory) {
      warnings.push(`${no} kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.`);
      out.KernelMemory = 0;
    }
  }
  if ((out.KernelMemory ?? 0) > 0 && out.KernelMemory! < MIN_MEMORY) throw invalid('Minimum kernel memory limit allowed is 6MB');
  // dockerd passes KernelMemoryTCP to runc, which ignores it; berth writes it where the file is,
  // and says so where it is not (in dockerd's pattern: it has no words of its own for it).
  if ((out.KernelMemoryTCP ?? 0) < -1) throw invalid(`Invalid value: ${out.KernelMemoryTCP}, KernelMemoryTCP is a byte count or -1`);
  if (out.KernelMemoryTCP && !f.kernelMemoryTCP) {
    warnings.push(`${no} kernel memory TCP limit capabilities or the cgroup is not mounted. Limitation discarded.`);
    out.KernelMemoryTCP = 0;
  }
  if (out.OomKillDisable && !f.oomKillDisable) {
    warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    out.OomKillDisable = false;
  }
  if (out.OomKillDisable && !out.Memory)
    warnings.push(
      'OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.',
    );
  if ((out.CpuRealtimePeriod ?? 0) > 0 && !f.cpuRealtime) {
    warnings.push('Your kernel does not support cgroup cpu real-time period. Period discarded.');
    out.CpuRealtimePeriod = 0;
  }
  if ((out.CpuRealtimeRuntime ?? 0) > 0 && !f.cpuRealtime) {
    warnings.push('Your kernel does not support cgroup cpu real-time runtime. Runtime discarded.');
    out.CpuRealtimeRuntime = 0;
  }
  if (out.CpuRealtimePeriod && out.CpuRealtimeRuntime && out.CpuRealtimeRuntime > out.CpuRealtimePeriod)
    throw systemError('cpu real-time runtime cannot be higher than cpu real-time period');
  if ((out.CpusetCpus || out.CpusetMems) && !f.cpuset) {
    warnings.push('Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
    out.CpusetCpus = '';
    out.CpusetMems = '';
  }
  if (out.CpusetCpus && f.cpusetCpus !== undefined && !listWithin(out.CpusetCpus, f.cpusetCpus))
    throw invalid(`Requested CPUs are not available - requested ${out.CpusetCpus}, available: ${f.cpusetCpus}`);
  if (out.CpusetMems && f.cpusetMems !== undefined && !listWithin(out.CpusetMems, f.cpusetMems))
    throw invalid(`Requested memory nodes are not available - requested ${out.CpusetMems}, available: ${f.cpusetMems}`);
  if ((out.BlkioWeight ?? 0) > 0 && !f.blkioWeight) {
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    out.BlkioWeight = 0;
  }
  if ((out.BlkioWeight ?? 0) > 0 && (out.BlkioWeight! < 10 || out.BlkioWeight! > 1000))
    throw systemError('Range of blkio weight is from 10 to 1000');
  const discard = (k: (typeof BLKIO_DEVICE_FIELDS)[number], ok: boolean, warning: string) => {
    if (!out[k]?.length || ok) return;
    warnings.push(warning);
    out[k] = [];
  };
  discard('BlkioWeightDevice', f.blkioWeightDevice, `${no} Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.`);
  discard(
    'BlkioDeviceReadBps',
    f.blkioThrottle,
    `${no} BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.`,
  );
  discard(
    'BlkioDeviceWriteBps',
    f.blkioThrottle,
    `${no} BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.`,
  );
  discard(
    'BlkioDeviceReadIOps',
    f.blkioThrottle,
    `${no} IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.`,
  );
  discard(
    'BlkioDeviceWriteIOps',
    f.blkioThrottle,
    `${no} IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.`,
  );
  return out;
}

/** A cpuset list's ranges (`0-3,8` → [0, 3], [8, 8]). */
function rangesOf(list: string): [number, number][] {
  return list.split(',').map((part) => {
    const [a, b = a] = part.split('-').map(Number);
    return [a, b];
  });
}

/** Whether every CPU (or node) of `asked` is in `available` (both cpuset lists; an empty `available` has none). */
export function listWithin(asked: string, available: string): boolean {
  const have = available ? rangesOf(available) : [];
  return rangesOf(asked).every(([a, b]) => {
    // Walk the asked range through the available ranges that cover it, never number by number.
    for (let x = a; x <= b;) {
      const r = have.find(([lo, hi]) => lo <= x && x <= hi);
      if (!r) return false;
      x = r[1] + 1;
    }
    return true;
  });
}

/** Docker's checks of the limits a container is created (or updated) with; fills swap's default (twice the memory). */
export function checkResources(r: ResourceConfig, cpus = availableParallelism()): ResourceConfig {
  const out = { ...r };
  const mem = r.Memory ?? 0,
    swap = r.MemorySwap ?? 0;
  if (mem !== 0 && mem < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  if (mem > 0 && swap > 0 && swap < mem) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (mem === 0 && swap > 0) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (mem > 0 && swap === 0) out.MemorySwap = mem * 2;
  checkCpu(r, cpus);
  return out;
}

function checkCpu(r: ResourceConfig, cpus: number): void {
  const nano = r.NanoCpus ?? 0;
  if (nano > 0 && (r.CpuPeriod ?? 0) > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (r.CpuQuota ?? 0) > 0) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano < 0 || nano > cpus * 1e9) throw invalid(`Range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`);
  const period = r.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000))
    throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if ((r.CpuQuota ?? 0) > 0 && r.CpuQuota! < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
}

/**
 * The limits after `docker update`: only fields given (non-zero; PidsLimit when not null)
 * change, and NanoCpus excludes CpuPeriod/CpuQuota across the update as dockerd's rules say.
 */
export function updateResources(cur: ResourceConfig, upd: ResourceConfig, cpus = availableParallelism()): ResourceConfig {
  const conflicting = (m: string) => conflict(`Conflicting options: ${m}`);
  if ((upd.NanoCpus ?? 0) > 0 && (cur.CpuPeriod ?? 0) > 0)
    throw conflicting('CPU Period cannot be updated as NanoCPUs has already been set');
  if ((upd.NanoCpus ?? 0) > 0 && (cur.CpuQuota ?? 0) > 0) throw conflicting('CPU Quota cannot be updated as NanoCPUs has already been set');
  if ((upd.CpuPeriod ?? 0) > 0 && (cur.NanoCpus ?? 0) > 0)
    throw conflicting('CPU Period cannot be updated as NanoCPUs has already been set');
  if ((upd.CpuQuota ?? 0) > 0 && (cur.NanoCpus ?? 0) > 0) throw conflicting('CPU Quota cannot be updated as NanoCPUs has already been set');
  const mem = upd.Memory ?? 0;
  if (mem !== 0 && mem < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  if (mem > 0 && (cur.MemorySwap ?? 0) > 0 && mem > cur.MemorySwap! && !upd.MemorySwap) {
    throw conflicting('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  const out: ResourceConfig = { ...cur };
  for (const k of [...RESOURCE_FIELDS, 'CpusetCpus', 'CpusetMems'] as const) {
    const v = upd[k];
    if (k === 'PidsLimit' ? v !== undefined && v !== null : v) (out as Record<string, unknown>)[k] = v;
  }
  if ((out.MemorySwap ?? 0) > 0 && (out.Memory ?? 0) > 0 && out.MemorySwap! < out.Memory!)
    throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  checkCpu(out, cpus);
  return out;
}

/** A block device's numbers, as dockerd stats it (its words when the path is not there). */
export function blockDeviceNumbers(path: string): { major: number; minor: number } {
  let rdev: bigint;
  try {
    rdev = statSync(path, { bigint: true }).rdev;
  } catch (e) {
    const c = (e as NodeJS.ErrnoException).code;
    const why = c === 'ENOENT' ? 'no such file or directory' : c === 'ENOTDIR' ? 'not a directory' : (e as Error).message;
    throw systemError(`stat ${path}: ${why}`, e);
  }
  // The kernel's new_encode_dev: 12 bits of major above 8 of minor, the rest of each higher up.
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor };
}

type DeviceNumbers = (path: string) => { major: number; minor: number };

/** HostConfig's block I/O fields as OCI's blockIO, or undefined when none is set. */
function blockIO(r: ResourceConfig, dev: DeviceNumbers): LinuxBlockIO | undefined {
  const b: LinuxBlockIO = {};
  if (r.BlkioWeight) b.weight = r.BlkioWeight;
  if (r.BlkioWeightDevice?.length) b.weightDevice = r.BlkioWeightDevice.map((d) => ({ ...dev(d.Path), weight: d.Weight }));
  const throttle = (list: ThrottleDevice[] | null | undefined): LinuxThrottleDevice[] | undefined =>
    list?.length ? list.map((d) => ({ ...dev(d.Path), rate: d.Rate })) : undefined;
  const lists = {
    throttleReadBpsDevice: throttle(r.BlkioDeviceReadBps),
    throttleWriteBpsDevice: throttle(r.BlkioDeviceWriteBps),
    throttleReadIOPSDevice: throttle(r.BlkioDeviceReadIOps),
    throttleWriteIOPSDevice: throttle(r.BlkioDeviceWriteIOps),
  };
  for (const [k, v] of Object.entries(lists)) if (v) (b as Record<string, unknown>)[k] = v;
  return Object.keys(b).length ? b : undefined;
}

/** The OCI resources for the limits (devices excepted); a limit of 0 is none. `dev`: a block device's numbers by path. */
export function ociResources(r: ResourceConfig, dev: DeviceNumbers = blockDeviceNumbers): LinuxResources {
  const out: LinuxResources = {};
  const swappiness = r.MemorySwappiness ?? -1;
  if (r.Memory || r.MemorySwap || r.MemoryReservation || r.OomKillDisable || swappiness !== -1 || r.KernelMemory || r.KernelMemoryTCP) {
    out.memory = {
      ...(r.Memory ? { limit: r.Memory } : {}),
      ...(r.MemorySwap ? { swap: r.MemorySwap } : {}),
      ...(r.MemoryReservation ? { reservation: r.MemoryReservation } : {}),
      ...(r.OomKillDisable ? { disableOOMKiller: true } : {}),
      ...(swappiness !== -1 ? { swappiness } : {}),
      ...(r.KernelMemory ? { kernel: r.KernelMemory } : {}),
      ...(r.KernelMemoryTCP ? { kernelTCP: r.KernelMemoryTCP } : {}),
    };
  }
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (r.NanoCpus) Object.assign(cpu, { period: 100000, quota: Math.round((r.NanoCpus * 100000) / 1e9) });
  if (r.CpuPeriod) cpu.period = r.CpuPeriod;
  if (r.CpuQuota) cpu.quota = r.CpuQuota;
  if (r.CpuShares) cpu.shares = r.CpuShares;
  if (r.CpusetCpus) cpu.cpus = r.CpusetCpus;
  if (r.CpusetMems) cpu.mems = r.CpusetMems;
  if (r.CpuRealtimePeriod) cpu.realtimePeriod = r.CpuRealtimePeriod;
  if (r.CpuRealtimeRuntime) cpu.realtimeRuntime = r.CpuRealtimeRuntime;
  if (Object.keys(cpu).length) out.cpu = cpu;
  // 0 and -1 are both "unlimited" to Docker; the runtime writes max for -1.
  if (r.PidsLimit !== undefined && r.PidsLimit !== null && r.PidsLimit !== 0) out.pids = { limit: r.PidsLimit > 0 ? r.PidsLimit : -1 };
  const b = blockIO(r, dev);
  if (b) out.blockIO = b;
  return out;
}
