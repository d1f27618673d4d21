// The runtime as a library: one async `Runtime` interface (create, start, kill, delete, pause,
// resume, exec, state, update, stats, ps, events) and `LocalRuntime`, its implementation over
// this folder's verbs for one state root. It never blocks its caller's event loop (waits are
// timers, children are waited for asynchronously), never writes to the process's stderr (what is
// not an error goes to the logger it is given), and rejects with every error, cleanup included.
// berthd calls it in-process; berth-runtime (cli.ts) is a thin command line over it; fake.ts is a
// recording fake of the same interface for the engine's unit tests.
import { BerthError } from '../errors.js';
import type { LinuxResources, Spec, State } from '../oci/runtime-spec.js';
import type { CgroupLayout, CgroupStats } from './cgroups/manager.js';
import { openContainer } from './container.js';
import { create } from './create.js';
import { deleteContainer } from './delete.js';
import { stream, type RuntimeEvent } from './events.js';
import { exec, type ExecOptions } from './exec.js';
import { kill } from './kill.js';
import type { RuntimeLogger } from './log.js';
import type { MonitorOptions } from './native/helper.js';
import { pause, resume } from './pause.js';
import { pids } from './ps.js';
import { start } from './start.js';
import { StateDir } from './state.js';
import { update } from './update.js';

export type { RuntimeEvent } from './events.js';
export type { RuntimeLogger, RuntimeLogLevel } from './log.js';
export type { Launched, MonitorOptions } from './native/helper.js';

export interface CreateRequest {
  id: string;
  /** The OCI bundle: config.json and (usually) the root file system. */
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  preserveFds?: number;
  /** Run under a per-container monitor that owns the stdio, the log and the exit status (berthd). */
  monitor?: MonitorOptions;
  /**
   * Told the container's pid as soon as its process exists, while the create goes on (its
   * cgroups, hooks and mounts), so that the caller can set up the network namespace meanwhile.
   * A runtime that learns the pid only at the end may never call it: the create's result has it.
   */
  onPid?: (pid: number) => void;
}

export type ExecRequest = Omit<ExecOptions, 'root'>;

/** The OCI state, with what the runtime recorded at create. */
export interface ContainerState extends State {
  rootfs: string;
  /** RFC 3339, when create ran. */
  created: string;
  /** The bundle's config as created (and as `update` changed its resources). */
  config: Spec;
}

export interface ContainerStats {
  layout: CgroupLayout;
  cgroup: CgroupStats;
  /** How many times the OOM killer killed a process of the container; undefined without a memory controller. */
  oomKills?: number;
}

export interface Runtime {
  /** Resolves once the container's init waits on its exec fifo (or has exec'd, with a monitor), with its pid. */
  create(req: CreateRequest): Promise<{ pid: number }>;
  /** Lets a created container's process exec. */
  start(id: string): Promise<void>;
  /** A signal (name or number) to the init, or with `all` to every process of the container. */
  kill(id: string, signal: string | number, opts?: { all?: boolean }): Promise<void>;
  /** Takes the container apart; `force` kills it first, and a container that does not exist is no error. */
  delete(id: string, opts?: { force?: boolean }): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** A new process in the container; resolves with its exit code (0 once started when detached). */
  exec(req: ExecRequest): Promise<number>;
  /** A `not-found` error when there is no such container. */
  state(id: string): Promise<ContainerState>;
  update(id: string, resources: LinuxResources): Promise<void>;
  stats(id: string): Promise<ContainerStats>;
  /** Every pid in the container's cgroups, ascending. */
  ps(id: string): Promise<number[]>;
  /** The ids of every container whose state is kept, in whatever state (berthd's recovery). */
  list(): Promise<string[]>;
  /** Stats every `intervalMs` and OOM events, until the container stops or `signal` aborts. */
  events(id: string, opts: { intervalMs: number; signal?: AbortSignal }): AsyncIterable<RuntimeEvent>;
}

/** The runtime of this machine, keeping its state under `root` (berthd: <exec-root>/runtime). */
export class LocalRuntime implements Runtime {
  constructor(
    readonly root: string,
    private readonly log: RuntimeLogger,
  ) {}

  async create(req: CreateRequest): Promise<{ pid: number }> {
    return { pid: await create({ ...req, root: this.root, log: this.log }) };
  }

  start(id: string): Promise<void> {
    return start(this.root, id, this.log);
  }

  kill(id: string, signal: string | number, opts: { all?: boolean } = {}): Promise<void> {
    return kill(this.root, id, signal, !!opts.all);
  }

  delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    return deleteContainer(this.root, id, opts, this.log);
  }

  pause(id: string): Promise<void> {
    return pause(this.root, id);
  }

  resume(id: string): Promise<void> {
    return resume(this.root, id);
  }

  exec(req: ExecRequest): Promise<number> {
    return exec({ log: this.log, ...req, root: this.root });
  }

  async state(id: string): Promise<ContainerState> {
    const c = openContainer(this.root, id);
    return { ...c.state, rootfs: c.rec.rootfs, created: c.rec.created, config: c.rec.config };
  }

  update(id: string, resources: LinuxResources): Promise<void> {
    return update(this.root, id, resources);
  }

  async stats(id: string): Promise<ContainerStats> {
    const { cgroups } = openContainer(this.root, id);
    let oomKills: number | undefined;
    try {
      oomKills = cgroups.oomKillCount();
    } catch (e) {
      if (!(e instanceof BerthError && e.kind === 'unsupported')) throw e; // no memory controller: no count
    }
    return { layout: cgroups.layout, cgroup: cgroups.stats(), oomKills };
  }

  async ps(id: string): Promise<number[]> {
    return pids(this.root, id);
  }

  async list(): Promise<string[]> {
    return new StateDir(this.root).ids();
  }

  events(id: string, opts: { intervalMs: number; signal?: AbortSignal }): AsyncIterable<RuntimeEvent> {
    return stream(this.root, id, opts.intervalMs, opts.signal);
  }
}
