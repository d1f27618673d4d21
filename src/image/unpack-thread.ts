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

type ToWorker = { chunk: Uint8Array } | { end: true } | { abort: string };
type FromWorker<R> = { consumed: number } | { result: R } | { error: { kind?: ErrorKind; message: string } };
/** What the worker is asked to do: unpack into `dest`, or index with `dest` the spool file. */
type Job = { dest: string; opts: UnpackOptions; index?: undefined } | { dest: string; opts?: undefined; index: IndexOptions };

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
  const worker = new Worker(new URL(import.meta.url), { workerData: { berthUnpack: job } });
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let settled = false;
  const done = new Promise<R>((resolve, reject) => {
    worker.on('message', (m: FromWorker<R>) => {
      if ('consumed' in m) {
        inFlight -= m.consumed;
        if (inFlight < IN_FLIGHT && wake) {
          const w = wake;
          wake = undefined;
          w();
        }
      } else if ('result' in m) {
        settled = true;
        resolve(m.result);
      } else {
        settled = true;
        reject(m.error.kind ? new BerthError(m.error.kind, m.error.message) : new Error(m.error.message));
      }
    });
    worker.on('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`layer unpack thread exited with code ${code}`));
    });
  });
  awaitedLater(done);
  const send = (m: ToWorker, transfer?: ArrayBuffer[]) => worker.postMessage(m, transfer);
  try {
    try {
      for await (const chunk of source) {
        if (settled) break; // the worker failed: its error is the answer
        // A stream's chunks may share one pooled buffer: hand over a copy the worker can own.
        const copy = new Uint8Array(chunk);
        inFlight += copy.length;
        send({ chunk: copy }, [copy.buffer as ArrayBuffer]);
        if (inFlight >= IN_FLIGHT)
          await Promise.race([
            new Promise<void>((r) => {
              wake = r;
            }),
            done,
          ]);
      }
      send({ end: true });
    } catch (e) {
      send({ abort: (e as Error).message });
      await ended(done); // the thread's end after the abort: its error is the abort's echo
      throw e;
    }
    return await done;
  } finally {
    await worker.terminate();
  }
}

if (!isMainThread && workerData?.berthUnpack) {
  const job = workerData.berthUnpack as Job;
  const port = parentPort!;
  const input = new PassThrough();
  port.on('message', (m: ToWorker) => {
    if ('chunk' in m) {
      const buf = Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.length);
      input.write(buf, () => port.postMessage({ consumed: buf.length } satisfies FromWorker<unknown>));
    } else if ('end' in m) {
      input.end();
    } else {
      input.destroy(new Error(m.abort));
    }
  });
  (job.index ? indexArchive(input, job.dest, job.index) : unpackLayer(input, job.dest, job.opts))
    .then(
      (result) => port.postMessage({ result } satisfies FromWorker<unknown>),
      (e: Error) =>
        port.postMessage({
          error: { kind: e instanceof BerthError ? e.kind : undefined, message: e.message },
        } satisfies FromWorker<unknown>),
    )
    .finally(() => port.close());
}
