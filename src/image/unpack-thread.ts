// A layer unpacked on a worker thread. Unpacking makes its file-system calls synchronously
// (see unpack.ts), so layers unpacked at once on the caller's thread would take turns and
// stall its event loop; on a worker each, they use every core and the caller stays free.
// The compressed bytes are handed over as they arrive, with backpressure. An archive is indexed
// (archive-index.ts) on a worker the same way.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { PassThrough, type Readable } from 'node:stream';
import { BerthError, type ErrorKind } from '../errors.js';
import { unpackLayer, type UnpackOptions, type UnpackResult } from './unpack.js';
import { indexArchive, type ArchiveIndex, type IndexOptions } from './archive-index.js';
import { awaitedLater, settled as ended } from '../common/promises.js';

/** Bytes handed to the worker and not yet taken by it: past this, the caller waits. */
const IN_FLIGHT = 8 << 20;

/** Messages of one job carry its id: a late one of an earlier job on the same worker is ignored. */
type ToWorker = { id: number } & ({ job: Job } | { chunk: Uint8Array } | { end: true } | { abort: string });
type FromWorker<R> = { id: number } & ({ consumed: number } | { result: R } | { error: { kind?: ErrorKind; message: string } });
/** What the worker is asked to do: unpack into `dest`, or index with `dest` the spool file. */
type Job = { dest: string; opts: UnpackOptions; index?: undefined } | { dest: string; opts?: undefined; index: IndexOptions };

/**
 * How long a worker whose job ended well waits for the next one before it ends. A fresh worker
 * costs ~0.3 s of start and of code not yet optimized (an index of 2,000 files: 0.4 s on a new
 * worker, 0.1 s on one that has run before), which builds and pulls in a row would pay each time;
 * a kept one holds ~20 MB (PSS) of berthd's memory, so only briefly.
 */
const IDLE_MS = 10_000;
/** The one worker kept between jobs (others end with their job). */
let spare: { worker: Worker; timer: NodeJS.Timeout } | undefined;
let jobs = 0;

function takeWorker(): Worker {
  if (!spare) return new Worker(new URL(import.meta.url), { workerData: { berthUnpack: true } });
  const { worker, timer } = spare;
  spare = undefined;
  clearTimeout(timer);
  worker.ref();
  return worker;
}

/** Keeps `worker` for the next job, unless one is kept already; an idle one does not hold the process open. */
async function keepWorker(worker: Worker): Promise<void> {
  if (spare) {
    await worker.terminate();
    return;
  }
  worker.unref();
  const timer = setTimeout(() => {
    if (spare?.worker !== worker) return;
    spare = undefined;
    void worker.terminate(); // (resolves with the exit code; it does not fail)
  }, IDLE_MS);
  timer.unref();
  spare = { worker, timer };
}

/** `unpackLayer` on a worker thread: same arguments, result and errors. */
export function unpackLayerThreaded(
  source: AsyncIterable<Uint8Array> | Readable,
  dest: string,
  opts: UnpackOptions = {},
): Promise<UnpackResult> {
  return threaded<UnpackResult>(source, { dest, opts });
}

/** `indexArchive` on a worker thread: same arguments, result and errors. */
export function indexArchiveThreaded(
  source: AsyncIterable<Uint8Array> | Readable,
  spool: string,
  opts: IndexOptions = {},
): Promise<ArchiveIndex> {
  return threaded<ArchiveIndex>(source, { dest: spool, index: opts });
}

async function threaded<R>(source: AsyncIterable<Uint8Array> | Readable, job: Job): Promise<R> {
  const worker = takeWorker();
  const id = ++jobs;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let settled = false;
  let ok = false;
  let onMessage!: (m: FromWorker<R>) => void;
  let onError!: (e: Error) => void;
  let onExit!: (code: number) => void;
  const done = new Promise<R>((resolve, reject) => {
    onMessage = (m) => {
      if (m.id !== id) return;
      if ('consumed' in m) {
        inFlight -= m.consumed;
        if (inFlight < IN_FLIGHT && wake) {
          const w = wake;
          wake = undefined;
          w();
        }
      } else if ('result' in m) {
        settled = ok = true;
        resolve(m.result);
      } else {
        settled = true;
        reject(m.error.kind ? new BerthError(m.error.kind, m.error.message) : new Error(m.error.message));
      }
    };
    onError = (e) => {
      settled = true;
      ok = false;
      reject(e);
    };
    onExit = (code) => {
      ok = false;
      if (!settled) reject(new Error(`layer unpack thread exited with code ${code}`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
  awaitedLater(done);
  const send = (m: ToWorker, transfer?: ArrayBuffer[]) => worker.postMessage(m, transfer);
  let sent = false;
  try {
    send({ id, job });
    try {
      for await (const chunk of source) {
        if (settled) break; // the worker failed: its error is the answer
        // A stream's chunks may share one pooled buffer: hand over a copy the worker can own.
        const copy = new Uint8Array(chunk);
        inFlight += copy.length;
        send({ id, chunk: copy }, [copy.buffer as ArrayBuffer]);
        if (inFlight >= IN_FLIGHT)
          await Promise.race([
            new Promise<void>((r) => {
              wake = r;
            }),
            done,
          ]);
      }
      send({ id, end: true });
      sent = true;
    } catch (e) {
      send({ id, abort: (e as Error).message });
      await ended(done); // the thread's end after the abort: its error is the abort's echo
      throw e;
    }
    return await done;
  } finally {
    worker.off('message', onMessage);
    worker.off('error', onError);
    worker.off('exit', onExit);
    // Only a worker whose job read its whole input and ended well is used again.
    if (ok && sent) await keepWorker(worker);
    else await worker.terminate();
  }
}

if (!isMainThread && workerData?.berthUnpack) {
  const port = parentPort!;
  // One job at a time: the chunks, end and abort that follow a job are its input's.
  let input: PassThrough | undefined;
  let current = 0;
  port.on('message', (m: ToWorker) => {
    const id = m.id;
    if ('job' in m) {
      const job = m.job;
      const mine = (input = new PassThrough());
      current = id;
      const finish = () => {
        if (input === mine) input = undefined; // (what it still holds goes with it)
      };
      (job.index ? indexArchive(mine, job.dest, job.index) : unpackLayer(mine, job.dest, job.opts)).finally(finish).then(
        (result) => port.postMessage({ id, result } satisfies FromWorker<unknown>),
        (e: Error) =>
          port.postMessage({
            id,
            error: { kind: e instanceof BerthError ? e.kind : undefined, message: e.message },
          } satisfies FromWorker<unknown>),
      );
      return;
    }
    if (id !== current || !input) return;
    if ('chunk' in m) {
      const buf = Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.length);
      input.write(buf, () => port.postMessage({ id, consumed: buf.length } satisfies FromWorker<unknown>));
    } else if ('end' in m) {
      input.end();
    } else if ('abort' in m) {
      input.destroy(new Error(m.abort));
    }
  });
}
