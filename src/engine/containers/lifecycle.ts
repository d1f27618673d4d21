// Containers: create (a snapshot of the image + a bundle), start under the per-container
// monitor, wait, stop, kill, pause, restart, rename, update, remove, attach and logs. Every
// state change is saved before it is reported, and is an event. A container's exit is learnt
// from the monitor's exit file (inotify on its folder), so berthd holds no process of the
// container's and may restart without harm: a new berthd adopts what runs and records what
// ended. Restart policies (engine/restart.ts) and health checks (engine/health.ts) run here.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { constants, hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { BerthError, conflict, errorMessage, invalid, notFound } from '../../errors.js';
import type { ImageStore, Snapshotter } from '../../image/index.js';
import { create as runtimeCreate } from '../../runtime/create.js';
import { start as runtimeStart } from '../../runtime/start.js';
import { kill as runtimeKill } from '../../runtime/kill.js';
import { pause as runtimePause, resume as runtimeResume } from '../../runtime/pause.js';
import { update as runtimeUpdate } from '../../runtime/update.js';
import { deleteContainer } from '../../runtime/delete.js';
import { parseSignal } from '../../runtime/signals.js';
import { openContainer } from '../../runtime/container.js';
import { resizeMonitor } from '../../runtime/native/winsize.js';
import { ContainerStore, writeAtomic } from './store.js';
import type { Spec } from '../../oci/runtime-spec.js';
import type { Events } from '../events.js';
import { readLog, type LogEntry, type LogOptions } from './logs.js';
import { checkName, generateName } from '../names.js';
import { buildSpec, command } from '../spec.js';
import { initPaths, writeInitFiles, type InitPaths } from '../init-files.js';
import { copyUp, ociMounts, planMounts, releaseVolumes } from '../mounts.js';
import { Volumes } from '../volumes.js';
import { Networks, type EndpointRequest } from '../networks/endpoints.js';
import { checkResources, ociResources, updateResources, type ResourceConfig } from '../resources.js';
import { checkRestartPolicy, isNone, RestartManager } from './restart.js';
import { checkHealthcheck, HealthMonitor, mergeHealthcheck, probeCommand, recordResult } from './health.js';
import { ZERO_TIME, type ContainerConfig, type ContainerRecord, type ContainerStatus, type HostConfig, type RestartPolicy } from '../types.js';

export interface ContainersOptions {
  dataRoot: string;
  execRoot: string;
  images: ImageStore;
  snapshots: Snapshotter;
  events: Events;
  /** The default bridge network's gateway and prefix (`--bip`). */
  bip?: string;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface AttachStream {
  socket: Socket;
  tty: boolean;
}

interface Live {
  rec: ContainerRecord;
  watcher?: FSWatcher;
  exited: (() => void)[];
  removed: (() => void)[];
  /** Attach clients waiting for start: each connects once the monitor listens. */
  attachers: ((socketPath: string) => Promise<void>)[];
  busy?: Promise<void>;
  /** The restart policy's state since the user's last start, and the pending restart. */
  restart: RestartManager;
  restartTimer?: NodeJS.Timeout;
  health?: HealthMonitor;
}

export class Containers {
  private readonly store: ContainerStore;
  private readonly runtimeRoot: string;
  private readonly attachDir: string;
  private readonly byId = new Map<string, Live>();
  private loaded = false;
  /** Named and anonymous volumes; a volume is in use while a container's mounts name it. */
  readonly volumes: Volumes;
  /** Networks and the containers' endpoints on them. */
  readonly networks: Networks;
  /** Runs a health probe in a container (the engine's exec; set by the engine). */
  prober?: (id: string, cmd: string[], timeoutMs: number) => Promise<{ ExitCode: number; Output: string }>;

  constructor(private readonly opts: ContainersOptions) {
    this.store = new ContainerStore(opts.dataRoot);
    this.volumes = new Volumes(opts.dataRoot, () => {
      const users = new Map<string, string[]>();
      for (const c of this.list()) for (const m of c.MountPoints ?? []) if (m.Name) users.set(m.Name, [...(users.get(m.Name) ?? []), c.Id]);
      return users;
    }, (action, name, attributes) => opts.events.emit('volume', action, name, attributes));
    this.networks = new Networks({ dataRoot: opts.dataRoot, execRoot: opts.execRoot, bip: opts.bip, containers: () => this.list(), initDir: (id) => this.store.dir(id),
      emit: (action, id, attributes) => opts.events.emit('network', action, id, attributes), log: opts.log });
    this.runtimeRoot = join(opts.execRoot, 'runtime');
    this.attachDir = join(opts.execRoot, 'attach');
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', msg: string) { this.opts.log?.(level, msg); }
  /** What the runtime library says that is not an error of its call (a failed hook). */
  private readonly runtimeLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => this.log(level, `runtime: ${msg}`);

  /**
   * Loads the records once (berthd's start, or first use) and adopts the containers: those
   * still under their monitors are watched again, those that ended while berthd was down are
   * recorded, and the restart policies apply to them, to containers that were waiting to
   * restart, and to stopped `always` (and not manually stopped `unless-stopped`) ones, as dockerd's.
   */
  adopt(): void {
    if (this.loaded) return;
    this.loaded = true;
    for (const rec of this.store.loadAll()) {
      const live: Live = { rec, exited: [], removed: [], attachers: [], restart: new RestartManager(rec.RestartCount) };
      this.byId.set(rec.Id, live);
    }
    for (const live of this.byId.values()) {
      const rec = live.rec;
      if (rec.State.Status === 'running' || rec.State.Status === 'paused') {
        this.watchExit(live);
        if (!this.monitorAlive(rec.Id)) {
          // No process and no exit file: the monitor may be writing it this instant; if it has
          // not within a second, it is gone without a word (the machine restarted) and the
          // container died with it.
          setTimeout(() => {
            if (this.byId.get(rec.Id) !== live || live.rec.State.Status === 'exited' || existsSync(this.store.exitPath(rec.Id))) return;
            writeAtomic(this.store.exitPath(rec.Id), JSON.stringify({ exitCode: 255, finishedAt: new Date().toISOString() }));
          }, 1000).unref();
        }
        // (The exit may have been recorded just now.)
        if (this.isRunning(rec.Id)) this.startHealth(live, false);
      } else if (rec.State.Status === 'restarting') {
        this.scheduleRestart(live, 0);
      } else if (rec.State.Status === 'exited' && rec.State.FinishedAt !== ZERO_TIME && !rec.HostConfig.AutoRemove
        && new RestartManager().next(rec.HostConfig.RestartPolicy, rec.State.ExitCode, !!rec.HasBeenManuallyStopped, 0) !== undefined) {
        void this.start(rec.Id).catch((e) => this.log('warn', `restart ${rec.Id.slice(0, 12)} at adoption: ${errorMessage(e)}`));
      }
    }
  }

  /** Whether the container's process (or its exit file) is still there to learn its end from. */
  private monitorAlive(id: string): boolean {
    if (existsSync(this.store.exitPath(id))) return true;
    try {
      return openContainer(this.runtimeRoot, id).status !== 'stopped';
    } catch {
      return false; // no runtime state left (an exec-root on tmpfs after a reboot)
    }
  }

  list(): ContainerRecord[] {
    this.adopt();
    return [...this.byId.values()].map((l) => l.rec).sort((a, b) => b.Created.localeCompare(a.Created));
  }

  /** By full ID, name (with or without `/`) or unique ID prefix, as Docker finds containers. */
  private find(ref: string): Live {
    this.adopt();
    const byId = this.byId.get(ref);
    if (byId) return byId;
    const name = ref.startsWith('/') ? ref : `/${ref}`;
    for (const l of this.byId.values()) if (l.rec.Name === name) return l;
    const hits = [...this.byId.values()].filter((l) => /^[a-f0-9]+$/.test(ref) && l.rec.Id.startsWith(ref));
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) throw invalid(`multiple IDs found with provided prefix: ${ref}`);
    throw notFound(`No such container: ${ref}`);
  }

  get(ref: string): ContainerRecord { return this.find(ref).rec; }

  /** Emits a container event with Docker's attributes: the labels, `image`, `name`, then `extra`. */
  event(ref: string, action: string, extra: Record<string, string> = {}): void {
    this.emitFor(this.find(ref).rec, action, extra);
  }

  private emitFor(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.opts.events.emit('container', action, rec.Id, { ...rec.Config.Labels, image: rec.ImageName, name: rec.Name.slice(1), ...extra });
  }

  logPath(id: string): string { return this.store.logPath(id); }
  /** Where the container's hostname, hosts and resolv.conf are (engine/init-files.ts). */
  initPaths(id: string): InitPaths { return initPaths(this.store.dir(id)); }
  /** The container's OCI bundle directory (its config.json: the mounts the runtime made). */
  bundleDir(id: string): string { return this.store.dir(id); }
  private attachPath(id: string): string { return join(this.attachDir, `${id.slice(0, 12)}.sock`); }
  private consolePath(id: string): string { return join(this.attachDir, `${id.slice(0, 12)}.pty`); }
  /** The monitor's control socket: window sizes for the pty it holds. */
  private controlPath(id: string): string { return join(this.attachDir, `${id.slice(0, 12)}.ctl`); }

  private save(live: Live): void { this.store.save(live.rec); }

  async create(config: ContainerConfig, hostConfig: HostConfig, name?: string, endpoints?: Record<string, EndpointRequest>): Promise<ContainerRecord> {
    this.adopt();
    if (!config.Image) throw invalid('config.Image is required');
    const fullName = name ? checkName(name) : generateName((n) => [...this.byId.values()].some((l) => l.rec.Name === n));
    for (const l of this.byId.values()) {
      if (l.rec.Name === fullName) {
        throw conflict(`Conflict. The container name "${fullName}" is already in use by container "${l.rec.Id}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
    }
    const policy = checkRestartPolicy(hostConfig.RestartPolicy, !!hostConfig.AutoRemove);
    const limits = checkResources(hostConfig);
    checkHealthcheck(config.Healthcheck);
    const image = await this.opts.images.resolve(config.Image);
    const imgCfg = image.config.config ?? {};
    const args = command(config, imgCfg);
    const id = randomBytes(32).toString('hex');
    const rec: ContainerRecord = {
      Id: id, Name: fullName, Created: new Date().toISOString(), Path: args[0], Args: args.slice(1),
      Image: image.id, ImageName: config.Image,
      Config: {
        ...config,
        // On the host's network, the host's name, as dockerd gives it.
        Hostname: config.Hostname || (hostConfig.NetworkMode === 'host' ? osHostname() : id.slice(0, 12)),
        Env: [...new Map([...(imgCfg.Env ?? []), ...(config.Env ?? [])].map((e) => [e.split('=', 1)[0], e])).values()],
        Cmd: config.Cmd?.length ? config.Cmd : config.Entrypoint ? null : imgCfg.Cmd ?? null,
        Entrypoint: config.Entrypoint ?? imgCfg.Entrypoint ?? null,
        WorkingDir: config.WorkingDir || imgCfg.WorkingDir || '',
        User: config.User || imgCfg.User || '',
        Labels: { ...(imgCfg.Labels ?? {}), ...(config.Labels ?? {}) },
        StopSignal: config.StopSignal || imgCfg.StopSignal,
        // (Absent, not null, when there is none: Docker's inspect omits it.)
        Healthcheck: mergeHealthcheck(config.Healthcheck, imgCfg.Healthcheck),
      },
      HostConfig: { LogConfig: { Type: 'json-file', Config: {} }, ...hostConfig, ...limits, RestartPolicy: policy },
      State: { Status: 'created', Pid: 0, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME },
      RestartCount: 0,
    };
    rec.Config.ExposedPorts = { ...imgCfg.ExposedPorts, ...config.ExposedPorts };
    rec.HostConfig.NetworkMode = this.networks.plan(rec, endpoints, (ref) => this.get(ref));
    const live: Live = { rec, exited: [], removed: [], attachers: [], restart: new RestartManager() };
    this.byId.set(id, live);
    try {
      const snap = await this.opts.snapshots.prepare(id, this.opts.images, image.record.target.digest);
      const spec = buildSpec({ id, rootfs: snap.rootfs, config: { ...config, Hostname: rec.Config.Hostname }, hostConfig: rec.HostConfig, image: imgCfg });
      this.networks.applyNamespace(spec, rec.HostConfig.NetworkMode);
      mkdirSync(this.store.dir(id), { recursive: true, mode: 0o710 });
      rec.MountPoints = planMounts(rec.HostConfig, { ...imgCfg.Volumes, ...config.Volumes }, this.volumes, (ref) => this.get(ref).MountPoints ?? []);
      const hc = rec.HostConfig;
      spec.mounts = [...(spec.mounts ?? []), ...writeInitFiles(this.store.dir(id), {
        hostname: rec.Config.Hostname!, domainname: config.Domainname, extraHosts: hc.ExtraHosts, dns: hc.Dns, dnsSearch: hc.DnsSearch, dnsOptions: hc.DnsOptions,
        embeddedDns: this.networks.embeddedDns(rec), hostNetwork: rec.HostConfig.NetworkMode === 'host',
      }, rec.MountPoints.map((m) => m.Destination)), ...ociMounts(rec.MountPoints)];
      writeFileSync(join(this.store.dir(id), 'config.json'), JSON.stringify(spec));
      this.save(live);
    } catch (e) {
      this.byId.delete(id);
      releaseVolumes(rec.MountPoints ?? [], this.volumes, (m) => this.log('warn', m));
      await this.opts.snapshots.remove(id).catch(() => {});
      this.store.remove(id);
      throw e;
    }
    this.log('info', `created container ${id.slice(0, 12)} ${rec.Name}`);
    this.event(id, 'create');
    return rec;
  }

  /** Runs `fn` with the container's state held still: no start, update or removal begins until it ends. */
  exclusive<T>(ref: string, fn: (rec: ContainerRecord) => Promise<T>): Promise<T> {
    const live = this.find(ref);
    return this.serial(live, () => fn(live.rec));
  }

  /** Runs `fn` after any operation in progress on the container (start, stop, remove) ends. */
  private serial<T>(live: Live, fn: () => Promise<T>): Promise<T> {
    const run = (live.busy ?? Promise.resolve()).then(fn);
    live.busy = run.then(() => {}, () => {});
    return run;
  }

  /**
   * Starts the container. A user's start (not `auto`, the restart policy's) begins the policy
   * afresh: RestartCount 0, a stop or kill before it forgotten.
   */
  async start(ref: string, opts: { auto?: boolean } = {}): Promise<'started' | 'already'> {
    const live = this.find(ref);
    return this.serial(live, async () => {
      const rec = live.rec;
      if (opts.auto ? rec.State.Status !== 'restarting' : ['running', 'paused', 'restarting'].includes(rec.State.Status)) return 'already';
      if (!opts.auto) {
        rec.RestartCount = 0;
        rec.HasBeenManuallyStopped = false;
        live.restart = new RestartManager();
      }
      if (rec.State.Status === 'removing' || rec.State.Status === 'dead') throw conflict(`container ${rec.Id} is marked for removal and cannot be started`);
      const id = rec.Id;
      await this.opts.snapshots.mount(id);
      copyUp(rec.MountPoints ?? [], (await this.opts.snapshots.info(id)).rootfs, this.volumes);
      mkdirSync(this.attachDir, { recursive: true, mode: 0o700 });
      rmSync(this.store.exitPath(id), { force: true });
      await this.removeStaleRuntime(id);
      const attach = this.attachPath(id);
      let pid = 0;
      try {
        await runtimeCreate({
          root: this.runtimeRoot, id, bundle: this.store.dir(id), log: this.runtimeLog,
          monitor: {
            log: this.store.logPath(id), exitFile: this.store.exitPath(id), attach,
            stdin: !!rec.Config.OpenStdin, stdinOnce: !!rec.Config.StdinOnce,
            consoleSocket: rec.Config.Tty ? this.consolePath(id) : undefined,
            control: rec.Config.Tty ? this.controlPath(id) : undefined,
            ...logLimits(rec.HostConfig),
          },
        });
        this.watchExit(live);
        pid = openContainer(this.runtimeRoot, id).rec.pid;
        // Clients that attached before start connect now, while the process waits on its fifo,
        // so they see its first byte.
        const waiting = live.attachers.splice(0);
        await Promise.all([this.networks.attach(rec, pid), ...waiting.map((w) => w(attach).catch(() => {}))]);
        await runtimeStart(this.runtimeRoot, id, this.runtimeLog);
      } catch (e) {
        live.watcher?.close();
        live.watcher = undefined;
        await deleteContainer(this.runtimeRoot, id, { force: true }, this.runtimeLog).catch(() => {});
        await this.networks.detach(rec).catch(() => {});
        const err = startError(e);
        rec.State = { ...rec.State, Status: 'exited', Pid: 0, ExitCode: err.exitCode, Error: err.message, FinishedAt: new Date().toISOString() };
        this.save(live);
        this.exitedNow(live);
        if (rec.HostConfig.AutoRemove) queueMicrotask(() => { void this.remove(id, { force: true, volumes: true }).catch(() => {}); });
        throw err;
      }
      rec.State = { ...rec.State, Status: 'running', Pid: pid, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: new Date().toISOString(), FinishedAt: ZERO_TIME };
      this.save(live);
      this.log('info', `started container ${id.slice(0, 12)}`);
      this.volumeEvents(rec, 'mount');
      this.event(id, 'start');
      this.startHealth(live, true);
      // The process may have ended before the watch saw the file.
      if (existsSync(this.store.exitPath(id))) void this.onExit(live);
      return 'started';
    });
  }

  /** A runtime container left by a crash between runtime create and our record: delete it. */
  private async removeStaleRuntime(id: string): Promise<void> {
    try {
      openContainer(this.runtimeRoot, id);
    } catch {
      return;
    }
    await deleteContainer(this.runtimeRoot, id, { force: true }, this.runtimeLog).catch(() => {});
  }

  private watchExit(live: Live): void {
    if (live.watcher) return;
    const id = live.rec.Id;
    try {
      live.watcher = watch(this.store.dir(id), (_ev, file) => {
        if (file === 'exit.json' && existsSync(this.store.exitPath(id))) void this.onExit(live);
      });
    } catch (e) {
      this.log('warn', `watch ${id}: ${errorMessage(e)}`);
    }
    if (existsSync(this.store.exitPath(id))) void this.onExit(live);
  }

  /** The monitor recorded the exit: record it, take the runtime container apart, wake waiters. */
  private async onExit(live: Live): Promise<void> {
    // After whatever else is under way on the container; a remove that follows (`wait` then
    // `rm`) waits for the exit to be recorded and taken apart.
    // (Called unawaited from watchers: it logs rather than rejects.)
    try {
      if (await this.serial(live, () => this.recordExit(live))) await this.remove(live.rec.Id, { force: true, volumes: true });
    } catch (e) {
      this.log('error', `exit of ${live.rec.Id.slice(0, 12)}: ${errorMessage(e)}`);
    }
  }

  /** Records the exit, takes the runtime container apart, applies the restart policy; true when AutoRemove is due. */
  private async recordExit(live: Live): Promise<boolean> {
    const rec = live.rec;
    if (!this.byId.has(rec.Id) || (rec.State.Status !== 'running' && rec.State.Status !== 'paused')) return false;
    let exit: { exitCode: number; finishedAt: string };
    try {
      exit = JSON.parse(readFileSync(this.store.exitPath(rec.Id), 'utf8'));
    } catch {
      return false; // not complete yet: the rename will come
    }
    live.watcher?.close();
    live.watcher = undefined;
    this.stopHealth(live);
    this.volumeEvents(rec, 'unmount');
    rec.State = { ...rec.State, Status: 'exited', Pid: 0, ExitCode: exit.exitCode, FinishedAt: exit.finishedAt, OOMKilled: this.oomKilled(rec.Id) };
    try {
      await deleteContainer(this.runtimeRoot, rec.Id, { force: true }, this.runtimeLog);
    } catch (e) {
      if (!(e instanceof BerthError && e.kind === 'not-found')) this.log('warn', `delete ${rec.Id}: ${errorMessage(e)}`);
    }
    await this.networks.detach(rec).catch((e) => this.log('warn', `network of ${rec.Id.slice(0, 12)}: ${errorMessage(e)}`));
    await this.opts.snapshots.unmount(rec.Id).catch((e) => this.log('warn', `unmount ${rec.Id}: ${errorMessage(e)}`));
    const ranMs = Date.parse(exit.finishedAt) - Date.parse(rec.State.StartedAt);
    const delay = live.restart.next(rec.HostConfig.RestartPolicy, exit.exitCode, !!rec.HasBeenManuallyStopped, ranMs);
    if (delay !== undefined) {
      rec.RestartCount++;
      rec.State.Status = 'restarting';
    }
    this.save(live);
    this.log('info', `container ${rec.Id.slice(0, 12)} exited with ${exit.exitCode}${delay === undefined ? '' : `: restarting in ${delay} ms`}`);
    if (rec.State.OOMKilled) this.emitFor(rec, 'oom');
    this.emitFor(rec, 'die', { exitCode: String(exit.exitCode), execDuration: String(Math.max(0, Math.round((Date.parse(exit.finishedAt) - Date.parse(rec.State.StartedAt)) / 1000))) });
    this.exitedNow(live);
    if (delay !== undefined) this.scheduleRestart(live, delay);
    return delay === undefined && !!rec.HostConfig.AutoRemove;
  }

  /** Whether the kernel's OOM killer killed a process of the container (read before delete removes its cgroup). */
  private oomKilled(id: string): boolean {
    try {
      return openContainer(this.runtimeRoot, id).cgroups.oomKillCount() > 0;
    } catch {
      return false;
    }
  }

  /** Docker's volume mount/unmount events, one per volume the container mounts. */
  private volumeEvents(rec: ContainerRecord, action: 'mount' | 'unmount'): void {
    for (const m of rec.MountPoints ?? []) {
      if (m.Type !== 'volume' || !m.Name) continue;
      this.opts.events.emit('volume', action, m.Name, action === 'mount'
        ? { container: rec.Id, destination: m.Destination, driver: m.Driver || 'local', propagation: m.Propagation, 'read/write': String(m.RW) }
        : { container: rec.Id, driver: m.Driver || 'local' });
    }
  }

  /** Ends the probes; as dockerd, a container whose checks have stopped reads as unhealthy. */
  private stopHealth(live: Live): void {
    if (!live.health) return;
    live.health.stop();
    live.health = undefined;
    if (live.rec.State.Health) live.rec.State.Health.Status = 'unhealthy';
  }

  /**
   * Runs the container's health check, if it has one: from 'starting' at a start, from the
   * recorded state when adopted. Results are saved; a change of status is an event.
   */
  private startHealth(live: Live, fresh: boolean): void {
    const rec = live.rec;
    const h = rec.Config.Healthcheck ?? undefined;
    live.health?.stop();
    live.health = undefined;
    if (!probeCommand(h) || !this.prober) return;
    if (fresh || !rec.State.Health) {
      rec.State.Health = { Status: 'starting', FailingStreak: 0, Log: rec.State.Health?.Log ?? [] };
      this.save(live);
    }
    const prober = this.prober;
    live.health = new HealthMonitor(h!, rec.State.StartedAt, () => rec.State.Health!.Status,
      // A paused container is not probed (its probe could not run).
      async (cmd, timeoutMs) => (rec.State.Status === 'running' ? prober(rec.Id, cmd, timeoutMs) : undefined),
      (r) => {
        if (!rec.State.Health || !this.byId.has(rec.Id)) return;
        const changed = recordResult(rec.State.Health, r, h!, rec.State.StartedAt);
        try { this.save(live); } catch (e) { this.log('warn', `health of ${rec.Id.slice(0, 12)}: ${errorMessage(e)}`); }
        if (changed) this.emitFor(rec, `health_status: ${changed}`);
      });
  }

  private scheduleRestart(live: Live, delay: number): void {
    clearTimeout(live.restartTimer);
    live.restartTimer = setTimeout(() => {
      live.restartTimer = undefined;
      // A failed restart leaves it exited, as dockerd.
      void this.start(live.rec.Id, { auto: true }).catch((e) => this.log('warn', `restart ${live.rec.Id.slice(0, 12)}: ${errorMessage(e)}`));
    }, delay);
  }

  /** Ends a pending restart: the container stays exited with its last exit code. */
  private cancelRestart(live: Live): void {
    clearTimeout(live.restartTimer);
    live.restartTimer = undefined;
    if (live.rec.State.Status !== 'restarting') return;
    live.rec.State.Status = 'exited';
    this.save(live);
    this.exitedNow(live);
  }

  /** A user's stop or kill: `unless-stopped` leaves it down; with `exitNext` its coming exit restarts nothing. */
  private stoppedByUser(live: Live, exitNext: boolean): void {
    live.rec.HasBeenManuallyStopped = true;
    if (exitNext) live.restart.canceled = true;
    this.save(live);
  }

  private exitedNow(live: Live): void {
    for (const w of live.exited.splice(0)) w();
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
    const s = this.find(ref).rec.State.Status;
    return s === 'running' || s === 'paused';
  }

  /**
   * Docker's kill: the signal, and the restart policy told as dockerd tells it (SIGKILL or the
   * stop signal, or any signal when the container has no stop signal of its own, means "let it
   * go"); a pending restart is cancelled.
   */
  /** Docker's resize: the terminal's window size; 409 unless running, nothing to do without a terminal. */
  async resize(ref: string, rows: number, cols: number): Promise<void> {
    const rec = this.find(ref).rec;
    if (!this.isRunning(rec.Id)) throw conflict(`Container ${rec.Id} is not running`);
    if (rec.Config.Tty) await resizeMonitor(this.controlPath(rec.Id), rows, cols);
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const live = this.find(ref);
    const n = parseSignal(signal);
    if (live.rec.State.Status === 'restarting') {
      this.stoppedByUser(live, true);
      this.cancelRestart(live);
      return;
    }
    if (!this.isRunning(live.rec.Id)) throw conflict(`Container ${live.rec.Id} is not running`);
    const stopSignal = live.rec.Config.StopSignal;
    this.stoppedByUser(live, !stopSignal || n === constants.signals.SIGKILL || n === parseSignal(stopSignal));
    await this.signal(live, signal, false);
  }

  /**
   * Sends `signal` to the container's init (`all`: every process) and emits Docker's `kill`
   * event. A paused container is thawed after a signal meant to end it, as dockerd does.
   */
  private async signal(live: Live, signal: string, all: boolean): Promise<void> {
    const n = parseSignal(signal);
    await runtimeKill(this.runtimeRoot, live.rec.Id, String(n), all);
    this.emitFor(live.rec, 'kill', { signal: String(n) });
    if (live.rec.State.Status === 'paused' && live.restart.canceled) {
      try { await runtimeResume(this.runtimeRoot, live.rec.Id); } catch { /* thawed by the runtime (SIGKILL) */ }
      live.rec.State.Status = 'running';
      this.save(live);
      this.emitFor(live.rec, 'unpause');
    }
  }

  /** Stop: the stop signal, then SIGKILL after `timeout` seconds. 'not-running' as Docker's 304. */
  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<'stopped' | 'not-running'> {
    const live = this.find(ref);
    if (live.rec.State.Status === 'restarting') {
      this.stoppedByUser(live, true);
      this.cancelRestart(live);
      this.emitFor(live.rec, 'stop');
      return 'stopped';
    }
    if (!this.isRunning(live.rec.Id)) return 'not-running';
    const exited = new Promise<void>((r) => live.exited.push(r));
    const timeout = opts.timeout ?? live.rec.Config.StopTimeout ?? 10;
    const signal = opts.signal || live.rec.Config.StopSignal || 'SIGTERM';
    parseSignal(signal); // a bad one is the caller's 400, before anything is sent
    this.stoppedByUser(live, true);
    this.stopHealth(live);
    try { await this.signal(live, signal, false); } catch { /* exited meanwhile */ }
    const timedOut = timeout >= 0 && await Promise.race([exited.then(() => false), delay(timeout * 1000).then(() => true)]);
    if (timedOut) {
      this.log('info', `container ${live.rec.Id.slice(0, 12)} did not stop in ${timeout}s: killing it`);
      try { await this.signal(live, 'SIGKILL', true); } catch { /* exited meanwhile */ }
    }
    await exited;
    this.emitFor(live.rec, 'stop');
    return 'stopped';
  }

  /** Freezes every process of the container (its cgroup's freezer). */
  async pause(ref: string): Promise<void> {
    const live = this.find(ref);
    await this.serial(live, async () => {
      const rec = live.rec;
      if (rec.State.Status === 'restarting') throw conflict(`Container ${rec.Id} is restarting, wait until the container is running`);
      if (rec.State.Status === 'paused') throw conflict(`Container ${rec.Id} is already paused`);
      if (rec.State.Status !== 'running') throw conflict(`Container ${rec.Id} is not running`);
      await runtimePause(this.runtimeRoot, rec.Id);
      rec.State.Status = 'paused';
      this.save(live);
      this.emitFor(rec, 'pause');
    });
  }

  async unpause(ref: string): Promise<void> {
    const live = this.find(ref);
    await this.serial(live, async () => {
      const rec = live.rec;
      if (rec.State.Status !== 'paused') throw conflict(`Container ${rec.Id} is not paused`);
      await runtimeResume(this.runtimeRoot, rec.Id);
      rec.State.Status = 'running';
      this.save(live);
      this.emitFor(rec, 'unpause');
    });
  }

  /** Docker's restart: stop (as `stop`, with its timeout and signal) if running, then a user's start. */
  async restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const live = this.find(ref);
    await this.stop(live.rec.Id, opts);
    await this.start(live.rec.Id);
    this.emitFor(live.rec, 'restart');
  }

  rename(ref: string, newName: string): void {
    const live = this.find(ref);
    if (!newName) throw invalid('Neither old nor new names may be empty');
    const name = checkName(newName);
    const oldName = live.rec.Name;
    if (name === oldName) throw invalid('Renaming a container with the same name as its current name');
    for (const l of this.byId.values()) {
      if (l.rec.Name === name) {
        throw conflict(`Conflict. The container name "${name}" is already in use by container "${l.rec.Id}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
    }
    live.rec.Name = name;
    this.save(live);
    this.emitFor(live.rec, 'rename', { oldName });
  }

  /**
   * Docker's update: new resource limits and restart policy, recorded in HostConfig and in the
   * bundle (for the next start), and applied now through the runtime if the container runs.
   */
  async update(ref: string, upd: ResourceConfig & { RestartPolicy?: RestartPolicy }): Promise<void> {
    const live = this.find(ref);
    await this.serial(live, async () => {
      const rec = live.rec;
      if (rec.State.Status === 'removing' || rec.State.Status === 'dead') throw conflict(`Container ${rec.Id} is marked for removal and cannot be "update"`);
      const limits = updateResources(rec.HostConfig, upd);
      let policy = rec.HostConfig.RestartPolicy;
      if (upd.RestartPolicy?.Name) {
        if (rec.HostConfig.AutoRemove && !isNone(upd.RestartPolicy)) throw conflict('Restart policy cannot be updated because AutoRemove is enabled for the container');
        policy = checkRestartPolicy(upd.RestartPolicy, false);
      }
      const resources = ociResources(limits);
      if (this.isRunning(rec.Id)) {
        try {
          await runtimeUpdate(this.runtimeRoot, rec.Id, resources);
        } catch (e) {
          throw new BerthError(e instanceof BerthError ? e.kind : 'system', `Cannot update container ${rec.Id}: ${errorMessage(e)}`, { cause: e });
        }
      }
      const specPath = join(this.store.dir(rec.Id), 'config.json');
      const spec = JSON.parse(readFileSync(specPath, 'utf8')) as Spec;
      spec.linux = { ...spec.linux, resources: { devices: spec.linux?.resources?.devices, ...resources } };
      writeAtomic(specPath, JSON.stringify(spec));
      rec.HostConfig = { ...rec.HostConfig, ...limits, RestartPolicy: policy };
      this.save(live);
      this.emitFor(rec, 'update');
    });
  }

  /** `volumes`: the container's anonymous volumes go too (`rm -v`, `--rm`). */
  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const live = this.find(ref);
    const rec = live.rec;
    if (this.isRunning(rec.Id) || rec.State.Status === 'restarting') {
      if (!opts.force) {
        throw conflict(`cannot remove container "${rec.Name}": container is ${rec.State.Status}: stop the container before removing or force remove`);
      }
      this.stoppedByUser(live, true);
    }
    if (rec.State.Status === 'restarting') this.cancelRestart(live);
    if (this.isRunning(rec.Id)) {
      const exited = new Promise<void>((r) => live.exited.push(r));
      try { await this.signal(live, 'SIGKILL', true); } catch { /* exited meanwhile */ }
      await exited;
    }
    await this.serial(live, async () => {
      if (!this.byId.has(rec.Id)) return;
      if (rec.State.Status === 'removing') return;
      const before: ContainerStatus = rec.State.Status;
      rec.State.Status = 'removing';
      try {
        await deleteContainer(this.runtimeRoot, rec.Id, { force: true }, this.runtimeLog).catch((e) => {
          if (!(e instanceof BerthError && e.kind === 'not-found')) throw e;
        });
        await this.networks.detach(rec).catch((e) => this.log('warn', `network of ${rec.Id.slice(0, 12)}: ${errorMessage(e)}`));
        await this.opts.snapshots.remove(rec.Id);
      } catch (e) {
        rec.State.Status = before;
        throw e;
      }
      live.health?.stop();
      this.store.remove(rec.Id);
      this.byId.delete(rec.Id);
      if (opts.volumes) releaseVolumes(rec.MountPoints ?? [], this.volumes, (m) => this.log('warn', m));
      this.log('info', `removed container ${rec.Id.slice(0, 12)}`);
      this.emitFor(rec, 'destroy');
      for (const w of live.removed.splice(0)) w();
      for (const w of live.exited.splice(0)) w();
    });
  }

  /** Docker's network connect and disconnect, made live on a running container. */
  async connect(ref: string, network: string, req: EndpointRequest): Promise<void> {
    const live = this.find(ref);
    await this.serial(live, async () => { await this.networks.connect(live.rec, network, req, this.isRunning(live.rec.Id)); this.save(live); });
  }

  async disconnect(ref: string, network: string): Promise<void> {
    const live = this.find(ref);
    await this.serial(live, async () => { await this.networks.disconnect(live.rec, network); this.save(live); });
  }

  /**
   * A connection to the container's monitor, which sends its output in Docker's frames and
   * takes input. A created container's clients connect when it starts; a stopped one has none.
   */
  async attach(ref: string): Promise<AttachStream | undefined> {
    const live = this.find(ref);
    const tty = !!live.rec.Config.Tty;
    const status = live.rec.State.Status;
    this.emitFor(live.rec, 'attach');
    if (status === 'created' || status === 'exited') {
      // Docker attaches to a stopped container too and waits for its next start.
      return new Promise<AttachStream>((resolve, reject) => {
        live.attachers.push(async (path) => {
          try { resolve({ socket: await connectUnix(path), tty }); } catch (e) { reject(e); throw e; }
        });
      });
    }
    if (status !== 'running' && status !== 'paused') return undefined;
    try {
      return { socket: await connectUnix(this.attachPath(live.rec.Id)), tty };
    } catch {
      return undefined; // the monitor has just gone
    }
  }

  logs(ref: string, opts: LogOptions = {}): AsyncGenerator<LogEntry> {
    const live = this.find(ref);
    const id = live.rec.Id;
    return readLog(this.store.logPath(id), {
      ...opts,
      live: () => this.byId.has(id) && (this.isRunning(id) || existsSync(this.attachPath(id))),
    });
  }

  /** Stops watching (berthd shutting down); containers keep running under their monitors. */
  close(): void {
    for (const l of this.byId.values()) {
      l.watcher?.close();
      clearTimeout(l.restartTimer);
      l.health?.stop();
    }
  }
}

function logLimits(hc: HostConfig): { logMaxSize?: number; logMaxFile?: number } {
  const c = hc.LogConfig?.Config ?? {};
  const size = c['max-size'] ? parseSize(c['max-size']) : undefined;
  return { logMaxSize: size, logMaxFile: c['max-file'] ? Number(c['max-file']) : undefined };
}

export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(s.trim());
  if (!m) throw invalid(`invalid size: '${s}'`);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
  return Math.round(Number(m[1]) * mult[m[2].toLowerCase()]);
}

/**
 * A start that failed, as Docker reports it: a command that is missing (exit code 127) or not
 * executable (126) is the caller's mistake (400); anything else is the engine's (500, 128).
 */
function startError(e: unknown): BerthError & { exitCode: number } {
  const msg = errorMessage(e);
  const code = /executable file not found|no such file or directory/i.test(msg) ? 127
    : /permission denied|exec format error/i.test(msg) ? 126 : 128;
  const err = (code === 128 && e instanceof BerthError ? e : new BerthError(code === 128 ? 'system' : 'invalid', msg, { cause: e })) as BerthError & { exitCode: number };
  err.exitCode = code;
  return err;
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}
