// `docker stats`: the runtime's cgroup figures (v1, v2 or hybrid, runtime/cgroups/stats.ts) as
// moby's StatsJSON — cpu_stats beside the previous sample's precpu_stats, the host's
// system_cpu_usage from /proc/stat, memory capped at the machine's memory when unlimited, as
// dockerd reports it. Pure but for the two host files it reads.

import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { CgroupLayout, CgroupStats } from '../runtime/cgroups/manager.js';
import { parseCpuList, type BlkioEntry } from '../runtime/cgroups/stats.js';
import { ZERO_TIME } from './types.js';

export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

type BlkioStat = { major: number; minor: number; op: string; value: number }[] | null;

/** moby's StatsJSON (API field names). */
export interface DockerStats {
  name: string;
  id: string;
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: Record<
    | 'io_service_bytes_recursive'
    | 'io_serviced_recursive'
    | 'io_queue_recursive'
    | 'io_service_time_recursive'
    | 'io_wait_time_recursive'
    | 'io_merged_recursive'
    | 'io_time_recursive'
    | 'sectors_recursive',
    BlkioStat
  >;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; failcnt?: number; limit?: number };
  /** By interface, the container's own ones (not lo); absent without any, as dockerd. */
  networks?: Record<string, NetworkStats>;
}

export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/** /proc/PID/net/dev (the counters of the process's network namespace), less `lo`. */
export function netDev(text: string): Record<string, NetworkStats> {
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    out[m[1]] = {
      rx_bytes: f[0],
      rx_packets: f[1],
      rx_errors: f[2],
      rx_dropped: f[3],
      tx_bytes: f[8],
      tx_packets: f[9],
      tx_errors: f[10],
      tx_dropped: f[11],
    };
  }
  return out;
}

const emptyCpu = (): CpuStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

const noBlkio = (): DockerStats['blkio_stats'] => ({
  io_service_bytes_recursive: null,
  io_serviced_recursive: null,
  io_queue_recursive: null,
  io_service_time_recursive: null,
  io_wait_time_recursive: null,
  io_merged_recursive: null,
  io_time_recursive: null,
  sectors_recursive: null,
});

/** What dockerd answers for a container that is not running: zeros, no read time. */
export function emptyStats(name: string, id: string): DockerStats {
  return {
    name,
    id,
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: noBlkio(),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: emptyCpu(),
    precpu_stats: emptyCpu(),
    memory_stats: {},
  };
}

/** The host's CPU time in nanoseconds (the `cpu` line of /proc/stat, in USER_HZ = 100 ticks), as moby's system_cpu_usage. */
export function systemCpuUsage(procStat = readFileSync('/proc/stat', 'utf8')): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  const ticks = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .reduce((a, b) => a + Number(b), 0);
  return ticks * 1e7;
}

export function onlineCpus(): number {
  try {
    return parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8'))?.length ?? 0;
  } catch {
    return 0;
  }
}

function blkio(list: BlkioEntry[] | undefined, lowerCase: boolean): BlkioStat {
  if (!list) return null;
  return list.map((e) => ({
    major: e.major ?? 0,
    minor: e.minor ?? 0,
    op: lowerCase ? (e.op ?? '').toLowerCase() : (e.op ?? ''),
    value: e.value ?? 0,
  }));
}

/** One sample of a running container, with `pre` (the sample before, if any) as its precpu_stats. */
export function dockerStats(
  name: string,
  id: string,
  s: CgroupStats,
  layout: CgroupLayout,
  pre?: DockerStats,
  host: { systemCpu: number; onlineCpus: number; memory: number } = {
    systemCpu: systemCpuUsage(),
    onlineCpus: onlineCpus(),
    memory: totalmem(),
  },
): DockerStats {
  const u = s.cpu.usage;
  const v2 = layout === 'v2';
  const cpu: CpuStats = {
    cpu_usage: {
      total_usage: u.total ?? 0,
      ...(u.percpu ? { percpu_usage: u.percpu } : {}),
      usage_in_kernelmode: u.kernel,
      usage_in_usermode: u.user,
    },
    system_cpu_usage: host.systemCpu,
    online_cpus: host.onlineCpus || u.percpu?.length || 0,
    throttling_data: {
      periods: s.cpu.throttling.periods ?? 0,
      throttled_periods: s.cpu.throttling.throttledPeriods ?? 0,
      throttled_time: s.cpu.throttling.throttledTime ?? 0,
    },
  };
  // "max" (no limit) reads as a huge number: dockerd reports the machine's memory instead.
  const limit = s.memory.usage.limit && s.memory.usage.limit <= host.memory ? s.memory.usage.limit : host.memory;
  const mem: DockerStats['memory_stats'] = v2
    ? { usage: s.memory.usage.usage ?? 0, stats: s.memory.raw ?? {}, limit }
    : {
        usage: s.memory.usage.usage ?? 0,
        max_usage: s.memory.usage.max ?? 0,
        stats: s.memory.raw ?? {},
        failcnt: s.memory.usage.failcnt,
        limit,
      };
  // moby reports io.stat's read and write bytes only, named in lower case, on v2.
  const bytes = v2 ? s.blkio.ioServiceBytesRecursive?.filter((e) => e.op === 'Read' || e.op === 'Write') : s.blkio.ioServiceBytesRecursive;
  return {
    name,
    id,
    read: new Date().toISOString(),
    preread: pre?.read ?? ZERO_TIME,
    pids_stats: { ...(s.pids.current !== undefined ? { current: s.pids.current } : {}), ...(s.pids.limit ? { limit: s.pids.limit } : {}) },
    blkio_stats: {
      ...noBlkio(),
      io_service_bytes_recursive: blkio(bytes, v2),
      ...(v2
        ? {}
        : {
            io_serviced_recursive: blkio(s.blkio.ioServicedRecursive, false),
            io_queue_recursive: blkio(s.blkio.ioQueueRecursive, false),
            io_service_time_recursive: blkio(s.blkio.ioServiceTimeRecursive, false),
            io_wait_time_recursive: blkio(s.blkio.ioWaitTimeRecursive, false),
            io_merged_recursive: blkio(s.blkio.ioMergedRecursive, false),
            io_time_recursive: blkio(s.blkio.ioTimeRecursive, false),
            sectors_recursive: blkio(s.blkio.sectorsRecursive, false),
          }),
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu,
    precpu_stats: pre?.cpu_stats ?? emptyCpu(),
    memory_stats: mem,
  };
}
