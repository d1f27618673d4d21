// A container with no cgroups of its own: what a rootless runtime (one in a user namespace that
// the host's cgroups are not delegated to) gives a container that asks for no limits, as runc
// does rootless. Its processes are those of its init's PID namespace; whatever needs a cgroup
// (a limit, pause, stats) is refused, never silently skipped.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { unsupported } from '../../errors.js';
import type { LinuxResources } from '../../oci/runtime-spec.js';
import type { CgroupManager } from './interface.js';
import type { CgroupStats } from './stats.js';

/** The limits `resources` asks for, by name (device rules and an unlimited pids count are none). */
export function limitsAsked(resources: LinuxResources | undefined): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(resources ?? {})) {
    if (k === 'devices' || v === undefined || v === null) continue;
    if (k === 'pids' && !((v as { limit?: number }).limit! > 0)) continue;
    if (typeof v === 'object' && Object.values(v as object).every((x) => x === undefined || x === null)) continue;
    if (Array.isArray(v) && !v.length) continue;
    out.push(k);
  }
  return out;
}

export const NOT_DELEGATED =
  'a rootless berthd has cgroups only where they are delegated to its user (cgroup v2 with systemd Delegate=yes), and this machine delegates none to it';

const linkOf = (pid: number | 'self') => {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined; // the process is gone
  }
};

export class NoCgroups implements CgroupManager {
  readonly layout = 'none' as const;
  readonly paths: Record<string, string> = {};

  constructor(private initPid = 0) {}

  async create(resources?: LinuxResources): Promise<void> {
    this.refuseLimits(resources);
  }

  async addProcess(pid: number): Promise<void> {
    this.initPid ||= pid;
  }

  async update(resources: LinuxResources): Promise<void> {
    this.refuseLimits(resources);
  }

  private refuseLimits(resources: LinuxResources | undefined): void {
    const asked = limitsAsked(resources);
    if (asked.length) throw unsupported(`cgroup limits asked for (${asked.join(', ')}): ${NOT_DELEGATED}; run without them`);
  }

  /** The init's PID namespace's processes; the init and its descendants where it shares the caller's. */
  pids(): number[] {
    if (!this.initPid) return [];
    const ns = linkOf(this.initPid);
    if (!ns) return [];
    const all = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
    if (ns !== linkOf('self')) return all.filter((p) => linkOf(p) === ns).sort((a, b) => a - b);
    const parent = new Map<number, number>();
    for (const p of all) {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        parent.set(p, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {
        // gone meanwhile
      }
    }
    const out = new Set([this.initPid]);
    for (let grew = true; grew;) {
      grew = false;
      for (const [p, pp] of parent)
        if (!out.has(p) && out.has(pp)) {
          out.add(p);
          grew = true;
        }
    }
    return [...out].filter((p) => parent.has(p)).sort((a, b) => a - b);
  }

  async freeze(): Promise<void> {
    throw unsupported(`pause needs the freezer cgroup: ${NOT_DELEGATED}`);
  }

  async thaw(): Promise<void> {
    throw unsupported(`unpause needs the freezer cgroup: ${NOT_DELEGATED}`);
  }

  frozen(): boolean {
    return false;
  }

  async kill(): Promise<void> {
    for (const pid of this.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    }
  }

  stats(): CgroupStats {
    throw unsupported(`stats need the container's cgroups: ${NOT_DELEGATED}`);
  }

  /** No cgroup counts OOM kills: none is reported. */
  oomKillCount(): number {
    return 0;
  }

  async destroy(): Promise<void> {}
}
