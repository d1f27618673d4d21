// The one interface the runtime uses for a container's cgroups, whatever the machine's layout:
// each driver (v1.ts, v2.ts, hybrid.ts) implements it, and manager.ts picks one. Imports no
// driver, so the drivers and the manager never import each other in a circle.

import type { LinuxResources } from '../../oci/runtime-spec.js';
import type { CgroupLayout } from './detect.js';
import type { CgroupStats } from './stats.js';

export interface CgroupOptions {
  /**
   * Called on v2 to attach a device-filter eBPF program (bytes of struct bpf_insn[]) to a cgroup
   * directory; berth's native helper provides it. Without it, device rules on v2 are an
   * `unsupported` error. update() with devices calls it again: the attacher must replace the
   * program berth attached before (BPF_F_REPLACE or detach-then-attach), not add a second one.
   */
  attachDeviceProgram?: (cgroupDir: string, program: Buffer) => Promise<void>;
  /** Where the hierarchies are mounted; default /sys/fs/cgroup. A cgroup2 mount point here selects v2. */
  mountRoot?: string;
  /** The container's init, for the 'none' layout (none.ts), whose processes are found from it. */
  initPid?: number;
}

export interface CgroupManager {
  readonly layout: CgroupLayout;
  /**
   * Hierarchy key (a v1 controller, `name=systemd`, or '' for the unified hierarchy) → absolute
   * directory. Stored in the runtime's state so later commands reopen the same cgroups.
   */
  readonly paths: Record<string, string>;
  /** mkdir -p and apply. A bad value is an error naming the file and the value, and leaves nothing behind. A cgroup that already holds processes is a `conflict`. */
  create(resources?: LinuxResources): Promise<void>;
  /**
   * Moves pid into the container's cgroup in every hierarchy. Asynchronous: on v1 the first
   * write to cgroup.procs waits for an RCU grace period (~10 ms), which must not stall berthd.
   */
  addProcess(pid: number): Promise<void>;
  /** `runc update` semantics: only the given fields change. */
  update(resources: LinuxResources): Promise<void>;
  /** Every pid in the cgroup and its descendants, ascending. */
  pids(): number[];
  /** Waits (on timers, never blocking the thread) up to 5 s for every task to stop. */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  frozen(): boolean;
  /** SIGKILL to every process in the cgroup (cgroup.kill where the kernel has it). */
  kill(): Promise<void>;
  /** runc's `events --stats` data (its JSON field names). */
  stats(): CgroupStats;
  /** How many times the OOM killer killed a process in this cgroup. */
  oomKillCount(): number;
  /**
   * rmdir the container's cgroups and any sub-cgroups inside them, deepest first, retrying briefly
   * on EBUSY. Parents are removed only when this manager's create() made them and they are empty.
   * A manager from openCgroups removes only what its create() made; one from reopenCgroups removes
   * the directories in `paths` (the container's own).
   */
  destroy(): Promise<void>;
}
