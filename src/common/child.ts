// Programs run to completion without stalling the event loop. Node's spawn forks the calling
// thread's process and waits until the child has exec'd: measured on this 2-CPU machine with a
// berthd-sized heap, 8 ms at the median and 16 ms at p90 of the caller's thread per child, so a
// daemon that runs CNI plugins and iptables for every start stalls for all of it. Here one worker
// thread (started at first use, never keeping the process alive) spawns and waits; the event loop
// only posts the request and gets the result. For short programs whose output is read whole; a
// child whose stdio must stay connected (an exec's pipes) is not for this.
import { Worker } from 'node:worker_threads';
import { systemError } from '../errors.js';

export interface ChildResult {
  /** The exit status, or null when a signal ended it. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  /** The whole environment of the child (default: this process's). */
  env?: Record<string, string>;
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

/**
 * Runs `file` with `args` and resolves with its exit status and output, whatever the status; rejects
 * when it cannot be started (ENOENT, EACCES: the error's `code`) or its output is too large.
 */
export function runChild(file: string, args: string[], opts: ChildOptions = {}): Promise<ChildResult> {
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
