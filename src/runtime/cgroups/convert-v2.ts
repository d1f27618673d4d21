// OCI linux.resources → cgroup v2 control-file writes, converted the way runc and crun convert
// (shares → cpu.weight, blkio weight → io.bfq.weight / io.weight, swap → memory.swap.max = swap -
// limit), then `unified` verbatim. Pure; devices are an eBPF program (devices-ebpf.ts).
import type { LinuxResources } from '../../oci/runtime-spec.js';
import { invalid, unsupported } from '../../errors.js';
import type { CgroupWrite } from './fs.js';
import { checkInt, pageSizeName } from './convert-common.js';
import { pidsMax, rdmaWrites } from './convert-v1.js';

export interface V2Current {
  /** memory.max now ("max" → -1); needed when an update gives swap without the limit. */
  memoryMax?: number;
  /** The quota part of cpu.max now ("max" → -1); kept when an update gives only the period. */
  cpuQuota?: number;
}

const w = (controller: string, file: string, value: string | number, field: string, extra?: Partial<CgroupWrite>): CgroupWrite => ({
  controller,
  file,
  value: String(value),
  field,
  ...extra,
});

/** cpu.shares (2..262144) → cpu.weight (1..10000), as runc and crun compute it. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return Math.min(10000, Math.max(1, 1 + Math.trunc(((shares - 2) * 9999) / 262142)));
}

/** blkio.weight (10..1000) → io.weight (1..10000), for kernels without io.bfq.weight. */
export function blkioWeightToIOWeight(weight: number): number {
  if (weight === 0) return 0;
  return Math.min(10000, Math.max(1, 1 + Math.trunc(((weight - 10) * 9999) / 990)));
}

/**
 * OCI memory.swap is memory+swap (the v1 meaning); v2's memory.swap.max is swap alone.
 * Returns the value for memory.swap.max (-1 → max), or 0 when it is not to be written.
 */
export function swapToV2(swap: number, limit: number): number {
  // Unlimited memory with swap unset: both unlimited, as on v1.
  if (limit === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (limit === 0 || limit === -1) throw invalid(`memory.swap ${swap} needs a memory.limit (swap is memory+swap)`);
  if (swap < limit) throw invalid(`memory.swap (${swap}) must be at least memory.limit (${limit}): it is memory+swap`);
  return swap - limit;
}

const maxOr = (v: number) => (v === -1 ? 'max' : String(v));

export function v2Writes(r: LinuxResources, cur: V2Current = {}): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const m = r.memory;
  if (m) {
    const limit = m.limit ? checkInt(m.limit, 'memory.limit', -1) : 0;
    const swapIn = m.swap ? checkInt(m.swap, 'memory.swap', -1) : 0;
    const base = limit !== 0 ? limit : swapIn > 0 ? (cur.memoryMax ?? 0) : limit;
    const swap = swapToV2(swapIn, base);
    if (swap !== 0) out.push(w('memory', 'memory.swap.max', maxOr(swap), 'memory.swap'));
    if (limit !== 0) out.push(w('memory', 'memory.max', maxOr(limit), 'memory.limit'));
    if (m.reservation) out.push(w('memory', 'memory.low', maxOr(checkInt(m.reservation, 'memory.reservation', -1)), 'memory.reservation'));
    // memory.kernel and memory.kernelTCP: v2 accounts kernel memory inside memory.max and has no
    // separate limit; runc ignores both on v2 and so does berth.
    if (m.swappiness !== undefined && m.swappiness !== -1) throw unsupported('memory.swappiness is not supported on cgroup v2');
    if (m.disableOOMKiller)
      throw unsupported('memory.disableOOMKiller is not supported on cgroup v2 (use memory.oom.group or a larger limit)');
    if (m.useHierarchy === false) throw unsupported('memory.useHierarchy=false is not supported on cgroup v2 (it is always hierarchical)');
  }
  const c = r.cpu;
  if (c) {
    if (c.shares) out.push(w('cpu', 'cpu.weight', sharesToWeight(checkInt(c.shares, 'cpu.shares', 2)), 'cpu.shares'));
    if (c.quota || c.period) {
      const quota = c.quota ? checkInt(c.quota, 'cpu.quota', -1) : (cur.cpuQuota ?? -1);
      let v = quota > 0 ? String(quota) : 'max';
      if (c.period) v += ` ${checkInt(c.period, 'cpu.period', 1)}`;
      out.push(w('cpu', 'cpu.max', v, c.quota ? 'cpu.quota' : 'cpu.period'));
    }
    if (c.burst !== undefined) out.push(w('cpu', 'cpu.max.burst', checkInt(c.burst, 'cpu.burst', 0), 'cpu.burst'));
    if (c.realtimePeriod || c.realtimeRuntime)
      throw unsupported('cpu.realtimePeriod and cpu.realtimeRuntime are not supported on cgroup v2');
    if (c.idle !== undefined) out.push(w('cpu', 'cpu.idle', checkInt(c.idle, 'cpu.idle', 0), 'cpu.idle'));
    if (c.cpus) out.push(w('cpuset', 'cpuset.cpus', c.cpus, 'cpu.cpus'));
    if (c.mems) out.push(w('cpuset', 'cpuset.mems', c.mems, 'cpu.mems'));
  }
  if (r.pids) out.push(w('pids', 'pids.max', pidsMax(r.pids.limit), 'pids.limit'));
  const b = r.blockIO;
  if (b) {
    if (b.weight) {
      const wt = checkInt(b.weight, 'blockIO.weight', 10);
      out.push(
        w('io', 'io.bfq.weight', wt, 'blockIO.weight', { alternatives: [{ file: 'io.weight', value: String(blkioWeightToIOWeight(wt)) }] }),
      );
    }
    if (b.leafWeight) throw unsupported('blockIO.leafWeight is not supported on cgroup v2');
    for (const d of b.weightDevice ?? []) {
      const dev = `${checkInt(d.major, 'blockIO.weightDevice.major', 0)}:${checkInt(d.minor, 'blockIO.weightDevice.minor', 0)}`;
      if (d.leafWeight) throw unsupported('blockIO.weightDevice.leafWeight is not supported on cgroup v2');
      if (d.weight) {
        const wt = checkInt(d.weight, 'blockIO.weightDevice.weight', 10);
        out.push(
          w('io', 'io.bfq.weight', `${dev} ${wt}`, 'blockIO.weightDevice', {
            alternatives: [{ file: 'io.weight', value: `${dev} ${blkioWeightToIOWeight(wt)}` }],
          }),
        );
      }
    }
    const thr: [keyof typeof b, string][] = [
      ['throttleReadBpsDevice', 'rbps'],
      ['throttleWriteBpsDevice', 'wbps'],
      ['throttleReadIOPSDevice', 'riops'],
      ['throttleWriteIOPSDevice', 'wiops'],
    ];
    for (const [key, name] of thr) {
      for (const d of (b[key] as { major: number; minor: number; rate: number }[] | undefined) ?? []) {
        const rate = checkInt(d.rate, `blockIO.${key}.rate`, 0);
        // 0 means "no limit", as writing 0 does on v1.
        out.push(
          w(
            'io',
            'io.max',
            `${checkInt(d.major, `blockIO.${key}.major`, 0)}:${checkInt(d.minor, `blockIO.${key}.minor`, 0)} ${name}=${rate === 0 ? 'max' : rate}`,
            `blockIO.${key}`,
          ),
        );
      }
    }
  }
  for (const h of r.hugepageLimits ?? []) {
    const size = pageSizeName(h.pageSize);
    const limit = checkInt(h.limit, `hugepageLimits[${h.pageSize}].limit`, 0);
    out.push(w('hugetlb', `hugetlb.${size}.max`, limit, `hugepageLimits[${h.pageSize}]`));
    out.push(w('hugetlb', `hugetlb.${size}.rsvd.max`, limit, `hugepageLimits[${h.pageSize}]`, { optional: true }));
  }
  if (r.network && (r.network.classID !== undefined || r.network.priorities?.length)) {
    throw unsupported('network.classID and network.priorities (net_cls, net_prio) do not exist on cgroup v2');
  }
  out.push(...rdmaWrites(r, 'rdma'));
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    if (!/^[a-z0-9_]+\.[a-zA-Z0-9_.]+$/.test(key)) throw invalid(`unified: ${JSON.stringify(key)} is not a cgroup v2 control file name`);
    // Controller '' = the cgroup's own directory whatever it enables; a missing file is an error naming the key.
    out.push(w('', key, value, `unified[${JSON.stringify(key)}]`));
  }
  return out;
}

/** "max" → -1, else the number. */
export function parseMax(s: string): number {
  const t = s.trim();
  return t === 'max' ? -1 : Number(t);
}
