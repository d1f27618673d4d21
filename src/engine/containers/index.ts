// Containers: the engine's face for them. Each verb finds the container (adopting the records
// at first use) and hands it to the room that owns the concern: lifecycle.ts (create, start,
// stop, kill, pause, update, rename, remove), teardown.ts (the one way a container is taken
// apart), exits.ts (exits and adoption), supervise.ts (restart policy and health), attach.ts
// (attach, logs, resize). The table (table.ts) holds the records; store.ts keeps them on disk.

import { failingClearlyWhenFull } from '../../common/disk-full.js';
import { conflict } from '../../errors.js';
import { Networks } from '../networks/index.js';
import type { ContainerRecord, EndpointRequest, RestartPolicy } from '../types.js';
import { Volumes } from '../volumes.js';
import type { ResourceConfig } from '../resources.js';
import type { PlanOptions } from '../mounts.js';
import { initPaths, type InitPaths } from '../init-files.js';
import { joinedContainer } from '../linux-options.js';
import { attach, logs, resize, type AttachStream } from './attach.js';
import { adopt } from './exits.js';
import { inspectLinks, linkNames, removeLink } from './links.js';
import { recover } from './recover.js';
import { reopenLog } from './reopen-log.js';
import * as lifecycle from './lifecycle.js';
import type { LogEntry, LogOptions } from './logs.js';
import { ContainerTable, type ContainersOptions, type Live, type PodMembership, type Prober } from './table.js';
import type { ContainerConfig, HostConfig } from '../types.js';

export type { AttachStream } from './attach.js';
export type { ContainersOptions, PodMembership } from './table.js';

/** A create's place in a pod: `pod`, a member joining the pod by name or ID; `infraOf`, the pod's own infra container (engine/pods/). */
export interface PodPlacement {
  pod?: string;
  infraOf?: string;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export class Containers {
  private readonly t: ContainerTable;
  private loaded = false;
  private recovered?: Promise<void>;
  /** Named and anonymous volumes; a volume is in use while a container's mounts name it. */
  readonly volumes: Volumes;
  /** Networks and the containers' endpoints on them. */
  readonly networks: Networks;
  private readonly dataRoot: string;

  constructor(opts: ContainersOptions) {
    this.dataRoot = opts.dataRoot;
    this.volumes = new Volumes(
      opts.dataRoot,
      () => {
        const users = new Map<string, string[]>();
        for (const c of this.list())
          for (const m of c.MountPoints ?? []) if (m.Name) users.set(m.Name, [...(users.get(m.Name) ?? []), c.Id]);
        return users;
      },
      (action, name, attributes) => opts.events.emit('volume', action, name, attributes),
      (msg) => opts.log?.('warn', msg),
    );
    this.networks = new Networks({
      dataRoot: opts.dataRoot,
      execRoot: opts.execRoot,
      bip: opts.bip,
      ipv6: opts.ipv6,
      fixedCidrV6: opts.fixedCidrV6,
      ip6tables: opts.ip6tables,
      rootless: opts.rootless,
      containers: () => this.list(),
      initDir: (id) => this.t.store.dir(id),
      emit: (action, id, attributes) => opts.events.emit('network', action, id, attributes),
      log: opts.log,
    });
    this.t = new ContainerTable(opts, this.volumes, this.networks);
    this.t.lifecycle = { start: (ref, o) => this.start(ref, o), remove: (ref, o) => this.remove(ref, o) };
  }

  /** Runs a health probe in a container (the engine's exec; set by the engine). */
  get prober(): Prober | undefined {
    return this.t.prober;
  }
  set prober(p: Prober | undefined) {
    this.t.prober = p;
  }

  /** Pods, for members' creates and starts (set by the engine). */
  set pods(p: PodMembership | undefined) {
    this.t.pods = p;
  }

  /**
   * berthd's start: the records loaded and adopted, then what an earlier berthd left half-done
   * recovered (recover.ts); resolves once recovery is over, and never rejects. Recovery takes
   * apart runtime containers and snapshots that no record owns, which is safe only while no
   * one else can be making them (a build's snapshots have no record), so berthd awaits this
   * before it serves, and a verb used before it loads the records without recovering.
   */
  open(): Promise<void> {
    this.load();
    return (this.recovered ??= recover(this.t));
  }

  /** Loads the records once (open, or first use) and adopts the containers (exits.ts). */
  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    adopt(this.t);
  }

  /** The runtime a container's record names (by full id, records loaded or not): the runtime set routes by it. */
  runtimeOf(id: string): string | undefined {
    return this.t.byId.get(id)?.rec.HostConfig.Runtime || undefined;
  }

  private find(ref: string): Live {
    this.load();
    return this.t.find(ref);
  }

  list(): ContainerRecord[] {
    this.load();
    return this.t.list();
  }

  get(ref: string): ContainerRecord {
    return this.find(ref).rec;
  }

  /** The names the container is listed by: its own and its legacy links' (`/parent/alias`). */
  names(rec: ContainerRecord): string[] {
    return linkNames(this.t.list(), rec);
  }

  /** Inspect's HostConfig.Links: `/name:/parent/alias`, or null. */
  links(rec: ContainerRecord): string[] | null {
    return inspectLinks(this.t, rec);
  }

  /** `rm --link parent/alias`. */
  removeLink(ref: string): Promise<void> {
    this.load();
    return removeLink(this.t, ref);
  }

  /** Emits a container event with Docker's attributes: the labels, `image`, `name`, then `extra`. */
  event(ref: string, action: string, extra: Record<string, string> = {}): void {
    this.t.emitFor(this.find(ref).rec, action, extra);
  }

  logPath(id: string): string {
    return this.t.store.logPath(id);
  }
  /**
   * Where the container's hostname, hosts and resolv.conf are (engine/init-files.ts): a `container:`
   * joiner's are its donor's, which it binds (lifecycle.ts), as dockerd's inspect names them; a pod
   * member's hostname file is its own.
   */
  initPaths(id: string): InitPaths {
    const own = initPaths(this.t.store.dir(id));
    const rec = this.t.byId.get(id)?.rec;
    const donor = rec && joinedContainer(rec.HostConfig.NetworkMode);
    if (!donor) return own;
    const d = initPaths(this.t.store.dir(donor));
    return { HostnamePath: rec.Pod ? own.HostnamePath : d.HostnamePath, HostsPath: d.HostsPath, ResolvConfPath: d.ResolvConfPath };
  }
  /** The container's OCI bundle directory (its config.json: the mounts the runtime made). */
  bundleDir(id: string): string {
    return this.t.store.dir(id);
  }

  async create(
    config: ContainerConfig,
    hostConfig: HostConfig,
    name?: string,
    endpoints?: Record<string, EndpointRequest>,
    platform?: string,
    placement: PodPlacement = {},
    /** Filled with dockerd's warnings for the limits this machine cannot apply (discarded). */
    warnings: string[] = [],
    /** How its mounts are made beyond HostConfig (a client's API version decides). */
    mountOptions: PlanOptions = {},
  ): Promise<ContainerRecord> {
    this.load();
    return failingClearlyWhenFull(this.dataRoot, () =>
      lifecycle.create(this.t, config, hostConfig, name, endpoints, platform, placement, warnings, mountOptions),
    );
  }

  /** Runs `fn` with the container's state held still: no start, update or removal begins until it ends. */
  exclusive<T>(ref: string, fn: (rec: ContainerRecord) => Promise<T>): Promise<T> {
    const live = this.find(ref);
    return this.t.serial(live, () => fn(live.rec));
  }

  async start(ref: string, opts: { auto?: boolean } = {}): Promise<'started' | 'already'> {
    return lifecycle.start(this.t, this.find(ref), opts);
  }

  /** Docker's wait: resolves with the exit code once the condition holds. */
  async wait(ref: string, condition: WaitCondition = 'not-running'): Promise<number> {
    const live = this.find(ref);
    const running = () => ['running', 'paused', 'restarting'].includes(live.rec.State.Status);
    if (condition === 'removed') {
      await new Promise<void>((r) => live.removed.push(r));
    } else if (condition === 'next-exit' || running()) {
      await new Promise<void>((r) => live.exited.push(r));
    }
    return live.rec.State.ExitCode;
  }

  isRunning(ref: string): boolean {
    return this.t.isRunning(this.find(ref));
  }

  async resize(ref: string, rows: number, cols: number): Promise<void> {
    return resize(this.t, this.find(ref), rows, cols);
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    return lifecycle.kill(this.t, this.find(ref), signal, ref);
  }

  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<'stopped' | 'not-running'> {
    return lifecycle.stop(this.t, this.find(ref), opts);
  }

  async pause(ref: string): Promise<void> {
    return lifecycle.pause(this.t, this.find(ref));
  }

  async unpause(ref: string): Promise<void> {
    return lifecycle.unpause(this.t, this.find(ref));
  }

  /** Docker's restart: stop (as `stop`, with its timeout and signal) if running, then a user's start. */
  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const live = this.find(ref);
    await this.stop(live.rec.Id, opts);
    await this.start(live.rec.Id);
    this.t.emitFor(live.rec, 'restart');
  }

  rename(ref: string, newName: string): Promise<void> {
    return lifecycle.rename(this.t, this.find(ref), newName);
  }

  async update(ref: string, upd: ResourceConfig & { RestartPolicy?: RestartPolicy }, warnings: string[] = []): Promise<void> {
    return lifecycle.update(this.t, this.find(ref), upd, warnings);
  }

  /** `volumes`: the container's anonymous volumes go too (`rm -v`, `--rm`). `pod`: the pod's removal, the only one an infra container allows. */
  async remove(ref: string, opts: { force?: boolean; volumes?: boolean; pod?: boolean } = {}): Promise<void> {
    return lifecycle.remove(this.t, this.find(ref), opts);
  }

  /** Docker's network connect and disconnect, made live on a running container. */
  async connect(ref: string, network: string, req: EndpointRequest): Promise<void> {
    const live = this.find(ref);
    await this.t.serial(live, async () => {
      await this.networks.connect(live.rec, network, req, this.t.isRunning(live));
      await this.t.save(live);
    });
  }

  async disconnect(ref: string, network: string): Promise<void> {
    const live = this.find(ref);
    await this.t.serial(live, async () => {
      await this.networks.disconnect(live.rec, network);
      await this.t.save(live);
    });
  }

  async attach(ref: string): Promise<AttachStream | undefined> {
    return attach(this.t, this.find(ref));
  }

  /** Has the running container's monitor reopen its log at its path (the CRI's ReopenContainerLog, after kubelet rotated it). */
  async reopenLog(ref: string): Promise<void> {
    const rec = this.get(ref);
    if (!this.isRunning(rec.Id)) throw conflict(`container ${rec.Id} is not running: its log is closed`);
    await reopenLog(rec.Id, rec.State.Pid);
  }

  logs(ref: string, opts: LogOptions = {}): AsyncGenerator<LogEntry> {
    return logs(this.t, this.find(ref), opts);
  }

  /** Stops watching (berthd shutting down); containers keep running under their monitors. */
  async close(): Promise<void> {
    for (const l of this.t.byId.values()) {
      l.watcher?.close();
      clearTimeout(l.restartTimer);
      l.health?.stop();
    }
    await this.t.store.flush();
  }
}
