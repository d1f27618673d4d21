// The `events --stats` data shape (runc's types.Stats JSON field names) and the parsers that fill
// it from cgroup v1 and v2 control files. Pure: each parser takes a `read(file)` that returns the
// file's text or undefined, so unit tests feed fixture contents.

export interface CgroupStats {
  cpu: {
    usage: { total?: number; percpu?: number[]; percpu_kernel?: number[]; percpu_user?: number[]; kernel: number; user: number };
    throttling: { periods?: number; throttledPeriods?: number; throttledTime?: number };
  };
  cpuset: {
    cpus?: number[];
    cpu_exclusive: number;
    mems?: number[];
    mem_hardwall: number;
    mem_exclusive: number;
    memory_migrate: number;
    memory_spread_page: number;
    memory_spread_slab: number;
    memory_pressure: number;
    sched_load_balance: number;
    sched_relax_domain_level: number;
  };
  memory: {
    cache?: number;
    usage: MemoryEntry;
    swap: MemoryEntry;
    kernel: MemoryEntry;
    kernelTCP: MemoryEntry;
    raw?: Record<string, number>;
  };
  pids: { current?: number; limit?: number };
  blkio: {
    ioServiceBytesRecursive?: BlkioEntry[];
    ioServicedRecursive?: BlkioEntry[];
    ioQueueRecursive?: BlkioEntry[];
    ioServiceTimeRecursive?: BlkioEntry[];
    ioWaitTimeRecursive?: BlkioEntry[];
    ioMergedRecursive?: BlkioEntry[];
    ioTimeRecursive?: BlkioEntry[];
    sectorsRecursive?: BlkioEntry[];
  };
  /** Keyed by page size as the files name it ("2MB"). */
  hugetlb: Record<string, { usage?: number; max?: number; failcnt: number }>;
}

export interface MemoryEntry {
  limit: number;
  usage?: number;
  max?: number;
  failcnt: number;
}

export interface BlkioEntry {
  major?: number;
  minor?: number;
  op?: string;
  value?: number;
}

export type Reader = (file: string) => string | undefined;

export function emptyStats(): CgroupStats {
  return {
    cpu: { usage: { kernel: 0, user: 0 }, throttling: {} },
    cpuset: {
      cpu_exclusive: 0,
      mem_hardwall: 0,
      mem_exclusive: 0,
      memory_migrate: 0,
      memory_spread_page: 0,
      memory_spread_slab: 0,
      memory_pressure: 0,
      sched_load_balance: 0,
      sched_relax_domain_level: 0,
    },
    memory: {
      usage: { limit: 0, failcnt: 0 },
      swap: { limit: 0, failcnt: 0 },
      kernel: { limit: 0, failcnt: 0 },
      kernelTCP: { limit: 0, failcnt: 0 },
    },
    pids: {},
    blkio: {},
    hugetlb: {},
  };
}

/** A single number; "max" (v2's unlimited) → the largest uint64 runc would report, as a JS number. */
export function parseNumber(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === '') return undefined;
  if (t === 'max') return Number.MAX_SAFE_INTEGER;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, cpuacct.stat) → map. */
export function parseKeyValues(s: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (s ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out[k] = Number(v);
  }
  return out;
}

/** "0-3,5" → [0,1,2,3,5]. */
export function parseCpuList(s: string | undefined): number[] | undefined {
  const t = (s ?? '').trim();
  if (!t) return undefined;
  const out: number[] = [];
  for (const part of t.split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

const numbers = (s: string | undefined) => (s ?? '').trim().split(/\s+/).filter(Boolean).map(Number);

/** blkio "8:0 Read 1234" / "Total 5678" lines → entries (Total lines are dropped, as runc does). */
export function parseBlkioLines(s: string | undefined): BlkioEntry[] | undefined {
  if (s === undefined) return undefined;
  const out: BlkioEntry[] = [];
  for (const line of s.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2 || !f[0].includes(':')) continue;
    const [maj, min] = f[0].split(':').map(Number);
    if (f.length === 2) out.push({ major: maj, minor: min, value: Number(f[1]) });
    else out.push({ major: maj, minor: min, op: f[1], value: Number(f[2]) });
  }
  return out;
}

/** USER_HZ: cpuacct.stat counts in these ticks. Linux fixes it at 100 on every architecture berth runs on. */
const CLOCK_TICKS = 100;

export function v1Stats(read: (controller: string, file: string) => string | undefined): CgroupStats {
  const s = emptyStats();
  const acct = (f: string) => read('cpuacct', f);
  s.cpu.usage.total = parseNumber(acct('cpuacct.usage'));
  const percpu = acct('cpuacct.usage_percpu');
  if (percpu !== undefined) s.cpu.usage.percpu = numbers(percpu);
  const all = acct('cpuacct.usage_all');
  if (all !== undefined) {
    // "cpu user system" header, then one line per cpu.
    const rows = all
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => numbers(l));
    s.cpu.usage.percpu_user = rows.map((r) => r[1]);
    s.cpu.usage.percpu_kernel = rows.map((r) => r[2]);
  }
  const st = parseKeyValues(acct('cpuacct.stat'));
  s.cpu.usage.user = ((st.user ?? 0) * 1e9) / CLOCK_TICKS;
  s.cpu.usage.kernel = ((st.system ?? 0) * 1e9) / CLOCK_TICKS;
  const thr = parseKeyValues(read('cpu', 'cpu.stat'));
  s.cpu.throttling = { periods: thr.nr_periods, throttledPeriods: thr.nr_throttled, throttledTime: thr.throttled_time };

  const cs = (f: string) => read('cpuset', f);
  s.cpuset.cpus = parseCpuList(cs('cpuset.cpus'));
  s.cpuset.mems = parseCpuList(cs('cpuset.mems'));
  const flags: [keyof CgroupStats['cpuset'], string][] = [
    ['cpu_exclusive', 'cpuset.cpu_exclusive'],
    ['mem_hardwall', 'cpuset.mem_hardwall'],
    ['mem_exclusive', 'cpuset.mem_exclusive'],
    ['memory_migrate', 'cpuset.memory_migrate'],
    ['memory_spread_page', 'cpuset.memory_spread_page'],
    ['memory_spread_slab', 'cpuset.memory_spread_slab'],
    ['memory_pressure', 'cpuset.memory_pressure'],
    ['sched_load_balance', 'cpuset.sched_load_balance'],
    ['sched_relax_domain_level', 'cpuset.sched_relax_domain_level'],
  ];
  for (const [k, f] of flags) (s.cpuset as unknown as Record<string, number>)[k] = parseNumber(cs(f)) ?? 0;

  const mem = (f: string) => read('memory', f);
  const entry = (prefix: string): MemoryEntry => ({
    limit: parseNumber(mem(`${prefix}.limit_in_bytes`)) ?? 0,
    usage: parseNumber(mem(`${prefix}.usage_in_bytes`)),
    max: parseNumber(mem(`${prefix}.max_usage_in_bytes`)),
    failcnt: parseNumber(mem(`${prefix}.failcnt`)) ?? 0,
  });
  s.memory.usage = entry('memory');
  s.memory.swap = entry('memory.memsw');
  s.memory.kernel = entry('memory.kmem');
  s.memory.kernelTCP = entry('memory.kmem.tcp');
  const raw = mem('memory.stat');
  if (raw !== undefined) {
    s.memory.raw = parseKeyValues(raw);
    s.memory.cache = s.memory.raw.cache;
  }

  s.pids.current = parseNumber(read('pids', 'pids.current'));
  const pmax = read('pids', 'pids.max');
  if (pmax !== undefined) s.pids.limit = pmax.trim() === 'max' ? 0 : parseNumber(pmax);

  // CFQ's files when present, else BFQ's, else the throttle layer's (which only counts bytes and ios).
  const bl = (f: string) => read('blkio', f);
  const cfq = bl('blkio.io_service_bytes_recursive');
  const bfq = bl('blkio.bfq.io_service_bytes_recursive');
  if (cfq !== undefined) {
    s.blkio.ioServiceBytesRecursive = parseBlkioLines(cfq);
    s.blkio.ioServicedRecursive = parseBlkioLines(bl('blkio.io_serviced_recursive'));
    s.blkio.ioQueueRecursive = parseBlkioLines(bl('blkio.io_queued_recursive'));
    s.blkio.ioServiceTimeRecursive = parseBlkioLines(bl('blkio.io_service_time_recursive'));
    s.blkio.ioWaitTimeRecursive = parseBlkioLines(bl('blkio.io_wait_time_recursive'));
    s.blkio.ioMergedRecursive = parseBlkioLines(bl('blkio.io_merged_recursive'));
    s.blkio.ioTimeRecursive = parseBlkioLines(bl('blkio.time_recursive'));
    s.blkio.sectorsRecursive = parseBlkioLines(bl('blkio.sectors_recursive'));
  } else if (bfq !== undefined) {
    s.blkio.ioServiceBytesRecursive = parseBlkioLines(bfq);
    s.blkio.ioServicedRecursive = parseBlkioLines(bl('blkio.bfq.io_serviced_recursive'));
  } else {
    s.blkio.ioServiceBytesRecursive = parseBlkioLines(
      bl('blkio.throttle.io_service_bytes_recursive') ?? bl('blkio.throttle.io_service_bytes'),
    );
    s.blkio.ioServicedRecursive = parseBlkioLines(bl('blkio.throttle.io_serviced_recursive') ?? bl('blkio.throttle.io_serviced'));
  }
  return s;
}

/** v1 hugetlb files for the given page sizes ("2MB"). */
export function v1HugetlbStats(sizes: string[], read: Reader): CgroupStats['hugetlb'] {
  const out: CgroupStats['hugetlb'] = {};
  for (const size of sizes) {
    const usage = read(`hugetlb.${size}.usage_in_bytes`);
    if (usage === undefined) continue;
    out[size] = {
      usage: parseNumber(usage),
      max: parseNumber(read(`hugetlb.${size}.max_usage_in_bytes`)),
      failcnt: parseNumber(read(`hugetlb.${size}.failcnt`)) ?? 0,
    };
  }
  return out;
}

/** cgroup v2 files of one cgroup → stats (the parts v2 has; memory.kernel stays empty). */
export function v2Stats(read: Reader, hugeSizes: string[]): CgroupStats {
  const s = emptyStats();
  const cpu = parseKeyValues(read('cpu.stat'));
  if (cpu.usage_usec !== undefined) s.cpu.usage.total = cpu.usage_usec * 1000;
  s.cpu.usage.user = (cpu.user_usec ?? 0) * 1000;
  s.cpu.usage.kernel = (cpu.system_usec ?? 0) * 1000;
  s.cpu.throttling = {
    periods: cpu.nr_periods,
    throttledPeriods: cpu.nr_throttled,
    throttledTime: cpu.throttled_usec !== undefined ? cpu.throttled_usec * 1000 : undefined,
  };
  s.cpuset.cpus = parseCpuList(read('cpuset.cpus.effective'));
  s.cpuset.mems = parseCpuList(read('cpuset.mems.effective'));

  const current = parseNumber(read('memory.current'));
  if (current !== undefined) {
    const events = parseKeyValues(read('memory.events'));
    s.memory.usage = {
      usage: current,
      max: parseNumber(read('memory.peak')),
      limit: parseNumber(read('memory.max')) ?? 0,
      failcnt: events.max ?? 0,
    };
    const raw = read('memory.stat');
    if (raw !== undefined) {
      s.memory.raw = parseKeyValues(raw);
      s.memory.cache = s.memory.raw.file;
    }
    // As runc reports it on v2: swap is memory+swap, so it compares with the v1 numbers.
    const swapCur = parseNumber(read('memory.swap.current'));
    if (swapCur !== undefined) {
      const swapMax = parseNumber(read('memory.swap.max')) ?? 0;
      const memMax = s.memory.usage.limit;
      s.memory.swap = {
        usage: swapCur + current,
        max: parseNumber(read('memory.swap.peak')),
        limit: swapMax === Number.MAX_SAFE_INTEGER || memMax === Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : swapMax + memMax,
        failcnt: parseKeyValues(read('memory.swap.events')).max ?? 0,
      };
    }
  }

  s.pids.current = parseNumber(read('pids.current'));
  const pmax = read('pids.max');
  if (pmax !== undefined) s.pids.limit = pmax.trim() === 'max' ? 0 : parseNumber(pmax);

  const io = read('io.stat');
  if (io !== undefined) {
    const bytes: BlkioEntry[] = [];
    const ios: BlkioEntry[] = [];
    for (const line of io.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (!f[0]?.includes(':')) continue;
      const [major, minor] = f[0].split(':').map(Number);
      const kv = Object.fromEntries(
        f
          .slice(1)
          .map((x) => x.split('='))
          .map(([k, v]) => [k, Number(v)]),
      );
      const pairs: [string, string, BlkioEntry[]][] = [
        ['rbytes', 'Read', bytes],
        ['wbytes', 'Write', bytes],
        ['dbytes', 'Discard', bytes],
        ['rios', 'Read', ios],
        ['wios', 'Write', ios],
        ['dios', 'Discard', ios],
      ];
      for (const [k, op, list] of pairs) if (kv[k] !== undefined) list.push({ major, minor, op, value: kv[k] });
    }
    s.blkio.ioServiceBytesRecursive = bytes;
    s.blkio.ioServicedRecursive = ios;
  }

  for (const size of hugeSizes) {
    const usage = read(`hugetlb.${size}.current`);
    if (usage === undefined) continue;
    s.hugetlb[size] = {
      usage: parseNumber(usage),
      max: parseNumber(read(`hugetlb.${size}.max`)),
      failcnt: parseKeyValues(read(`hugetlb.${size}.events`)).max ?? 0,
    };
  }
  return s;
}

/** The oom_kill count: memory.events (v2) or memory.oom_control (v1) text. */
export function parseOomKill(text: string | undefined): number {
  return parseKeyValues(text).oom_kill ?? 0;
}

/** Page sizes the kernel offers, named as the hugetlb files name them ("2MB", "1GB"). */
export function hugePageSizeNames(dirNames: string[]): string[] {
  const units = ['KB', 'MB', 'GB', 'TB'];
  const out: string[] = [];
  for (const n of dirNames) {
    const m = /^hugepages-(\d+)kB$/.exec(n);
    if (!m) continue;
    let v = Number(m[1]);
    let u = 0;
    while (v >= 1024 && v % 1024 === 0 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    out.push(`${v}${units[u]}`);
  }
  return out;
}
