// Exec instances: a command run in a running container, as Docker's `exec create` / `exec
// start` / `exec inspect` know them. Instances live in memory only (Docker keeps them no longer
// than the daemon either). The process runs through the runtime library's exec, a child of
// berthd, its stdio on pipes the caller relays; it never outlives berthd's knowledge of it.
// With a terminal the pty lives in the runtime's exec helper, which relays it to those pipes.

import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { conflict, errorMessage, invalid, isKind, notFound } from '../errors.js';
import type { Process } from '../oci/runtime-spec.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Containers } from './containers/index.js';
import { allCaps } from './security.js';
import { homeOf, resolveUser, rootFiles } from './users.js';
import { settled } from '../common/promises.js';
import { EXEC_START_FAILED, execStartError } from './start-errors.js';

/** The body of `POST /containers/{id}/exec` (moby's ExecConfig); all optional but Cmd. */
export interface ExecConfig {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  /**
   * A terminal: the process gets a pty, which the runtime's foreground exec relays to our pipes
   * (output raw, unframed); resize sets that pty's window size.
   */
  Tty?: boolean;
  /** [height, width] of the terminal at start (API 1.42+). */
  ConsoleSize?: [number, number] | null;
  Env?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  User?: string;
  /** Every capability berthd holds, as Docker's `exec --privileged` (the container's seccomp filter stays). */
  Privileged?: boolean;
  /** Accepted and ignored. */
  DetachKeys?: string;
}

/** One exec instance. Immutable but for Running, ExitCode and Pid. */
export interface ExecInstance {
  ID: string;
  ContainerID: string;
  Config: ExecConfig;
  Running: boolean;
  /** null until the process has ended (or failed to start). */
  ExitCode: number | null;
  Pid: number;
  started: boolean;
}

/** The running process's streams, for the API to relay; `exit` resolves with its exit code. */
export interface ExecStreams {
  stdin?: Writable;
  stdout?: Readable;
  stderr?: Readable;
  exit: Promise<number>;
}

export class Execs {
  private readonly byId = new Map<string, ExecInstance>();
  /** The window-size setters of running Tty instances (the runtime's relay holds the pty). */
  private readonly resizers = new Map<string, (rows: number, cols: number) => void>();

  /** `log`: where an exec's failure is told (its caller may be gone: a detached exec). */
  constructor(
    private readonly containers: Containers,
    private readonly runtime: Runtime,
    private readonly log?: (level: 'warn', msg: string) => void,
  ) {}

  /**
   * Docker's exec events: `exec_create: <cmd>` and `exec_start: <cmd>`, then `exec_die`. The command is
   * dockerd's entrypoint, a space and the arguments joined, so one with no arguments ends in a space.
   */
  private event(inst: ExecInstance, action: string, extra: Record<string, string> = {}): void {
    const [entrypoint, ...args] = inst.Config.Cmd!;
    try {
      this.containers.event(inst.ContainerID, action === 'exec_die' ? action : `${action}: ${entrypoint} ${args.join(' ')}`, {
        execID: inst.ID,
        ...extra,
      });
    } catch (e) {
      if (!isKind(e, 'not-found')) throw e; // the container is gone
    }
  }

  create(containerRef: string, config: ExecConfig): ExecInstance {
    const c = this.containers.get(containerRef);
    // dockerd's words: a paused container is named as the caller named it, the others by ID.
    if (c.State.Status === 'paused') throw conflict(`Container ${containerRef} is paused, unpause the container before exec`);
    if (c.State.Status === 'restarting') throw conflict(`Container ${c.Id} is restarting, wait until the container is running`);
    if (c.State.Status !== 'running') throw conflict(`Container ${c.Id} is not running`);
    if (!config.Cmd?.length) throw invalid('No exec command specified');
    this.prune();
    const inst: ExecInstance = {
      ID: randomBytes(32).toString('hex'),
      ContainerID: c.Id,
      Config: config,
      Running: false,
      ExitCode: null,
      Pid: 0,
      started: false,
    };
    this.byId.set(inst.ID, inst);
    this.event(inst, 'exec_create');
    return inst;
  }

  get(id: string): ExecInstance {
    const inst = this.byId.get(id);
    if (!inst) throw notFound(`No such exec instance: ${id}`);
    return inst;
  }

  /** The running container's exec instances, null when none (Docker's `ExecIDs`); none once it has stopped. */
  forContainer(containerId: string): string[] | null {
    if (!this.containers.isRunning(containerId)) return null;
    const ids = [...this.byId.values()].filter((e) => e.ContainerID === containerId).map((e) => e.ID);
    return ids.length ? ids : null;
  }

  /**
   * Starts the process. Errors before it runs are thrown (404/409, or the start's own error in
   * dockerd's words, with ExitCode 126 whatever the cause, as dockerd records it).
   */
  async start(id: string, opts: { detach?: boolean } = {}): Promise<ExecStreams> {
    const inst = this.get(id);
    if (inst.started) throw conflict(inst.Running ? `Exec command ${id} is already running` : `Exec command ${id} has already run`);
    const c = this.containers.get(inst.ContainerID);
    if (c.State.Status !== 'running') throw conflict(`Container ${c.Id} is not running`);
    inst.started = true;
    inst.Running = true;
    const cfg = inst.Config;
    const attach = !opts.detach;
    let launchedResolve!: (s: ExecStreams) => void;
    const launched = new Promise<ExecStreams>((r) => {
      launchedResolve = r;
    });
    let exit!: Promise<number>;
    try {
      const rc = await this.runtime.state(c.Id);
      const base = rc.config.process;
      // The user's tables as the container sees them (its mounts included), through its init's root.
      const files = rootFiles(c.State.Pid ? `/proc/${c.State.Pid}/root` : rc.rootfs);
      const user = cfg.User ? resolveUser(files, cfg.User, c.HostConfig.GroupAdd) : (base?.user ?? { uid: 0, gid: 0 });
      // HOME is the exec user's, as runc sets it, unless the container's or the exec's env names one.
      const ownHome = [...(c.Config.Env ?? []), ...(cfg.Env ?? [])].some((e) => e.startsWith('HOME='));
      // TERM=xterm is the terminal's, the exec's own as dockerd's CreateDaemonEnvironment gives
      // it: not the container's terminal's, unless its env (the image's within) names TERM.
      const ownTerm = (c.Config.Env ?? []).some((e) => e.startsWith('TERM='));
      const baseEnv = (base?.env ?? []).filter((e) => (ownHome || !e.startsWith('HOME=')) && (ownTerm || !e.startsWith('TERM=')));
      const process: Process = {
        ...base,
        // With a terminal, the runtime's foreground exec holds the pty and relays it to our pipes.
        terminal: !!cfg.Tty,
        ...(cfg.Tty && cfg.ConsoleSize?.[0] && cfg.ConsoleSize[1]
          ? { consoleSize: { height: cfg.ConsoleSize[0], width: cfg.ConsoleSize[1] } }
          : {}),
        args: cfg.Cmd!,
        env: mergeEnv(
          [...baseEnv, ...(ownHome ? [] : [`HOME=${homeOf(files, user.uid)}`])],
          [...(cfg.Tty ? ['TERM=xterm'] : []), ...(cfg.Env ?? [])],
        ),
        cwd: cfg.WorkingDir || base?.cwd || '/',
        user,
      } as Process;
      if (cfg.Privileged) {
        const all = allCaps();
        process.capabilities = { bounding: all, effective: all, permitted: all };
      }
      this.event(inst, 'exec_start');
      exit = this.runtime.exec({
        id: c.Id,
        process,
        stdio: [
          attach && cfg.AttachStdin ? 'pipe' : 'ignore',
          attach && cfg.AttachStdout ? 'pipe' : 'ignore',
          attach && cfg.AttachStderr ? 'pipe' : 'ignore',
        ],
        resizable: !!cfg.Tty,
        onLaunched: (l) => {
          inst.Pid = l.pid;
          if (l.resize) this.resizers.set(inst.ID, l.resize);
          const [stdin, stdout, stderr] = l.helper!.stdio as unknown as [Writable | null, Readable | null, Readable | null];
          stdin?.on('error', () => {}); // the process closed its stdin
          launchedResolve({ stdin: stdin ?? undefined, stdout: stdout ?? undefined, stderr: stderr ?? undefined, exit });
        },
      });
      // launch() resolves before exec() returns: start failures reject `exit` first.
      const streams = await Promise.race([
        launched,
        exit.then((): never => {
          throw new Error('exec ended before it started');
        }),
      ]);
      void settled(exit).then(() => this.resizers.delete(inst.ID));
      streams.exit = exit.then(
        (code) => {
          inst.ExitCode = code;
          inst.Running = false;
          this.event(inst, 'exec_die', { exitCode: String(code) });
          return code;
        },
        (e) => {
          inst.ExitCode = EXEC_START_FAILED;
          inst.Running = false;
          this.event(inst, 'exec_die', { exitCode: String(EXEC_START_FAILED) });
          this.log?.('warn', `exec ${inst.ID.slice(0, 12)} in container ${inst.ContainerID.slice(0, 12)}: ${errorMessage(e)}`);
          // A process that failed in its last steps (its working directory, its user) was launched but never ran.
          throw execStartError(e);
        },
      );
      return streams;
    } catch (e) {
      inst.Running = false;
      inst.ExitCode = EXEC_START_FAILED;
      throw execStartError(e);
    }
  }

  /** Drops an instance now (the engine's own, a health probe's, once it has run). */
  forget(id: string): void {
    this.byId.delete(id);
  }

  /**
   * Docker's exec resize: the window size of a running Tty instance's pty. An instance that has
   * ended (clients resize right after start, racing a short command) or has no pty: nothing to do.
   */
  resize(id: string, rows: number, cols: number): void {
    this.get(id);
    this.resizers.get(id)?.(rows, cols);
  }

  /** As Docker, ended instances go once their container has stopped (or gone). */
  private prune(): void {
    for (const [id, e] of this.byId) {
      if (e.Running) continue;
      let running = false;
      try {
        running = this.containers.isRunning(e.ContainerID);
      } catch (e) {
        if (!isKind(e, 'not-found')) throw e; // removed
      }
      if (!running) this.byId.delete(id);
    }
  }
}

/** A later `KEY=…` replaces an earlier one. */
function mergeEnv(base: string[], extra: string[]): string[] {
  const m = new Map<string, string>();
  for (const e of [...base, ...extra]) m.set(e.split('=', 1)[0], e);
  return [...m.values()];
}
