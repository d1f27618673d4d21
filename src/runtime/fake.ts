// A recording fake of the `Runtime` interface, for unit tests of what drives a runtime (the
// engine's state machine) without root, processes or cgroups. It keeps containers in memory with
// the real runtime's statuses and refusals (runc's messages), records every call, fails a call
// when a test queues an error for it, and plays the part of the per-container monitor: when a
// container's process ends (a signal it does not ignore, `delete --force`, or `exit()`), the exit
// file is written as native/monitor.c writes it (temp file, then rename).
import type { ChildProcess } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { conflict, notFound } from '../errors.js';
import type { LinuxResources, Spec, Status } from '../oci/runtime-spec.js';
import { OCI_VERSION } from '../oci/runtime-spec.js';
import { emptyStats } from './cgroups/stats.js';
import type { ContainerState, ContainerStats, CreateRequest, ExecRequest, MonitorOptions, Runtime, RuntimeEvent } from './runtime.js';
import { parseSignal } from './signals.js';

export type Verb =
  'create' | 'start' | 'kill' | 'delete' | 'pause' | 'resume' | 'exec' | 'state' | 'update' | 'stats' | 'ps' | 'list' | 'events';

/** One call as the fake received it: the verb, the container, and the verb's other arguments. */
export interface Call {
  verb: Verb;
  id: string;
  args?: unknown;
}

export interface FakeContainer {
  id: string;
  bundle: string;
  pid: number;
  status: Status;
  created: string;
  config: Spec;
  monitor?: MonitorOptions;
  /** Every `update` the container received, in order. */
  updates: LinuxResources[];
}

/** What an exec'd process does: its output and exit code (default: no output, exit 0). */
export type ExecHandler = (
  req: ExecRequest,
) => { exitCode: number; stdout?: string; stderr?: string } | Promise<{ exitCode: number; stdout?: string; stderr?: string }>;

export class FakeRuntime implements Runtime {
  readonly calls: Call[] = [];
  readonly containers = new Map<string, FakeContainer>();
  /** Signals the containers' processes survive (a process that traps SIGTERM). */
  readonly ignored = new Set<number>();
  /** OOM kills to report in stats, by container. */
  readonly oomKills = new Map<string, number>();
  execHandler: ExecHandler = () => ({ exitCode: 0 });
  /** Failures of the fake's own background work (an exit file it could not write), for a test to assert empty. */
  readonly errors: Error[] = [];
  /** Exits that kills set off, until their exit files are written. */
  private readonly ending = new Set<Promise<void>>();
  private readonly failures = new Map<Verb, Error[]>();
  private nextPid = 1000;

  /** The next call of `verb` rejects with `err` (queued: several calls, several errors). */
  failNext(verb: Verb, err: Error): void {
    this.failures.set(verb, [...(this.failures.get(verb) ?? []), err]);
  }

  /** `verb id` of each call so far, for short assertions. */
  log(): string[] {
    return this.calls.map((c) => `${c.verb} ${c.id}`);
  }

  /** The container's process ends with `exitCode` (and `signal`, when a signal ended it). */
  /** Resolves once every exit a kill set off has happened and its exit file is written. */
  async idle(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    await Promise.all(this.ending);
  }

  async exit(id: string, exitCode: number, signal = 0): Promise<void> {
    const c = this.get(id);
    if (c.status === 'stopped') return;
    c.status = 'stopped';
    if (!c.monitor) return;
    const body = JSON.stringify({ pid: c.pid, exitCode, signal, finishedAt: new Date().toISOString() }) + '\n';
    const tmp = `${c.monitor.exitFile}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, c.monitor.exitFile);
  }

  private record(verb: Verb, id: string, args?: unknown): void {
    this.calls.push({ verb, id, ...(args === undefined ? {} : { args }) });
    const err = this.failures.get(verb)?.shift();
    if (err) throw err;
  }

  private get(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw notFound(`container does not exist: ${id}`);
    return c;
  }

  async create(req: CreateRequest): Promise<{ pid: number }> {
    this.record('create', req.id, req);
    if (this.containers.has(req.id)) throw conflict(`container with id exists: ${req.id}`);
    let config: Spec;
    const path = join(req.bundle, 'config.json');
    try {
      config = JSON.parse(await readFile(path, 'utf8')) as Spec;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`${path}: no such file or directory`);
      throw e;
    }
    const c: FakeContainer = {
      id: req.id,
      bundle: req.bundle,
      pid: this.nextPid++,
      status: 'created',
      created: new Date().toISOString(),
      config,
      monitor: req.monitor,
      updates: [],
    };
    this.containers.set(req.id, c);
    return { pid: c.pid };
  }

  async start(id: string): Promise<void> {
    this.record('start', id);
    const c = this.get(id);
    if (c.status === 'stopped') throw conflict('cannot start a container that has stopped');
    if (c.status !== 'created') throw conflict('cannot start an already running container');
    c.status = 'running';
  }

  async kill(id: string, signal: string | number, opts: { all?: boolean } = {}): Promise<void> {
    this.record('kill', id, { signal, all: !!opts.all });
    const c = this.get(id);
    const n = parseSignal(String(signal));
    if (c.status === 'stopped') throw conflict('container not running');
    if (c.status === 'paused' && n !== constants.signals.SIGKILL) return; // a frozen process takes it when thawed
    if (n === constants.signals.SIGKILL || !this.ignored.has(n)) {
      // A process ends after the signal is sent, not during the call.
      setImmediate(() => {
        const ended = this.exit(id, 128 + n, n)
          .catch((e: Error) => {
            this.errors.push(e);
          })
          .finally(() => this.ending.delete(ended));
        this.ending.add(ended);
      });
    }
  }

  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    this.record('delete', id, opts);
    const c = this.containers.get(id);
    if (!c) {
      if (opts.force) return;
      throw notFound(`container does not exist: ${id}`);
    }
    if (c.status !== 'stopped' && c.status !== 'created' && !opts.force)
      throw conflict(`cannot delete container ${id} that is not stopped: ${c.status}`);
    if (c.status !== 'stopped') await this.exit(id, 128 + constants.signals.SIGKILL, constants.signals.SIGKILL);
    this.containers.delete(id);
  }

  async pause(id: string): Promise<void> {
    this.record('pause', id);
    const c = this.get(id);
    if (c.status !== 'running' && c.status !== 'created') throw conflict('container not running');
    c.status = 'paused';
  }

  async resume(id: string): Promise<void> {
    this.record('resume', id);
    const c = this.get(id);
    if (c.status !== 'paused') throw conflict('container not paused');
    c.status = 'running';
  }

  async exec(req: ExecRequest): Promise<number> {
    this.record('exec', req.id, req.process.args);
    const c = this.get(req.id);
    if (c.status === 'paused') throw conflict('cannot exec in a paused container');
    if (c.status !== 'running' && c.status !== 'created') throw conflict('cannot exec in a stopped container');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let resolveExit!: (code: number) => void;
    const exit = new Promise<number>((r) => {
      resolveExit = r;
    });
    // What launch() hands back: the helper's stdio pipes (in, out, err) as a daemon's exec reads them.
    const helper = { stdio: [null, stdout, stderr] } as unknown as ChildProcess;
    req.onLaunched?.({ pid: this.nextPid++, helper, exit, done: Promise.resolve() });
    const r = await this.execHandler(req);
    stdout.end(r.stdout ?? '');
    stderr.end(r.stderr ?? '');
    resolveExit(r.exitCode);
    return req.detach ? 0 : r.exitCode;
  }

  async state(id: string): Promise<ContainerState> {
    this.record('state', id);
    const c = this.get(id);
    return {
      ociVersion: OCI_VERSION,
      id,
      status: c.status,
      ...(c.status === 'stopped' ? {} : { pid: c.pid }),
      bundle: c.bundle,
      rootfs: c.config.root?.path ? join(c.bundle, c.config.root.path) : join(c.bundle, 'rootfs'),
      created: c.created,
      config: c.config,
    };
  }

  async update(id: string, resources: LinuxResources): Promise<void> {
    this.record('update', id, resources);
    const c = this.get(id);
    if (c.status === 'stopped') throw conflict('cannot update a stopped container');
    c.updates.push(resources);
  }

  async stats(id: string): Promise<ContainerStats> {
    this.record('stats', id);
    this.get(id);
    return { layout: 'v2', cgroup: emptyStats(), oomKills: this.oomKills.get(id) ?? 0 };
  }

  async ps(id: string): Promise<number[]> {
    this.record('ps', id);
    const c = this.get(id);
    return c.status === 'stopped' ? [] : [c.pid];
  }

  async list(): Promise<string[]> {
    this.record('list', '');
    return [...this.containers.keys()].sort();
  }

  async *events(id: string, opts: { intervalMs: number; signal?: AbortSignal }): AsyncGenerator<RuntimeEvent> {
    this.record('events', id, { intervalMs: opts.intervalMs });
    while (!opts.signal?.aborted && this.get(id).status !== 'stopped') {
      yield { type: 'stats', id, data: emptyStats() };
      await delay(opts.intervalMs, undefined, { signal: opts.signal }).catch((e: Error) => {
        if (e.name !== 'AbortError') throw e;
      });
    }
  }
}
