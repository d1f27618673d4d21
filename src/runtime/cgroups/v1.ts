// The cgroup v1 driver: one directory per mounted hierarchy (each controller, and name=systemd,
// which a container joins too). Applies linux.resources through convert-v1.ts and devices-v1.ts;
// the hybrid driver reuses it for the v1 half of the machine.
import { readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { LinuxResources } from '../../oci/runtime-spec.js';
import { conflict, invalid, systemError, unsupported, withCleanup } from '../../errors.js';
import type { CgroupManager } from './interface.js';
import {
  applyWrites,
  joinAll,
  mkdirTracked,
  pidsRecursive,
  readControl,
  readOptional,
  removeDirs,
  removeTree,
  throwAll,
  writeControl,
  writeControlAsync,
} from './fs.js';
import { v1Writes } from './convert-v1.js';
import { v1DeviceWrites } from './devices-v1.js';
import { deviceRulesHere } from './devices.js';
import { type CgroupStats, hugePageSizeNames, parseNumber, parseOomKill, v1HugetlbStats, v1Stats } from './stats.js';

export function hugePageSizes(): string[] {
  try {
    return hugePageSizeNames(readdirSync('/sys/kernel/mm/hugepages'));
  } catch {
    return [];
  }
}

export class V1Cgroups implements CgroupManager {
  readonly layout = 'v1' as const;
  readonly paths: Record<string, string>;
  /** Directories create() made, outermost first. */
  private made: string[] = [];
  private created = false;

  constructor(
    paths: Record<string, string>,
    private readonly fresh: boolean,
  ) {
    this.paths = { ...paths };
  }

  /** Each distinct directory once (co-mounted controllers share one). */
  private dirs(): string[] {
    return [...new Set(Object.values(this.paths))];
  }

  has(controller: string): boolean {
    return this.paths[controller] !== undefined;
  }

  async create(resources: LinuxResources = {}): Promise<void> {
    for (const d of this.dirs()) {
      const procs = readOptional(d, 'cgroup.procs');
      if (procs !== undefined && procs.trim()) throw conflict(`cgroup ${d} already holds processes; pick another cgroupsPath`);
    }
    try {
      for (const d of this.dirs()) this.made.push(...(await mkdirTracked(d)));
      this.created = true;
      if (this.paths.cpuset) this.inheritCpuset(this.paths.cpuset);
      this.apply(resources, false);
    } catch (err) {
      throw withCleanup(err, await this.removeMade());
    }
  }

  /** A new cpuset cgroup starts with no cpus and mems, and then refuses tasks: copy them down from the parent. */
  private inheritCpuset(leaf: string): void {
    const chain: string[] = [];
    for (let d = leaf; ; d = posix.dirname(d)) {
      if (readOptional(d, 'cpuset.cpus') === undefined || d === '/') break;
      chain.unshift(d);
    }
    for (let i = 1; i < chain.length; i++) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        const parent = readControl(chain[i - 1], f).trim();
        if (parent && readControl(chain[i], f).trim() === '') writeControl(chain[i], f, parent, f);
      }
    }
  }

  apply(r: LinuxResources, isUpdate: boolean): void {
    const m = r.memory;
    let memoryLimit: number | undefined;
    if (m?.limit && m.swap && this.paths.memory) memoryLimit = parseNumber(readOptional(this.paths.memory, 'memory.limit_in_bytes'));
    if (isUpdate && m?.checkBeforeUpdate && m.limit && m.limit > 0 && this.paths.memory) {
      const usage = parseNumber(readOptional(this.paths.memory, 'memory.usage_in_bytes')) ?? 0;
      if (usage > m.limit) throw invalid(`memory.limit ${m.limit} is below the current usage ${usage} (checkBeforeUpdate)`);
    }
    const devices = deviceRulesHere(r);
    const current = isUpdate && devices && this.paths.devices ? readOptional(this.paths.devices, 'devices.list') : undefined;
    const writes = [...v1Writes(r, { memoryLimit }), ...(devices ? v1DeviceWrites(devices, current) : [])];
    applyWrites(writes, (c) => this.paths[c], 'cgroup v1: no hierarchy mounts it');
  }

  async addProcess(pid: number): Promise<void> {
    if (!Number.isInteger(pid) || pid <= 0) throw invalid(`bad pid ${pid}`);
    await joinAll(this.dirs().map((d) => writeControlAsync(d, 'cgroup.procs', String(pid))));
  }

  async update(resources: LinuxResources): Promise<void> {
    this.apply(resources, true);
  }

  /** The union over every hierarchy: a process that joined only some (by hand) still counts. */
  pids(): number[] {
    const all = new Set<number>();
    for (const d of this.dirs()) for (const p of pidsRecursive(d)) all.add(p);
    return [...all].sort((a, b) => a - b);
  }

  private freezerDir(): string {
    const d = this.paths.freezer;
    if (d === undefined) throw unsupported('pause/resume needs the freezer cgroup controller, which is not mounted');
    return d;
  }

  async freeze(): Promise<void> {
    const d = this.freezerDir();
    // FREEZING can linger while a task is in an uninterruptible sleep; keep asking, then give up.
    for (let i = 0; i < 500; i++) {
      if (i % 10 === 0) writeControl(d, 'freezer.state', 'FROZEN');
      if (readControl(d, 'freezer.state').trim() === 'FROZEN') return;
      await delay(i < 10 ? 1 : 10);
    }
    writeControl(d, 'freezer.state', 'THAWED');
    throw systemError(`freeze ${d}: processes did not stop within 5 s`);
  }

  async thaw(): Promise<void> {
    const d = this.freezerDir();
    writeControl(d, 'freezer.state', 'THAWED');
    for (let i = 0; i < 500 && readControl(d, 'freezer.state').trim() !== 'THAWED'; i++) await delay(i < 10 ? 1 : 10);
  }

  frozen(): boolean {
    const d = this.paths.freezer;
    return d !== undefined && readControl(d, 'freezer.state').trim() === 'FROZEN';
  }

  async kill(): Promise<void> {
    const canFreeze = this.paths.freezer !== undefined;
    if (canFreeze) await this.freeze();
    try {
      for (const pid of this.pids()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
        }
      }
    } finally {
      if (canFreeze) await this.thaw();
    }
  }

  stats(): CgroupStats {
    const s = v1Stats((c, f) => (this.paths[c] === undefined ? undefined : readOptional(this.paths[c], f)));
    if (this.paths.hugetlb) s.hugetlb = v1HugetlbStats(hugePageSizes(), (f) => readOptional(this.paths.hugetlb, f));
    return s;
  }

  oomKillCount(): number {
    if (!this.paths.memory) throw unsupported('the memory cgroup controller is not mounted');
    return parseOomKill(readOptional(this.paths.memory, 'memory.oom_control'));
  }

  private async removeMade(): Promise<Error[]> {
    const leaves = new Set(this.dirs());
    const errs: Error[] = [];
    for (const d of [...this.made].reverse()) {
      if (leaves.has(d)) errs.push(...(await removeTree(d)));
      else errs.push(...(await removeDirs([d], true)));
    }
    this.made = [];
    return errs;
  }

  async destroy(): Promise<void> {
    if (this.fresh) {
      if (this.created) throwAll(await this.removeMade(), 'remove cgroups');
      return;
    }
    const errs: Error[] = [];
    for (const d of this.dirs()) errs.push(...(await removeTree(d)));
    throwAll(errs, 'remove cgroups');
  }
}
