// Small checks shared by the v1 and v2 conversions: integer ranges, hugepage size names, and
// which controller each part of linux.resources needs (used by the hybrid driver to split them).
import type { LinuxResources } from '../../oci/runtime-spec.js';
import { invalid } from '../../errors.js';

export function checkInt(v: number, field: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw invalid(`${field} ${JSON.stringify(v)} is invalid: want an integer ≥ ${min}`);
  }
  return v;
}

/** "2MB", "1GB", "64KB" as the hugetlb files name them; accepts the OCI form (the same). */
export function pageSizeName(s: string): string {
  const m = /^(\d+)([KMGTP]?)B$/.exec(s ?? '');
  if (!m) throw invalid(`hugepageLimits: page size ${JSON.stringify(s)} is not like 2MB or 1GB`);
  return `${Number(m[1])}${m[2]}B`;
}

/** The parts of linux.resources, each named by the v1 controller it needs. */
export type ResourceGroup = 'memory' | 'cpu' | 'cpuset' | 'pids' | 'blkio' | 'hugetlb' | 'net_cls' | 'net_prio' | 'devices' | 'rdma';

/**
 * Splits `r` into what goes where: `take(group)` true → the first result, false → the second.
 * `unified` always goes to the second (it is v2-only).
 */
export function splitResources(r: LinuxResources, take: (g: ResourceGroup) => boolean): [LinuxResources, LinuxResources] {
  const a: LinuxResources = {};
  const b: LinuxResources = {};
  const to = (g: ResourceGroup) => (take(g) ? a : b);
  if (r.memory) to('memory').memory = r.memory;
  if (r.cpu) {
    const { cpus, mems, ...sched } = r.cpu;
    if (Object.values(sched).some((v) => v !== undefined)) to('cpu').cpu = { ...to('cpu').cpu, ...sched };
    if (cpus !== undefined || mems !== undefined) {
      const t = to('cpuset');
      t.cpu = { ...t.cpu, ...(cpus !== undefined ? { cpus } : {}), ...(mems !== undefined ? { mems } : {}) };
    }
  }
  if (r.pids) to('pids').pids = r.pids;
  if (r.blockIO) to('blkio').blockIO = r.blockIO;
  if (r.hugepageLimits?.length) to('hugetlb').hugepageLimits = r.hugepageLimits;
  if (r.network) {
    const { classID, priorities } = r.network;
    if (classID !== undefined) to('net_cls').network = { ...to('net_cls').network, classID };
    if (priorities !== undefined) to('net_prio').network = { ...to('net_prio').network, priorities };
  }
  if (r.devices?.length) to('devices').devices = r.devices;
  if (r.rdma && Object.keys(r.rdma).length) to('rdma').rdma = r.rdma;
  if (r.unified && Object.keys(r.unified).length) b.unified = r.unified;
  return [a, b];
}

export function isEmptyResources(r: LinuxResources): boolean {
  return Object.values(r).every((v) => v === undefined);
}
