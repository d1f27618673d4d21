// A container's resource limits: Docker's HostConfig fields (Memory, MemorySwap, NanoCpus,
// CpuShares, CpuQuota/CpuPeriod, PidsLimit), checked as dockerd checks them at create and at
// update, and turned into the OCI runtime's `linux.resources`. Pure.

import { availableParallelism } from 'node:os';
import { conflict, invalid } from '../errors.js';
import type { LinuxResources } from '../oci/runtime-spec.js';
import type { HostConfig } from './types.js';

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
] as const;

/** Docker's other resource fields, which berthd does not apply yet: refused when set rather than ignored. */
export const UNSUPPORTED_RESOURCE_FIELDS = [
  'BlkioWeight',
  'BlkioWeightDevice',
  'BlkioDeviceReadBps',
  'BlkioDeviceWriteBps',
  'BlkioDeviceReadIOps',
  'BlkioDeviceWriteIOps',
  'CpuRealtimePeriod',
  'CpuRealtimeRuntime',
  'KernelMemory',
  'KernelMemoryTCP',
  'MemorySwappiness',
];

/** dockerd's smallest memory limit. */
const MIN_MEMORY = 6 * 1024 * 1024;

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

/** The OCI resources for the limits (devices excepted); a limit of 0 is none. */
export function ociResources(r: ResourceConfig): LinuxResources {
  const out: LinuxResources = {};
  if (r.Memory || r.MemorySwap || r.MemoryReservation) {
    out.memory = {
      ...(r.Memory ? { limit: r.Memory } : {}),
      ...(r.MemorySwap ? { swap: r.MemorySwap } : {}),
      ...(r.MemoryReservation ? { reservation: r.MemoryReservation } : {}),
    };
  }
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (r.NanoCpus) Object.assign(cpu, { period: 100000, quota: Math.round((r.NanoCpus * 100000) / 1e9) });
  if (r.CpuPeriod) cpu.period = r.CpuPeriod;
  if (r.CpuQuota) cpu.quota = r.CpuQuota;
  if (r.CpuShares) cpu.shares = r.CpuShares;
  if (r.CpusetCpus) cpu.cpus = r.CpusetCpus;
  if (r.CpusetMems) cpu.mems = r.CpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;
  // 0 and -1 are both "unlimited" to Docker; the runtime writes max for -1.
  if (r.PidsLimit !== undefined && r.PidsLimit !== null && r.PidsLimit !== 0) out.pids = { limit: r.PidsLimit > 0 ? r.PidsLimit : -1 };
  return out;
}
