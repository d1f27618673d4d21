// The hybrid driver: v1 controllers under <root>/<controller> plus a cgroup2 hierarchy (usually
// <root>/unified) holding the controllers v1 does not mount. A container joins both; each part of
// linux.resources goes to the hierarchy that has its controller, v1 first.
import type { LinuxResources } from '../../oci/runtime-spec.js';
import type { CgroupManager } from './manager.js';
import { type ResourceGroup, isEmptyResources, splitResources } from './convert-common.js';
import type { CgroupStats } from './stats.js';
import type { V1Cgroups } from './v1.js';
import type { V2Cgroups } from './v2.js';
import { systemError } from '../../errors.js';

/** v1 group → the v2 controller that does the same job (devices are eBPF, not a controller). */
const V2_NAME: Partial<Record<ResourceGroup, string>> = { blkio: 'io' };

export class HybridCgroups implements CgroupManager {
  readonly layout = 'hybrid' as const;
  readonly paths: Record<string, string>;

  constructor(readonly v1: V1Cgroups, readonly v2: V2Cgroups) {
    this.paths = { ...v1.paths, '': v2.dir };
  }

  /** [what v1 takes, what the unified hierarchy takes]. */
  split(r: LinuxResources): [LinuxResources, LinuxResources] {
    return splitResources(r, (g) => this.v1.has(g));
  }

  create(resources: LinuxResources = {}): void {
    const [a, b] = this.split(resources);
    this.v1.create(a);
    try {
      this.v2.create(b);
    } catch (err) {
      try {
        this.v1.destroy();
      } catch (cleanup) {
        throw systemError(`${(err as Error).message}; and cleaning up: ${(cleanup as Error).message}`, err);
      }
      throw err;
    }
  }

  async addProcess(pid: number): Promise<void> {
    await this.v1.addProcess(pid);
    await this.v2.addProcess(pid);
  }

  update(resources: LinuxResources): void {
    const [a, b] = this.split(resources);
    if (!isEmptyResources(a)) this.v1.update(a);
    if (!isEmptyResources(b)) this.v2.update(b);
  }

  pids(): number[] {
    return [...new Set([...this.v1.pids(), ...this.v2.pids()])].sort((a, b) => a - b);
  }

  freeze(): void {
    if (this.v1.has('freezer')) this.v1.freeze();
    else this.v2.freeze();
  }

  thaw(): void {
    if (this.v1.has('freezer')) this.v1.thaw();
    else this.v2.thaw();
  }

  frozen(): boolean {
    return this.v1.has('freezer') ? this.v1.frozen() : this.v2.frozen();
  }

  /**
   * cgroup.kill in the unified hierarchy reaches every process that joined the container the
   * normal way; any that joined only some v1 hierarchies are then killed through v1.
   */
  kill(): void {
    this.v2.kill();
    if (this.v1.pids().length) this.v1.kill();
  }

  stats(): CgroupStats {
    const s = this.v1.stats();
    const v2ctl = new Set(this.v2.controllers());
    const fromV2: [keyof CgroupStats, ResourceGroup | 'cpuacct'][] = [
      ['cpu', 'cpuacct'], ['cpuset', 'cpuset'], ['memory', 'memory'], ['pids', 'pids'], ['blkio', 'blkio'], ['hugetlb', 'hugetlb'],
    ];
    const need = fromV2.filter(([, g]) => !this.v1.has(g) && v2ctl.has(g === 'cpuacct' ? 'cpu' : (V2_NAME[g as ResourceGroup] ?? g)));
    if (need.length) {
      const t = this.v2.stats() as unknown as Record<string, unknown>;
      const out = s as unknown as Record<string, unknown>;
      for (const [k] of need) out[k] = t[k];
    }
    return s;
  }

  oomKillCount(): number {
    return this.v1.has('memory') ? this.v1.oomKillCount() : this.v2.oomKillCount();
  }

  destroy(): void {
    const errs: Error[] = [];
    for (const m of [this.v2, this.v1]) {
      try {
        m.destroy();
      } catch (err) {
        errs.push(err as Error);
      }
    }
    if (errs.length === 1) throw errs[0];
    if (errs.length) throw systemError(`remove cgroups: ${errs.map((e) => e.message).join('; ')}`, errs[0]);
  }
}
