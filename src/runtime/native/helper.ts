// Starts native/berth-nsexec with a plan and follows its reports: the container process's
// pid (the caller then places it in cgroups and runs runtime hooks before it may go on),
// readiness, and the one-line error of a failed setup.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Socket } from 'node:net';
import { systemError } from '../../errors.js';
import { Decoder, encode, Op, rec, type Record_ } from './protocol.js';
import { winsizeRecord } from './winsize.js';
import { reap, sealedCopy, spawnDetached } from '../../native/binding.js';
import { awaitedLater } from '../../common/promises.js';

/** native/build/berth-nsexec of this package, found upwards from this module (or its bundle). */
export function helperPath(): string {
  if (process.env.BERTH_NSEXEC) return process.env.BERTH_NSEXEC;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'native/build/berth-nsexec');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) return candidate;
    dir = up;
  }
}

export interface LaunchOptions {
  plan: Record_[];
  /** The container's fds 0-2 (and 3.. with preserveFds): the caller's by default. */
  stdio?: StdioOptions;
  preserveFds?: number;
  /** Called with the container's pid before it continues; returns the state JSON for hooks. */
  onPid: (pid: number) => Promise<string> | string;
  /** Run under a per-container monitor (native/monitor.c) that outlives the caller. */
  monitor?: MonitorOptions;
  /**
   * With `monitor`: the monitor runs another OCI runtime's `create` (`argv`, which writes the
   * container's pid to `pidFile`) in place of the nsexec step; `plan` is then empty.
   */
  runtimeCreate?: { argv: string[]; pidFile: string };
  /** A foreground terminal relay takes window sizes from the caller: Launched.resize. */
  resizable?: boolean;
}

export interface MonitorOptions {
  /** json-file log of stdout and stderr. */
  log: string;
  /** `cri`: Kubernetes' log lines (`<time> <stream> <F|P> <text>`) for kubelet, not json-file. */
  logFormat?: 'cri';
  logMaxSize?: number;
  logMaxFile?: number;
  /** Written with the exit status when the container's process ends. */
  exitFile: string;
  /** Unix socket serving the output (Docker's multiplexed frames) and taking input. */
  attach: string;
  /** Keep a pipe to the container's stdin for attach clients. */
  stdin?: boolean;
  /** Close the container's stdin when an attach client's input ends (Docker's StdinOnce). */
  stdinOnce?: boolean;
  /** With a terminal: the socket the monitor receives the pty master on. */
  consoleSocket?: string;
  /** With a terminal: the socket the monitor takes window sizes on (winsize.ts). */
  control?: string;
}

function monitorArgs(m: MonitorOptions): string[] {
  return [
    'monitor',
    '--log',
    m.log,
    '--exit-file',
    m.exitFile,
    '--attach',
    m.attach,
    ...(m.logFormat ? ['--log-format', m.logFormat] : []),
    ...(m.logMaxSize ? ['--log-max-size', String(m.logMaxSize)] : []),
    ...(m.logMaxFile ? ['--log-max-file', String(m.logMaxFile)] : []),
    ...(m.stdin ? ['--stdin'] : []),
    ...(m.stdin && m.stdinOnce ? ['--stdin-once'] : []),
    ...(m.consoleSocket ? ['--console-socket', m.consoleSocket] : []),
    ...(m.consoleSocket && m.control ? ['--control', m.control] : []),
  ];
}

export interface Launched {
  pid: number;
  /** The helper as Node started it; none for a monitor started by spawnDetached. */
  helper?: ChildProcess;
  /**
   * Resolves with the helper's exit code (the container's, in foreground modes); for a monitor,
   * once it has detached from us (it goes on as a child of init: spawnMonitor).
   */
  exit: Promise<number>;
  /** Resolves once the sync socket closes: the process has exec'd (or, in create mode, waits on the fifo). */
  done: Promise<void>;
  /** With `resizable`: sets the relayed terminal's window size. */
  resize?: (rows: number, cols: number) => void;
}

class SetupError extends Error {}

function resizer(sock: Socket): (rows: number, cols: number) => void {
  sock.on('error', () => {}); // the relay has ended
  return (rows, cols) => {
    if (sock.writable) sock.write(winsizeRecord(rows, cols));
  };
}

/**
 * The helper's exit code, from a closure of its own: the launch's closures hold the plan and the
 * caller's onPid (the spec, the record), and a monitor's ChildProcess lives as long as the
 * container, so nothing long-lived may keep them (~50 kB a container in berthd).
 */
function exitOf(helper: ChildProcess): Promise<number> {
  return new Promise<number>((resolve) => helper.on('close', (code, signal) => resolve(code ?? 128 + (signal ? 9 : 0))));
}

let sealedHelper: string | undefined;

/**
 * What monitors are started from: one sealed in-memory copy of berth-nsexec per process
 * (/proc/self/fd/N of the binding's sealedCopy, made at the first start), so that the nsexec
 * step, running from a copy no one can write, does not make one of its own (main.c,
 * CVE-2019-5736): ~1 MB copied and a second exec a container, saved. The file itself where the
 * binding lacks sealedCopy (built before it).
 */
function monitorExecutable(): string {
  if (sealedHelper === undefined) {
    const path = helperPath();
    let fd: number | undefined;
    try {
      fd = sealedCopy(path, 'berth-nsexec');
    } catch (e) {
      throw systemError(`copy ${path} to a sealed memfd: ${(e as Error).message}`, e);
    }
    sealedHelper = fd === undefined ? path : `/proc/self/fd/${fd}`;
  }
  return sealedHelper;
}

/**
 * A monitor started off the caller's thread (the binding's posix_spawn on libuv's pool: Node's
 * spawn forks berthd and blocks its only thread until the child has exec'd, ~5-8 ms a start on
 * a loaded machine). It
 * forks at once and its first process exits (--reparent), so the monitor is nobody's child to
 * reap but init's; that first process is reaped here within milliseconds. undefined where the
 * binding lacks spawnDetached (built before it).
 */
async function spawnMonitor(args: string[], env: Record<string, string>): Promise<{ sock: Socket; exit: Promise<number> } | undefined> {
  const path = helperPath();
  const s = await spawnDetached(monitorExecutable(), [path, ...args], env).catch((e: Error) => {
    throw systemError(`start ${path}: ${e.message}`, e);
  });
  if (!s) return undefined;
  const exit = new Promise<number>((resolve) => {
    const poll = () => {
      if (reap(s.pid)) resolve(0);
      else setTimeout(poll, 2).unref();
    };
    poll();
  });
  return { sock: new Socket({ fd: s.fd, readable: true, writable: true }), exit };
}

export async function launch(opts: LaunchOptions): Promise<Launched> {
  const n = opts.preserveFds ?? 0;
  const inherit = (Array.isArray(opts.stdio) ? opts.stdio : ['inherit', 'inherit', 'inherit']) as Exclude<StdioOptions, string>;
  const resizable = !opts.monitor && !!opts.resizable;
  const stdio: StdioOptions = opts.monitor
    ? ['ignore', 'ignore', 'ignore', ...Array.from({ length: n }, (_, i) => 3 + i), 'pipe']
    : [...inherit.slice(0, 3), ...Array.from({ length: n }, (_, i) => 3 + i), 'pipe', ...(resizable ? ['pipe' as const] : [])];
  const env = {
    _BERTH_SYNC_FD: String(3 + n),
    ...(resizable ? { _BERTH_RESIZE_FD: String(4 + n) } : {}),
    PATH: process.env.PATH ?? '/usr/bin:/bin',
  };
  const rc = opts.runtimeCreate;
  const after = rc ? ['--runtime-pid-file', rc.pidFile, '--', ...rc.argv] : [];
  const fast = opts.monitor && !n ? await spawnMonitor([...monitorArgs(opts.monitor), '--reparent', ...after], env) : undefined;
  if (rc && !fast) throw systemError('another OCI runtime needs a monitor started by the native binding: rebuild it (npm run install)');
  const helper = fast
    ? undefined
    : spawn(helperPath(), opts.monitor ? monitorArgs(opts.monitor) : [], { stdio, detached: !!opts.monitor, env });
  const sock = fast?.sock ?? (helper!.stdio[3 + n] as Socket);
  const resize = resizable ? resizer(helper!.stdio[4 + n] as Socket) : undefined;
  const exit = fast?.exit ?? exitOf(helper!);
  const decoder = new Decoder();
  let pid = 0;
  let ready = false;
  let error: string | undefined;
  let pidError: Error | undefined;
  let resolveDone!: () => void, rejectDone!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  awaitedLater(done);

  return new Promise<Launched>((resolve, reject) => {
    const fail = (msg: string) => {
      const e = new SetupError(msg);
      if (!ready) reject(systemError(msg, e));
      rejectDone(systemError(msg));
    };
    const onError = (e: Error) => fail(`start ${helperPath()}: ${e.message}`);
    helper?.on('error', onError);
    sock.on('data', (chunk: Buffer) => {
      for (const m of decoder.push(chunk)) {
        if (m.type === Op.MsgPid) {
          pid = Number(m.fields[0]);
          if (rc) continue; // another runtime's create has run its hooks and cgroups: the monitor waits on nothing
          Promise.resolve()
            .then(() => opts.onPid(pid))
            .then((state) => {
              sock.write(encode([rec(Op.MsgContinue, state)]));
            })
            // The process may have failed on its own meanwhile (a mount, while we joined it to
            // cgroups): its message, if one comes, is the cause; ours is the consequence.
            .catch((e: Error) => {
              pidError = e;
              sock.end();
            });
        } else if (m.type === Op.MsgReady) {
          ready = true;
          resolve({ pid, helper, exit, done, resize });
        } else if (m.type === Op.MsgError) {
          error = m.fields[0];
        }
      }
    });
    sock.once('close', () => {
      // The setup is over: its listeners (and what they hold) go.
      sock.removeAllListeners();
      helper?.off('error', onError);
      if (opts.monitor) helper?.unref(); // the monitor outlives the setup: it must not keep us running
      if (error !== undefined) fail(error);
      else if (pidError) {
        reject(pidError);
        rejectDone(pidError);
      } else if (!ready) fail('container process exited before it was set up');
      else resolveDone();
    });
    sock.on('error', () => {});
    sock.write(encode(opts.plan));
  });
}
