// The cgroup v2 driver: one directory in the unified hierarchy. Enables the controllers it needs
// in the parents' cgroup.subtree_control, applies linux.resources through convert-v2.ts, and
// hands device rules to the caller's eBPF attacher as a program from devices-ebpf.ts.
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { LinuxResources } from '../../oci/runtime-spec.js';
import { conflict, invalid, systemError, unsupported, withCleanup } from '../../errors.js';
import type { CgroupManager, CgroupOptions } from './interface.js';
import {
  applyWrites,
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
import { parseMax, v2Writes } from './convert-v2.js';
import { compileDeviceFilter } from './devices-ebpf.js';
import { deviceRulesHere } from './devices.js';
import { type CgroupStats, parseKeyValues, parseNumber, parseOomKill, v2Stats } from './stats.js';
import { hugePageSizes } from './v1.js';

export class V2Cgroups implements CgroupManager {
  readonly layout = 'v2' as const;
  readonly paths: Record<string, string>;
  private made: string[] = [];
  private created = false;

  /** `mountPoint` is the unified hierarchy's mount; parents between it and `dir` get controllers enabled. */
  constructor(
    readonly dir: string,
    private readonly mountPoint: string | undefined,
    private readonly opts: CgroupOptions,
    private readonly fresh: boolean,
  ) {
    this.paths = { '': dir };
  }

  /** Controllers enabled for this cgroup (its cgroup.controllers). */
  controllers(): string[] {
    return (readOptional(this.dir, 'cgroup.controllers') ?? '').trim().split(/\s+/).filter(Boolean);
  }

  async create(resources: LinuxResources = {}): Promise<void> {
    const procs = readOptional(this.dir, 'cgroup.procs');
    if (procs !== undefined && procs.trim()) throw conflict(`cgroup ${this.dir} already holds processes; pick another cgroupsPath`);
    try {
      this.made = await mkdirTracked(this.dir);
      this.created = true;
      this.enableControllers();
      await this.apply(resources, false);
    } catch (err) {
      throw withCleanup(err, await this.removeMade());
    }
  }

  /**
   * Every controller a parent offers is enabled for its children, from the mount down to the
   * leaf's parent (as runc does). One that cannot be enabled (a parent holding processes, a
   * threaded subtree) is skipped here and surfaces as an `unsupported` error if a resource needs it.
   */
  private enableControllers(): void {
    if (!this.mountPoint) return;
    const rel = posix.relative(this.mountPoint, posix.dirname(this.dir));
    if (rel.startsWith('..')) return;
    let d = this.mountPoint;
    for (const part of ['', ...(rel ? rel.split('/') : [])]) {
      d = part ? posix.join(d, part) : d;
      const avail = (readOptional(d, 'cgroup.controllers') ?? '').trim().split(/\s+/).filter(Boolean);
      const on = new Set((readOptional(d, 'cgroup.subtree_control') ?? '').trim().split(/\s+/).filter(Boolean));
      const want = avail.filter((c) => !on.has(c));
      if (want.length === 0) continue;
      try {
        writeControl(d, 'cgroup.subtree_control', want.map((c) => `+${c}`).join(' '));
      } catch {
        for (const c of want) {
          try {
            writeControl(d, 'cgroup.subtree_control', `+${c}`);
          } catch {
            // left off; see above
          }
        }
      }
    }
  }

  async apply(r: LinuxResources, isUpdate: boolean): Promise<void> {
    const m = r.memory;
    const cur: { memoryMax?: number; cpuQuota?: number } = {};
    if (m?.swap && !m.limit) {
      const v = readOptional(this.dir, 'memory.max');
      if (v !== undefined) cur.memoryMax = parseMax(v);
    }
    if (r.cpu?.period && !r.cpu.quota) {
      const v = readOptional(this.dir, 'cpu.max');
      if (v !== undefined) cur.cpuQuota = parseMax(v.trim().split(/\s+/)[0]);
    }
    if (isUpdate && m?.checkBeforeUpdate && m.limit && m.limit > 0) {
      const usage = parseNumber(readOptional(this.dir, 'memory.current')) ?? 0;
      if (usage > m.limit) throw invalid(`memory.limit ${m.limit} is below the current usage ${usage} (checkBeforeUpdate)`);
    }
    const writes = v2Writes(r, cur);
    const enabled = new Set(this.controllers());
    applyWrites(writes, (c) => (c === '' || enabled.has(c) ? this.dir : undefined), `not enabled in ${this.dir}/cgroup.controllers`);
    const devices = deviceRulesHere(r);
    if (devices) {
      if (!this.opts.attachDeviceProgram)
        throw unsupported('device rules on cgroup v2 need an eBPF attacher (the native helper); none was given');
      await this.opts.attachDeviceProgram(this.dir, compileDeviceFilter(devices));
    }
  }

  async addProcess(pid: number): Promise<void> {
    if (!Number.isInteger(pid) || pid <= 0) throw invalid(`bad pid ${pid}`);
    await writeControlAsync(this.dir, 'cgroup.procs', String(pid));
  }

  async update(resources: LinuxResources): Promise<void> {
    await this.apply(resources, true);
  }

  pids(): number[] {
    return pidsRecursive(this.dir);
  }

  private async waitFrozen(want: boolean): Promise<boolean> {
    for (let i = 0; i < 500; i++) {
      const ev = parseKeyValues(readOptional(this.dir, 'cgroup.events'));
      if ((ev.frozen === 1) === want) return true;
      await delay(i < 10 ? 1 : 10);
    }
    return false;
  }

  async freeze(): Promise<void> {
    writeControl(this.dir, 'cgroup.freeze', '1');
    if (!(await this.waitFrozen(true))) {
      writeControl(this.dir, 'cgroup.freeze', '0');
      throw systemError(`freeze ${this.dir}: processes did not stop within 5 s`);
    }
  }

  async thaw(): Promise<void> {
    writeControl(this.dir, 'cgroup.freeze', '0');
    await this.waitFrozen(false);
  }

  frozen(): boolean {
    const ev = readOptional(this.dir, 'cgroup.events');
    if (ev !== undefined) return parseKeyValues(ev).frozen === 1;
    return readControl(this.dir, 'cgroup.freeze').trim() === '1';
  }

  async kill(): Promise<void> {
    // cgroup.kill is write-only: test for it, do not read it.
    if (existsSync(posix.join(this.dir, 'cgroup.kill'))) {
      writeControl(this.dir, 'cgroup.kill', '1');
      return;
    }
    // Kernels before 5.14: freeze, signal each, thaw.
    await this.freeze();
    try {
      for (const pid of this.pids()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
        }
      }
    } finally {
      await this.thaw();
    }
  }

  stats(): CgroupStats {
    return v2Stats((f) => readOptional(this.dir, f), hugePageSizes());
  }

  oomKillCount(): number {
    const ev = readOptional(this.dir, 'memory.events');
    if (ev === undefined) throw unsupported(`the memory controller is not enabled in ${this.dir}`);
    return parseOomKill(ev);
  }

  private async removeMade(): Promise<Error[]> {
    const errs: Error[] = [];
    for (const d of [...this.made].reverse()) {
      if (d === this.dir) errs.push(...(await removeTree(d)));
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
    throwAll(await removeTree(this.dir), 'remove cgroups');
  }
}
