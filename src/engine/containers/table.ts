// The containers' table: each container's record with what berthd holds of it while it lives
// (its exit watch, waiters, restart and health timers), the paths under the roots, and the
// few acts every room shares (find, save, emit, run one at a time). The rooms beside it —
// lifecycle, teardown, exits, supervise, attach — are functions over this table; they reach
// each other's verbs only through `lifecycle`, which the Containers class sets, so no room
// imports back the one that imports it.

import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { settled } from '../../common/promises.js';
import { errorMessage, invalid, notFound } from '../../errors.js';
import type { ImageStore, Snapshotter } from '../../image/index.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { Events } from '../events.js';
import type { Networks } from '../networks/index.js';
import type { ContainerConfig, ContainerRecord, EndpointRequest, HostConfig } from '../types.js';
import type { Volumes } from '../volumes.js';
import type { HealthMonitor } from './health.js';
import type { RestartManager } from './restart.js';
import { ContainerStore } from './store.js';
import type { Remap } from '../userns.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ContainersOptions {
  dataRoot: string;
  execRoot: string;
  images: ImageStore;
  snapshots: Snapshotter;
  events: Events;
  /** The OCI runtime the containers run under (the engine's LocalRuntime; a FakeRuntime in unit tests). */
  runtime: Runtime;
  /** The runtimes a container may name (HostConfig.Runtime) and the one it gets unnamed; default: berth (runc its alias). */
  runtimeNames?: ReadonlySet<string>;
  defaultRuntime?: string;
  /** The names among runtimeNames that berth-runtime serves (default: berth and runc); the others are external. */
  builtinRuntimes?: ReadonlySet<string>;
  /** The default bridge network's gateway and prefix (`--bip`). */
  bip?: string;
  /** The default bridge has IPv6 (daemon.json `ipv6`), in `fixedCidrV6` (`fixed-cidr-v6`) or else a /64 of the host's ULA pool. */
  ipv6?: boolean;
  fixedCidrV6?: string;
  /** daemon.json `ip6tables` (true unless false). */
  ip6tables?: boolean;
  /** `--userns-remap`: containers run in a user namespace with these ids unless they ask for the host's. */
  usernsRemap?: Remap;
  /** A rootless berthd's (engine.ts' EngineOptions.rootless). */
  rootless?: boolean;
  /** The daemon's realtime budget for each container's parent cgroup (`--cpu-rt-period`, `--cpu-rt-runtime`). */
  cpuRealtimePeriod?: number;
  cpuRealtimeRuntime?: number;
  log?: (level: LogLevel, msg: string) => void;
}

/** A container while berthd knows it: its record and what waits on it. */
export interface Live {
  rec: ContainerRecord;
  watcher?: FSWatcher;
  exited: (() => void)[];
  removed: (() => void)[];
  /** Attach clients waiting for start: each connects once the monitor listens. */
  attachers: ((socketPath: string) => Promise<void>)[];
  /** Attach connections to the monitor still open: each settles when the monitor closes it, its output all relayed. */
  streams: Set<Promise<void>>;
  busy?: Promise<void>;
  /** The restart policy's state since the user's last start, and the pending restart. */
  restart: RestartManager;
  restartTimer?: NodeJS.Timeout;
  health?: HealthMonitor;
}

/** The verbs that rooms below the Containers class call back (a restart starts, an AutoRemove removes). */
export interface Lifecycle {
  start(ref: string, opts?: { auto?: boolean }): Promise<'started' | 'already'>;
  remove(ref: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
}

/** What the containers ask of pods (engine/pods/; set by the engine): a member's create and start. */
export interface PodMembership {
  /** Sets up the create of a container joining the pod `ref` (its namespace modes, hostname, cgroup); returns the pod's ID. */
  join(ref: string, config: ContainerConfig, hc: HostConfig, endpoints: Record<string, EndpointRequest>): string;
  /** Starts the pod's infra container unless it runs: a member joins its namespaces. */
  ensureInfra(podId: string): Promise<void>;
}

/** Runs a health probe in a container (the engine's exec). */
export type Prober = (id: string, cmd: string[], timeoutMs: number) => Promise<{ ExitCode: number; Output: string }>;

export class ContainerTable {
  readonly store: ContainerStore;
  readonly runtime: Runtime;
  readonly attachDir: string;
  readonly byId = new Map<string, Live>();
  /** Set by the Containers class before any use. */
  lifecycle!: Lifecycle;
  prober?: Prober;
  pods?: PodMembership;

  constructor(
    readonly opts: ContainersOptions,
    readonly volumes: Volumes,
    readonly networks: Networks,
  ) {
    this.store = new ContainerStore(opts.dataRoot);
    this.runtime = opts.runtime;
    this.attachDir = join(opts.execRoot, 'attach');
  }

  log(level: LogLevel, msg: string): void {
    this.opts.log?.(level, msg);
  }

  /** A new container's entry, with a restart policy's state carried over (adoption) or fresh. */
  live(rec: ContainerRecord, restart: RestartManager): Live {
    return { rec, exited: [], removed: [], attachers: [], streams: new Set(), restart };
  }

  list(): ContainerRecord[] {
    return [...this.byId.values()].map((l) => l.rec).sort((a, b) => b.Created.localeCompare(a.Created));
  }

  /**
   * By full ID, name (with or without `/`), a legacy link's name (`parent/alias`: the container
   * it links to) or unique ID prefix, as Docker finds containers.
   */
  find(ref: string): Live {
    const byId = this.byId.get(ref);
    if (byId) return byId;
    const name = ref.startsWith('/') ? ref : `/${ref}`;
    for (const l of this.byId.values()) if (l.rec.Name === name) return l;
    const slash = name.lastIndexOf('/');
    if (slash > 0) {
      const parent = [...this.byId.values()].find((l) => l.rec.Name === name.slice(0, slash));
      const link = parent?.rec.LegacyLinks?.find((k) => k.Alias === name.slice(slash + 1));
      const child = link && this.byId.get(link.Id);
      if (child) return child;
    }
    const hits = [...this.byId.values()].filter((l) => /^[a-f0-9]+$/.test(ref) && l.rec.Id.startsWith(ref));
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) throw invalid(`multiple IDs found with provided prefix: ${ref}`);
    throw notFound(`No such container: ${ref}`);
  }

  attachPath(id: string): string {
    return join(this.attachDir, `${id.slice(0, 12)}.sock`);
  }
  consolePath(id: string): string {
    return join(this.attachDir, `${id.slice(0, 12)}.pty`);
  }
  /** The monitor's control socket: window sizes for the pty it holds. */
  controlPath(id: string): string {
    return join(this.attachDir, `${id.slice(0, 12)}.ctl`);
  }

  /** Saves the record (durable off the thread); resolves once it is on disk, rejects when it cannot be written. */
  save(live: Live): Promise<void> {
    return this.store.save(live.rec);
  }

  /** Saves the record where nothing waits for the write (a timer, a health result); a failure is logged. */
  saveLater(live: Live): void {
    this.store.save(live.rec).catch((e) => this.log('error', `save ${live.rec.Id.slice(0, 12)}: ${errorMessage(e)}`));
  }

  isRunning(live: Live): boolean {
    const s = live.rec.State.Status;
    return s === 'running' || s === 'paused';
  }

  /** Emits a container event with Docker's attributes: the labels, `image`, `name`, then `extra`. */
  emitFor(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.opts.events.emit('container', action, rec.Id, { ...rec.Config.Labels, image: rec.ImageName, name: rec.Name.slice(1), ...extra });
  }

  /** Docker's volume mount/unmount events, one per volume the container mounts. */
  volumeEvents(rec: ContainerRecord, action: 'mount' | 'unmount'): void {
    for (const m of rec.MountPoints ?? []) {
      if (m.Type !== 'volume' || !m.Name) continue;
      this.opts.events.emit(
        'volume',
        action,
        m.Name,
        action === 'mount'
          ? {
              container: rec.Id,
              destination: m.Destination,
              driver: m.Driver || 'local',
              propagation: m.Propagation,
              'read/write': String(m.RW),
            }
          : { container: rec.Id, driver: m.Driver || 'local' },
      );
    }
  }

  /** Runs `fn` after any operation in progress on the container (start, stop, remove) ends. */
  serial<T>(live: Live, fn: () => Promise<T>): Promise<T> {
    const run = (live.busy ?? Promise.resolve()).then(fn);
    live.busy = settled(run);
    return run;
  }

  /** Wakes those waiting for the container's exit. */
  exitedNow(live: Live): void {
    for (const w of live.exited.splice(0)) w();
  }
}
