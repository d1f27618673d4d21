// OCI linux.resources → cgroup v1 control-file writes, in the order they must happen. Pure: the
// driver passes what it has to read first (the current memory limit) and carries the writes out.
// Devices are converted in devices-v1.ts.
import type { LinuxResources } from '../../oci/runtime-spec.js';
import { invalid, unsupported } from '../../errors.js';
import type { CgroupWrite } from './fs.js';
import { pageSizeName, checkInt } from './convert-common.js';

export interface V1Current {
  /** memory.limit_in_bytes now; decides whether memsw or the limit is written first. */
  memoryLimit?: number;
}

const w = (controller: string, file: string, value: string | number, field: string, extra?: Partial<CgroupWrite>): CgroupWrite => ({
  controller,
  file,
  value: String(value),
  field,
  ...extra,
});

/** Writes for everything but devices (see devices-v1.ts). */
export function v1Writes(r: LinuxResources, cur: V1Current = {}): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const m = r.memory;
  if (m) {
    const limit = m.limit ? checkInt(m.limit, 'memory.limit', -1) : 0;
    let swap = m.swap ? checkInt(m.swap, 'memory.swap', -1) : 0;
    const memW = (v: number) => w('memory', 'memory.limit_in_bytes', v, 'memory.limit');
    const swW = (v: number, optional = false) => w('memory', 'memory.memsw.limit_in_bytes', v, 'memory.swap', { optional });
    if (limit !== 0 && swap !== 0) {
      if (swap !== -1 && limit !== -1 && swap < limit)
        throw invalid(`memory.swap (${swap}) must be at least memory.limit (${limit}): on cgroup v1 it is memory+swap`);
      // The kernel wants memsw ≥ limit at every instant: raise memsw first when it grows.
      if (swap === -1 || (cur.memoryLimit !== undefined && cur.memoryLimit < swap)) out.push(swW(swap), memW(limit));
      else out.push(memW(limit), swW(swap));
    } else if (limit !== 0) {
      if (limit === -1) {
        // Unlimited memory with swap unset means both unlimited (runc does the same), else the
        // kernel refuses a limit above memsw. Skipped where swap accounting is off.
        swap = -1;
        out.push(swW(-1, true), memW(-1));
      } else out.push(memW(limit));
    } else if (swap !== 0) out.push(swW(swap));
    if (m.reservation)
      out.push(w('memory', 'memory.soft_limit_in_bytes', checkInt(m.reservation, 'memory.reservation', -1), 'memory.reservation'));
    // Kernel memory limits: Linux 6.1 dropped kmem limits (the file stays, writes are ignored) and
    // some kernels lack the files; like runc, berth skips them where the file is absent.
    if (m.kernel)
      out.push(w('memory', 'memory.kmem.limit_in_bytes', checkInt(m.kernel, 'memory.kernel', -1), 'memory.kernel', { optional: true }));
    if (m.kernelTCP)
      out.push(
        w('memory', 'memory.kmem.tcp.limit_in_bytes', checkInt(m.kernelTCP, 'memory.kernelTCP', -1), 'memory.kernelTCP', {
          optional: true,
        }),
      );
    if (m.swappiness !== undefined && m.swappiness !== -1) {
      if (!Number.isInteger(m.swappiness) || m.swappiness < 0 || m.swappiness > 100)
        throw invalid(`memory.swappiness ${m.swappiness} is out of range 0-100`);
      out.push(w('memory', 'memory.swappiness', m.swappiness, 'memory.swappiness'));
    }
    if (m.disableOOMKiller !== undefined)
      out.push(w('memory', 'memory.oom_control', m.disableOOMKiller ? 1 : 0, 'memory.disableOOMKiller'));
    if (m.useHierarchy !== undefined) out.push(w('memory', 'memory.use_hierarchy', m.useHierarchy ? 1 : 0, 'memory.useHierarchy'));
  }
  const c = r.cpu;
  if (c) {
    if (c.shares) out.push(w('cpu', 'cpu.shares', checkInt(c.shares, 'cpu.shares', 2), 'cpu.shares'));
    if (c.period) out.push(w('cpu', 'cpu.cfs_period_us', checkInt(c.period, 'cpu.period', 1), 'cpu.period'));
    if (c.quota) out.push(w('cpu', 'cpu.cfs_quota_us', checkInt(c.quota, 'cpu.quota', -1), 'cpu.quota'));
    if (c.burst !== undefined) out.push(w('cpu', 'cpu.cfs_burst_us', checkInt(c.burst, 'cpu.burst', 0), 'cpu.burst'));
    // The period must be in place before the runtime it bounds.
    if (c.realtimePeriod) out.push(w('cpu', 'cpu.rt_period_us', checkInt(c.realtimePeriod, 'cpu.realtimePeriod', 1), 'cpu.realtimePeriod'));
    if (c.realtimeRuntime)
      out.push(w('cpu', 'cpu.rt_runtime_us', checkInt(c.realtimeRuntime, 'cpu.realtimeRuntime', -1), 'cpu.realtimeRuntime'));
    if (c.idle !== undefined) out.push(w('cpu', 'cpu.idle', checkInt(c.idle, 'cpu.idle', 0), 'cpu.idle'));
    if (c.cpus) out.push(w('cpuset', 'cpuset.cpus', c.cpus, 'cpu.cpus'));
    if (c.mems) out.push(w('cpuset', 'cpuset.mems', c.mems, 'cpu.mems'));
  }
  if (r.pids) out.push(w('pids', 'pids.max', pidsMax(r.pids.limit), 'pids.limit'));
  const b = r.blockIO;
  if (b) {
    if (b.weight)
      out.push(
        w('blkio', 'blkio.weight', checkInt(b.weight, 'blockIO.weight', 10), 'blockIO.weight', {
          alternatives: [{ file: 'blkio.bfq.weight', value: String(b.weight) }],
        }),
      );
    if (b.leafWeight) out.push(w('blkio', 'blkio.leaf_weight', checkInt(b.leafWeight, 'blockIO.leafWeight', 10), 'blockIO.leafWeight'));
    for (const d of b.weightDevice ?? []) {
      const dev = `${checkInt(d.major, 'blockIO.weightDevice.major', 0)}:${checkInt(d.minor, 'blockIO.weightDevice.minor', 0)}`;
      if (d.weight)
        out.push(
          w('blkio', 'blkio.weight_device', `${dev} ${d.weight}`, 'blockIO.weightDevice', {
            alternatives: [{ file: 'blkio.bfq.weight_device', value: `${dev} ${d.weight}` }],
          }),
        );
      if (d.leafWeight) out.push(w('blkio', 'blkio.leaf_weight_device', `${dev} ${d.leafWeight}`, 'blockIO.weightDevice.leafWeight'));
    }
    const thr: [keyof typeof b, string][] = [
      ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
      ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
      ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
      ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
    ];
    for (const [key, file] of thr) {
      for (const d of (b[key] as { major: number; minor: number; rate: number }[] | undefined) ?? []) {
        out.push(
          w(
            'blkio',
            file,
            `${checkInt(d.major, `blockIO.${key}.major`, 0)}:${checkInt(d.minor, `blockIO.${key}.minor`, 0)} ${checkInt(d.rate, `blockIO.${key}.rate`, 0)}`,
            `blockIO.${key}`,
          ),
        );
      }
    }
  }
  for (const h of r.hugepageLimits ?? []) {
    const size = pageSizeName(h.pageSize);
    const limit = checkInt(h.limit, `hugepageLimits[${h.pageSize}].limit`, 0);
    out.push(w('hugetlb', `hugetlb.${size}.limit_in_bytes`, limit, `hugepageLimits[${h.pageSize}]`));
    out.push(w('hugetlb', `hugetlb.${size}.rsvd.limit_in_bytes`, limit, `hugepageLimits[${h.pageSize}]`, { optional: true }));
  }
  const n = r.network;
  if (n) {
    if (n.classID !== undefined) out.push(w('net_cls', 'net_cls.classid', checkInt(n.classID, 'network.classID', 0), 'network.classID'));
    for (const p of n.priorities ?? []) {
      if (!p.name || /\s/.test(p.name)) throw invalid(`network.priorities: bad interface name ${JSON.stringify(p.name)}`);
      out.push(
        w('net_prio', 'net_prio.ifpriomap', `${p.name} ${checkInt(p.priority, 'network.priorities.priority', 0)}`, 'network.priorities'),
      );
    }
  }
  out.push(...rdmaWrites(r, 'rdma'));
  if (r.unified && Object.keys(r.unified).length) {
    throw unsupported(`linux.resources.unified (${Object.keys(r.unified).join(', ')}) needs cgroup v2; this machine's cgroups are v1`);
  }
  return out;
}

export function pidsMax(limit: number): string {
  if (!Number.isInteger(limit)) throw invalid(`pids.limit ${limit} is not an integer`);
  return limit > 0 ? String(limit) : 'max';
}

export function rdmaWrites(r: LinuxResources, controller: string): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  for (const [dev, lim] of Object.entries(r.rdma ?? {})) {
    if (!dev || /\s/.test(dev)) throw invalid(`rdma: bad device name ${JSON.stringify(dev)}`);
    const parts: string[] = [];
    if (lim.hcaHandles !== undefined) parts.push(`hca_handle=${checkInt(lim.hcaHandles, `rdma[${dev}].hcaHandles`, 0)}`);
    if (lim.hcaObjects !== undefined) parts.push(`hca_object=${checkInt(lim.hcaObjects, `rdma[${dev}].hcaObjects`, 0)}`);
    if (parts.length) out.push(w(controller, 'rdma.max', `${dev} ${parts.join(' ')}`, `rdma[${dev}]`));
  }
  return out;
}
