// The hybrid driver: v1 controllers under <root>/<controller> plus a cgroup2 hierarchy (usually
// <root>/unified) holding the controllers v1 does not mount. A container joins both; each part of
// linux.resources goes to the hierarchy that has its controller, v1 first.
import type { LinuxResources } from '../../oci/runtime-spec.js';
import type { CgroupManager } from './interface.js';
import { type ResourceGroup, isEmptyResources, splitResources } from './convert-common.js';
import type { CgroupStats } from './stats.js';
import { joinAll } from './fs.js';
import type { V1Cgroups } from './v1.js';
import type { V2Cgroups } from './v2.js';
import { systemError, withCleanup } from '../../errors.js';

/** v1 group → the v2 controller that does the same job (devices are eBPF, not a controller). */
const V2_NAME: Partial<Record<ResourceGroup, string>> = { blkio: 'io' };

export class HybridCgroups implements CgroupManager {
  readonly layout = 'hybrid' as const;
  readonly paths: Record<string, string>;

  constructor(
    readonly v1: V1Cgroups,
    readonly v2: V2Cgroups,
  ) {
    this.paths = { ...v1.paths, '': v2.dir };
  }

  /** [what v1 takes, what the unified hierarchy takes]. */
  split(r: LinuxResources): [LinuxResources, LinuxResources] {
    return splitResources(r, (g) => this.v1.has(g));
  }

  async create(resources: LinuxResources = {}): Promise<void> {
    const [a, b] = this.split(resources);
    await this.v1.create(a);
    try {
      await this.v2.create(b);
    } catch (err) {
      throw withCleanup(
        err,
        await this.v1.destroy().then(
          () => [],
          (cleanup: Error) => [cleanup],
        ),
      );
    }
  }

  async addProcess(pid: number): Promise<void> {
    await joinAll([this.v1.addProcess(pid), this.v2.addProcess(pid)]);
  }

  async update(resources: LinuxResources): Promise<void> {
    const [a, b] = this.split(resources);
    if (!isEmptyResources(a)) await this.v1.update(a);
    if (!isEmptyResources(b)) await this.v2.update(b);
  }

  pids(): number[] {
    return [...new Set([...this.v1.pids(), ...this.v2.pids()])].sort((a, b) => a - b);
  }

  async freeze(): Promise<void> {
    if (this.v1.has('freezer')) await this.v1.freeze();
    else await this.v2.freeze();
  }

  async thaw(): Promise<void> {
    if (this.v1.has('freezer')) await this.v1.thaw();
    else await this.v2.thaw();
  }

  frozen(): boolean {
    return this.v1.has('freezer') ? this.v1.frozen() : this.v2.frozen();
  }

  /**
   * cgroup.kill in the unified hierarchy reaches every process that joined the container the
   * normal way; any that joined only some v1 hierarchies are then killed through v1.
   */
  async kill(): Promise<void> {
    await this.v2.kill();
    if (this.v1.pids().length) await this.v1.kill();
  }

  stats(): CgroupStats {
    const s = this.v1.stats();
    const v2ctl = new Set(this.v2.controllers());
    const fromV2: [keyof CgroupStats, ResourceGroup | 'cpuacct'][] = [
      ['cpu', 'cpuacct'],
      ['cpuset', 'cpuset'],
      ['memory', 'memory'],
      ['pids', 'pids'],
      ['blkio', 'blkio'],
      ['hugetlb', 'hugetlb'],
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

  async destroy(): Promise<void> {
    const errs: Error[] = [];
    for (const m of [this.v2, this.v1]) {
      try {
        await m.destroy();
      } catch (err) {
        errs.push(err as Error);
      }
    }
    if (errs.length === 1) throw errs[0];
    if (errs.length) throw systemError(`remove cgroups: ${errs.map((e) => e.message).join('; ')}`, errs[0]);
  }
}
