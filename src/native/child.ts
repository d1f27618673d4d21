// Programs run to completion without stalling the event loop. Node's spawn forks the calling
// process: for berthd, with a heap of a few hundred MB, that copies its page tables and
// write-protects every page, and its event-loop thread then pays a copy-on-write fault and a
// TLB flush on every CPU for each page it writes until the child has exec'd (measured under
// bench:latency: a seventh of that thread's CPU). So the binding's runProgram starts the program
// with posix_spawn, which shares the caller's memory until exec, on a thread of its own that
// also feeds its stdin, reads its output and waits for it; the event loop only gets the
// result. A binding built before runProgram falls back to a worker thread running Node's
// execFile, which spares the loop the wait for exec but not the fork. For short programs whose
// output is read whole; a child whose stdio must stay connected (an exec's pipes) is not for this.
import { Worker } from 'node:worker_threads';
import { constants } from 'node:os';
import { systemError } from '../errors.js';
import { runProgram } from './binding.js';

export interface ChildResult {
  /** The exit status, or null when a signal ended it. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  /** The whole environment of the child (default: this process's). */
  env?: Record<string, string | undefined>;
  /** Written to the child's stdin, which is then closed. */
  input?: string | Uint8Array;
  /** Output beyond this many bytes of stdout or stderr is an error (default 16 MiB). */
  maxBuffer?: number;
}

// The worker is plain CommonJS evaluated from this string, so that it runs the same from dist/
// and from the esbuild bundles, which have no file of their own for it.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { execFile } = require('node:child_process');
parentPort.on('message', (m) => {
  const child = execFile(m.file, m.args, { env: m.env, maxBuffer: m.maxBuffer, encoding: 'utf8' }, (err, stdout, stderr) => {
    if (err && typeof err.code !== 'number' && !err.signal) {
      parentPort.postMessage({ id: m.id, error: { message: err.message, code: err.code } });
      return;
    }
    parentPort.postMessage({ id: m.id, result: { code: err ? (typeof err.code === 'number' ? err.code : null) : 0, signal: err && err.signal ? err.signal : null, stdout, stderr } });
  });
  child.stdin.on('error', () => { /* the child ended before reading all its input: its exit says why */ });
  child.stdin.end(m.input === undefined ? '' : m.input);
});
`;

interface Reply {
  id: number;
  result?: ChildResult;
  error?: { message: string; code?: string };
}

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, { resolve: (r: ChildResult) => void; reject: (e: Error) => void }>();

function start(): Worker {
  const w = new Worker(WORKER, { eval: true });
  w.unref(); // idle, it keeps no process alive
  w.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
    else p.resolve(m.result!);
  });
  w.on('error', (e) => {
    // The worker itself failed (out of memory): every request in flight fails, the next starts a new one.
    worker = undefined;
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(systemError(`child-process worker: ${e.message}`, e));
    }
  });
  return w;
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/**
 * Runs `file` (looked up on the child's PATH when it has no slash) with `args` and resolves with
 * its exit status and output, whatever the status; rejects when it cannot be started (ENOENT,
 * EACCES: the error's `code`) or its output is too large (ERR_CHILD_PROCESS_STDIO_MAXBUFFER).
 */
export async function runChild(file: string, args: string[], opts: ChildOptions = {}): Promise<ChildResult> {
  const env = opts.env ?? process.env;
  const input = typeof opts.input === 'string' ? Buffer.from(opts.input) : (opts.input ?? new Uint8Array());
  const ran = await runProgram(
    file,
    [file, ...args],
    Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`])),
    input,
    opts.maxBuffer ?? 16 << 20,
  );
  if (!ran) return runInWorker(file, args, opts);
  const [status, signal, stdout, stderr] = ran;
  return {
    code: status < 0 ? null : status,
    signal: status < 0 ? (SIGNAL_NAMES.get(signal) ?? String(signal)) : null,
    stdout: stdout.toString('utf8'),
    stderr: stderr.toString('utf8'),
  };
}

/** runChild through Node's execFile on a worker thread (a binding without runProgram). */
function runInWorker(file: string, args: string[], opts: ChildOptions): Promise<ChildResult> {
  worker ??= start();
  const id = ++nextId;
  const w = worker;
  return new Promise<ChildResult>((resolve, reject) => {
    // While a request is in flight the worker must run: ref it, and unref once nothing is pending.
    w.ref();
    const done = () => {
      if (pending.size === 0) w.unref();
    };
    pending.set(id, {
      resolve: (r) => {
        resolve(r);
        done();
      },
      reject: (e) => {
        reject(e);
        done();
      },
    });
    w.postMessage({ id, file, args, env: opts.env ?? process.env, input: opts.input, maxBuffer: opts.maxBuffer ?? 16 << 20 });
  });
}
