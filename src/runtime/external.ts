// Another OCI runtime binary behind the `Runtime` interface: a runtime a user names in berthd's
// configuration (daemon.json `runtimes`, `--add-runtime`), driven through runc's command line as
// dockerd's shim drives it (create, start, state, kill, delete, pause, resume, exec, update, list).
// Its `create` runs under berth's per-container monitor (native/monitor.c with
// --runtime-pid-file), which is the subreaper its container's init falls to, so logs, attach and
// the exit file work as for berth's own runtime. Every command runs off the event loop
// (common/child.ts), exec's as a child with piped stdio; stats, ps and OOM counts read the
// container's cgroups, whose paths are saved at create from /proc/<pid>/cgroup. Nothing here
// names a particular runtime: the binary is the user's choice.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { awaitedLater, settled } from '../common/promises.js';
import { runChild } from '../native/child.js';
import { conflict, notFound, systemError, unsupported } from '../errors.js';
import type { LinuxResources, Spec } from '../oci/runtime-spec.js';
import { detectLayout, reopenCgroups, type CgroupLayout, type CgroupManager } from './cgroups/manager.js';
import { parseProcCgroup } from './cgroups/detect.js';
import { hierarchyDir } from './cgroups/paths.js';
import type { RuntimeEvent } from './events.js';
import type { RuntimeLogger } from './log.js';
import { helperPath, launch } from './native/helper.js';
import { winsizeRecord } from './native/winsize.js';
import type { ContainerState, ContainerStats, CreateRequest, ExecRequest, Runtime } from './runtime.js';

export interface ExternalRuntimeOptions {
  /** The name the user gave it (HostConfig.Runtime). */
  name: string;
  /** The binary: a path, or a name looked up in PATH when first used. */
  path: string;
  /** Global options put before every command (daemon.json's runtimeArgs). */
  args?: string[];
  /** Where its state lives: `state/` is its --root, `work/<id>/` berth's files of a container. */
  root: string;
  log: RuntimeLogger;
}

interface Saved {
  layout: CgroupLayout;
  paths: Record<string, string>;
}

/**
 * The message of a runc-style failure: the last `msg` of a logrus line (text or JSON), or the
 * output as it is. runc says "container does not exist" for an unknown id.
 */
export function runtimeMessage(output: string): string {
  const lines = output.split('\n').filter((l) => l.trim());
  for (const line of lines.reverse()) {
    if (line.startsWith('{')) {
      try {
        const j = JSON.parse(line) as { level?: string; msg?: string };
        if (j.msg && (j.level === 'error' || j.level === 'fatal')) return j.msg;
      } catch {
        /* not JSON: the line as text below */
      }
    }
    const m = /level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(line);
    if (m) return m[1].replace(/\\(.)/g, '$1');
  }
  return output.trim();
}

export class ExternalRuntime implements Runtime {
  private resolved?: Promise<string>;

  constructor(readonly opts: ExternalRuntimeOptions) {}

  private get stateRoot(): string {
    return join(this.opts.root, 'state');
  }

  private work(id: string): string {
    return join(this.opts.root, 'work', id);
  }

  /** The binary's path: as given when it has a slash, else the first executable of that name in PATH. */
  private binary(): Promise<string> {
    this.resolved ??= (async () => {
      const p = this.opts.path;
      if (p.includes('/')) return p;
      for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
        const c = join(dir, p);
        try {
          await access(c, constants.X_OK);
          return c;
        } catch {
          /* not in this directory */
        }
      }
      throw systemError(`runtime ${this.opts.name}: ${p}: executable file not found in $PATH`);
    })();
    this.resolved.catch(() => {
      this.resolved = undefined; // installed later: looked up again
    });
    return this.resolved;
  }

  private async argv(...args: string[]): Promise<string[]> {
    return [await this.binary(), ...(this.opts.args ?? []), '--root', this.stateRoot, ...args];
  }

  /** Runs one command; a failure is an error with the runtime's message, its kind from the words. */
  private async run(args: string[], input?: string): Promise<string> {
    const [file, ...rest] = await this.argv(...args);
    const r = await runChild(file, rest, input === undefined ? {} : { input });
    if (r.code === 0) return r.stdout;
    const msg = runtimeMessage(r.stderr || r.stdout) || `${args[0]} exited with ${r.signal ?? `status ${r.code}`}`;
    const text = `runtime ${this.opts.name}: ${args[0]}: ${msg}`;
    if (/does not exist|not found/i.test(msg)) throw notFound(text);
    if (/not running|not paused|is paused|stopped|already/i.test(msg)) throw conflict(text);
    throw systemError(text);
  }

  async create(req: CreateRequest): Promise<{ pid: number }> {
    if (!req.monitor) throw unsupported(`runtime ${this.opts.name}: containers run under berth's monitor only`);
    if (req.noPivot || req.preserveFds) throw unsupported(`runtime ${this.opts.name}: --no-pivot and --preserve-fds are not passed on`);
    const work = this.work(req.id);
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true, mode: 0o700 });
    await mkdir(this.stateRoot, { recursive: true, mode: 0o700 });
    const pidFile = join(work, 'pid');
    const logFile = join(work, 'create.log');
    const consoleSocket = req.monitor.consoleSocket;
    const [bin, ...global] = await this.argv();
    // Its log, not its stderr: that is the container's, in the monitor's pipes.
    const argv = [bin, '--log', logFile, '--log-format', 'json', ...global, 'create', '--bundle', req.bundle, '--pid-file', pidFile];
    if (consoleSocket) argv.push('--console-socket', consoleSocket);
    argv.push(req.id);
    let pid: number;
    try {
      ({ pid } = await launch({ plan: [], monitor: req.monitor, runtimeCreate: { argv, pidFile }, onPid: () => '' }));
    } catch (e) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      const why = runtimeMessage(log);
      throw systemError(`runtime ${this.opts.name}: create: ${why || (e as Error).message}`, e);
    }
    const det = detectLayout();
    const own = parseProcCgroup(await readFile(`/proc/${pid}/cgroup`, 'utf8'));
    const paths: Record<string, string> = {};
    const here = { relative: true, path: '' }; // the init's own cgroup in each hierarchy
    if (det.layout !== 'v2')
      for (const [k, m] of Object.entries(det.v1)) if (own[k] !== undefined) paths[k] = hierarchyDir(m, here, own[k]);
    if (det.unified && det.layout !== 'v1' && own[''] !== undefined) paths[''] = hierarchyDir(det.unified, here, own['']);
    const saved: Saved = { layout: det.layout, paths };
    await writeFile(join(work, 'cgroups.json'), JSON.stringify(saved));
    return { pid };
  }

  async start(id: string): Promise<void> {
    await this.run(['start', id]);
  }

  async kill(id: string, signal: string | number, opts: { all?: boolean } = {}): Promise<void> {
    await this.run(['kill', ...(opts.all ? ['--all'] : []), id, String(signal)]);
  }

  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    try {
      await this.run(['delete', ...(opts.force ? ['--force'] : []), id]);
    } catch (e) {
      if (!(e instanceof Error && /does not exist/.test(e.message))) throw e;
    }
    await rm(this.work(id), { recursive: true, force: true });
  }

  async pause(id: string): Promise<void> {
    await this.run(['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.run(['resume', id]);
  }

  async state(id: string): Promise<ContainerState> {
    const s = JSON.parse(await this.run(['state', id])) as ContainerState & { bundle: string };
    const config = JSON.parse(await readFile(join(s.bundle, 'config.json'), 'utf8')) as Spec;
    return { ...s, rootfs: s.rootfs ?? config.root?.path ?? '', created: s.created, config };
  }

  async update(id: string, resources: LinuxResources): Promise<void> {
    await this.run(['update', '--resources', '-', id], JSON.stringify(resources));
  }

  private async cgroups(id: string): Promise<CgroupManager> {
    let saved: Saved;
    try {
      saved = JSON.parse(await readFile(join(this.work(id), 'cgroups.json'), 'utf8')) as Saved;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`runtime ${this.opts.name}: container ${id} does not exist`);
      throw e;
    }
    return reopenCgroups(saved.layout, saved.paths);
  }

  async stats(id: string): Promise<ContainerStats> {
    const cg = await this.cgroups(id);
    let oomKills: number | undefined;
    try {
      oomKills = cg.oomKillCount();
    } catch (e) {
      if (!(e instanceof Error && 'kind' in e && e.kind === 'unsupported')) throw e;
    }
    return { layout: cg.layout, cgroup: cg.stats(), oomKills };
  }

  async ps(id: string): Promise<number[]> {
    return (await this.cgroups(id)).pids();
  }

  async list(): Promise<string[]> {
    const out = await this.run(['list', '--format', 'json']).catch((e: Error) => {
      if (/no such file|does not exist/i.test(e.message)) return 'null';
      throw e;
    });
    return ((JSON.parse(out || 'null') as { id: string }[] | null) ?? []).map((c) => c.id);
  }

  async *events(id: string, opts: { intervalMs: number; signal?: AbortSignal }): AsyncGenerator<RuntimeEvent> {
    const cg = await this.cgroups(id);
    let ooms = cg.oomKillCount();
    while (!opts.signal?.aborted) {
      if ((await this.state(id)).status === 'stopped') return;
      const n = cg.oomKillCount();
      if (n > ooms) yield { type: 'oom', id };
      ooms = n;
      yield { type: 'stats', id, data: cg.stats() };
      try {
        await delay(opts.intervalMs, undefined, { signal: opts.signal });
      } catch (e) {
        if ((e as Error).name === 'AbortError') return;
        throw e;
      }
    }
  }

  /**
   * `exec --process`: the runtime in the foreground passes the process's stdio through (a
   * terminal's master comes to berth-nsexec's relay) and exits with its status. Errors of the
   * runtime itself are in its log.
   */
  async exec(req: ExecRequest): Promise<number> {
    if (req.preserveFds || req.consoleSocket)
      throw unsupported(`runtime ${this.opts.name}: exec with --preserve-fds or --console-socket is not passed on`);
    if (req.process.terminal && req.detach)
      throw unsupported(`runtime ${this.opts.name}: a detached exec with a terminal needs a console socket of the caller's`);
    const work = this.work(req.id);
    const tag = randomBytes(6).toString('hex');
    const processFile = join(work, `exec-${tag}.json`);
    const logFile = join(work, `exec-${tag}.log`);
    const pidFile = req.pidFile ?? join(work, `exec-${tag}.pid`);
    await writeFile(processFile, JSON.stringify(req.process));
    const [bin, ...global] = await this.argv();
    const args = [
      '--log',
      logFile,
      '--log-format',
      'json',
      ...global,
      'exec',
      '--process',
      processFile,
      '--pid-file',
      pidFile,
      ...(req.detach ? ['--detach'] : []),
    ];
    // With a terminal in the foreground: through berth-nsexec's relay, which takes the pty
    // master the runtime sends to a console socket (runc's own relay wants a terminal of ours).
    const tty = !!req.process.terminal;
    // Short: a socket's path has 108 bytes at most, and the work folder is long.
    const consoleSocket = join(this.opts.root, `tty-${tag}.sock`);
    if (tty) args.push('--tty', '--detach', '--console-socket', consoleSocket);
    args.push(req.id);
    const stdio = [
      ...(
        (Array.isArray(req.stdio) ? req.stdio : [req.stdio ?? 'inherit', req.stdio ?? 'inherit', req.stdio ?? 'inherit']) as StdioOptions[]
      ).slice(0, 3),
    ];
    const child = tty
      ? spawn(helperPath(), ['tty-relay', consoleSocket, pidFile, '--', bin, ...args], {
          stdio: [...stdio, 'pipe'] as StdioOptions,
          env: { _BERTH_RESIZE_FD: '3', PATH: process.env.PATH ?? '/usr/bin:/bin' },
        })
      : spawn(bin, args, { stdio: stdio as StdioOptions });
    const sizes = tty ? (child.stdio[3] as Writable) : undefined;
    sizes?.on('error', (e) => this.opts.log('debug', `exec ${tag} in ${req.id.slice(0, 12)}: window sizes: ${e.message}`));
    const resize =
      sizes && req.resizable ? (rows: number, cols: number) => void (sizes.writable && sizes.write(winsizeRecord(rows, cols))) : undefined;
    // Node drops what a child's pipe holds unread once the child exits (its flushStdio): a
    // short process ends before the caller reads, so its output is taken into streams of ours.
    const held = [child.stdio[0], ...[child.stdio[1], child.stdio[2]].map((s) => (s ? (s as Readable).pipe(new PassThrough()) : s))];
    const exit = new Promise<number>((resolve, reject) => {
      child.once('error', (e) => reject(systemError(`runtime ${this.opts.name}: exec: ${e.message}`, e)));
      child.once('close', (code, signal) => {
        void (async () => {
          const why = runtimeMessage(await readFile(logFile, 'utf8').catch(() => ''));
          await rm(processFile, { force: true });
          await rm(logFile, { force: true });
          if (why) reject(systemError(`runtime ${this.opts.name}: exec: ${why}`));
          else resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
        })().catch(reject);
      });
    });
    awaitedLater(exit); // returned below, once the pid is known: it may fail while we look for it
    // Launched once the runtime has written the process's pid; a runtime that ends without
    // writing it failed to start the process (exit says why), as berth-runtime's launch fails.
    let ended = false;
    child.once('exit', () => {
      ended = true;
    });
    const readPid = async () => Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
    let pid = 0;
    while (!ended && !(pid = await readPid())) await delay(5);
    // A short process may have ended, and the runtime with it, since the last look.
    if (!pid) pid = await readPid();
    // Removed only once the exec has ended: the terminal relay reads it after the runtime exits.
    if (!req.pidFile)
      void settled(exit)
        .then(() => rm(pidFile, { force: true }))
        .catch((e: Error) => this.opts.log('warn', `exec ${tag} in ${req.id.slice(0, 12)}: ${e.message}`));
    if (!pid) return exit;
    // The caller reads helper.stdio only: the runtime's stdin, and our streams of its output.
    const helper = Object.assign(Object.create(child) as ChildProcess, { stdio: held });
    req.onLaunched?.({ pid, helper, exit, done: Promise.resolve(), resize });
    if (req.detach) {
      await exit;
      return 0;
    }
    return exit;
  }
}
