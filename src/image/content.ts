// The content store: blobs by digest under `<root>/blobs/<alg>/<hex>`. A blob becomes visible
// only after its size and digest are verified and it is fsync'ed; until then it lives in
// `<root>/ingest/` (where a partial download waits to be resumed). Concurrent writes of one
// blob in this process share one fetch. It never decides what is in use: the image store
// does the reference counting and asks it to delete.

import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid, notFound, systemError, BerthError, withCleanup } from '../errors.js';
import { parseDigest, type Digest } from '../oci/image.js';
import { fsyncDir, isTempName } from '../common/atomic.js';
import { errno } from '../common/errno.js';
import { SmallFileCache } from '../common/file-cache.js';
import { awaitedLater } from '../common/promises.js';

/** What the store knows of a blob. */
export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** What a writer expects: the digest is required, the size optional (verified when given). */
export interface Expected {
  digest: Digest;
  size?: number;
}

/** Gives the bytes of a blob from `offset` on (the store asks for the part it lacks). */
export type BlobSource = (offset: number) => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>;

export interface IngestResult extends BlobInfo {
  /** Bytes fetched from the source by this call (0 when the blob was present). */
  fetched: number;
  /** Bytes found already in a partial download and reused. */
  resumed: number;
}

export class ContentStore {
  readonly root: string;
  private readonly inflight = new Map<Digest, Promise<IngestResult>>();
  private ready: Promise<void> | undefined;
  /** Manifests and configs, read on every container create: one stat a read (common/file-cache.ts). */
  private readonly small = new SmallFileCache();

  constructor(root: string) {
    this.root = root;
  }

  /** Creates the directories and removes temp files a crash left behind. Idempotent. */
  init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(join(this.root, 'blobs', 'sha256'), { recursive: true });
      await mkdir(join(this.root, 'ingest'), { recursive: true });
      for (const name of await readdir(join(this.root, 'ingest'))) {
        if (name.startsWith('tmp-')) await rm(join(this.root, 'ingest', name), { force: true });
      }
      for (const name of await readdir(join(this.root, 'blobs', 'sha256'))) {
        if (isTempName(name)) await rm(join(this.root, 'blobs', 'sha256', name), { force: true });
      }
    })();
    return this.ready;
  }

  /** The path of a blob (whether or not it is present). */
  path(digest: Digest): string {
    const { algorithm, encoded } = parseDigest(digest);
    return join(this.root, 'blobs', algorithm, encoded);
  }

  private ingestPath(digest: Digest): string {
    const { algorithm, encoded } = parseDigest(digest);
    return join(this.root, 'ingest', `${algorithm}-${encoded}.partial`);
  }

  async info(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      const st = await stat(this.path(digest));
      return { digest, size: st.size };
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  async has(digest: Digest): Promise<boolean> {
    return (await this.info(digest)) !== undefined;
  }

  async read(digest: Digest): Promise<Buffer> {
    try {
      return await this.small.read(this.path(digest));
    } catch (e) {
      if (errno(e) === 'ENOENT') throw notFound(`blob ${digest} not found in content store`);
      throw e;
    }
  }

  /** Reads a blob as JSON. */
  async readJSON<T>(digest: Digest): Promise<T> {
    const buf = await this.read(digest);
    try {
      return JSON.parse(buf.toString('utf8')) as T;
    } catch {
      throw invalid(`blob ${digest} is not valid JSON`);
    }
  }

  async readStream(digest: Digest, opts?: { start?: number; end?: number }): Promise<ReadStream> {
    if (!(await this.has(digest))) throw notFound(`blob ${digest} not found in content store`);
    return createReadStream(this.path(digest), opts);
  }

  /** Bytes of a partial download waiting to be resumed (0 when none). */
  async partialSize(digest: Digest): Promise<number> {
    try {
      return (await stat(this.ingestPath(digest))).size;
    } catch {
      return 0;
    }
  }

  /** Stores bytes whose digest is known (verified) or computed. */
  async put(data: Uint8Array, expected?: Expected | Digest): Promise<BlobInfo> {
    const exp: Expected =
      typeof expected === 'string'
        ? { digest: expected }
        : (expected ?? { digest: `sha256:${createHash('sha256').update(data).digest('hex')}` });
    const r = await this.ingest(exp, async function* () {
      yield data;
    });
    return { digest: r.digest, size: r.size };
  }

  /**
   * Stores a blob of known digest from `source`, unless present. A partial download left by an
   * interrupted call is resumed from where it stopped (the source is asked for `offset` on).
   * Concurrent calls for one digest share one fetch. A size or digest mismatch is `invalid`
   * and leaves nothing behind.
   */
  ingest(expected: Expected, source: BlobSource): Promise<IngestResult> {
    const { digest } = expected;
    parseDigest(digest);
    const running = this.inflight.get(digest);
    if (running) return running.then((r) => ({ ...r, fetched: 0, resumed: 0 }));
    const p = this.withLock(digest, () => this.doIngest(expected, source)).finally(() => this.inflight.delete(digest));
    this.inflight.set(digest, p);
    return p;
  }

  /**
   * Runs `fn` holding `ingest/<alg>-<hex>.lock` (created O_EXCL, holding the owner's PID), so
   * that two processes sharing a store never write one partial blob together. A lock whose
   * process is gone is taken over.
   */
  private async withLock<T>(digest: Digest, fn: () => Promise<T>): Promise<T> {
    await this.init();
    const lock = `${this.ingestPath(digest).replace(/\.partial$/, '')}.lock`;
    for (let waited = 0; ; waited++) {
      try {
        const fh = await open(lock, 'wx', 0o644);
        try {
          await fh.writeFile(String(process.pid));
        } catch (e) {
          // (A full disk has room for the file but not its PID: the lock made goes, not left empty.)
          await rm(lock, { force: true });
          throw e;
        } finally {
          await fh.close();
        }
        break;
      } catch (e) {
        if (errno(e) !== 'EEXIST') throw e;
        const pid = Number(await readFile(lock, 'utf8').catch(() => ''));
        if (pid > 0 && !alive(pid)) {
          await rm(lock, { force: true });
          continue;
        }
        if (!pid && waited > 20) {
          await rm(lock, { force: true });
          continue;
        } // empty: its writer died between open and write
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { force: true });
    }
  }

  private async doIngest(expected: Expected, source: BlobSource): Promise<IngestResult> {
    await this.init();
    const { digest, size } = expected;
    const present = await this.info(digest);
    if (present) {
      if (size !== undefined && present.size !== size) {
        throw invalid(`blob ${digest} in store has ${present.size} bytes, descriptor says ${size}`);
      }
      return { ...present, fetched: 0, resumed: 0 };
    }
    const { algorithm } = parseDigest(digest);
    const partial = this.ingestPath(digest);
    const hash = createHash(algorithm);
    let offset = 0;
    // Resume: hash what an earlier try left, then ask only for the rest.
    try {
      const st = await stat(partial);
      if (size !== undefined && st.size > size) {
        await rm(partial, { force: true });
      } else {
        for await (const chunk of createReadStream(partial)) hash.update(chunk as Buffer);
        offset = st.size;
      }
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
    }
    const resumed = offset;
    let written = offset;
    try {
      const fh = await open(partial, offset > 0 ? 'a' : 'w', 0o644);
      try {
        if (size === undefined || offset < size) {
          written = await copyInto(fh, hash, await source(offset), written, size, digest);
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (e) {
      // Bad bytes are thrown away; an interrupted fetch keeps its part for the next try; a full
      // disk gets its space back.
      if (e instanceof BerthError && e.kind === 'invalid') await rm(partial, { force: true });
      if (errno(e) === 'ENOSPC' || errno(e) === 'EDQUOT') {
        await rm(partial, { force: true });
        throw systemError(`writing blob ${digest} to ${this.root}: no space left on device`, e);
      }
      throw e;
    }
    await this.finish(partial, hash, digest, written, size);
    return { digest, size: written, fetched: written - resumed, resumed };
  }

  /** Verifies and moves a fully written ingest file into place. */
  private async finish(tmp: string, hash: Hash, digest: Digest, written: number, size: number | undefined) {
    if (size !== undefined && written !== size) {
      await rm(tmp, { force: true });
      throw invalid(`size mismatch for ${digest}: expected ${size} bytes, got ${written}`);
    }
    const { algorithm } = parseDigest(digest);
    const got = `${algorithm}:${hash.digest('hex')}`;
    if (got !== digest) {
      await rm(tmp, { force: true });
      throw invalid(`digest mismatch: expected ${digest}, got ${got}`);
    }
    const dest = this.path(digest);
    await mkdir(join(this.root, 'blobs', algorithm), { recursive: true });
    await rename(tmp, dest);
    await fsyncDir(join(this.root, 'blobs', algorithm));
  }

  /**
   * Stores a blob of known digest and size fetched as `parts` byte ranges in parallel (for
   * large layers from registries that honour Range): each range is written at its place in a
   * temp file, then the whole is hashed and verified before it becomes visible. No resume: a
   * failure removes the temp file. Shares the in-flight map with `ingest`.
   */
  ingestRanges(
    expected: Required<Expected>,
    fetchRange: (start: number, end: number) => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>,
    parts: number,
    onBytes?: (n: number) => void,
  ): Promise<IngestResult> {
    const { digest } = expected;
    parseDigest(digest);
    const running = this.inflight.get(digest);
    if (running) return running.then((r) => ({ ...r, fetched: 0, resumed: 0 }));
    const p = this.withLock(digest, () => this.doIngestRanges(expected, fetchRange, parts, onBytes)).finally(() =>
      this.inflight.delete(digest),
    );
    this.inflight.set(digest, p);
    return p;
  }

  private async doIngestRanges(
    expected: Required<Expected>,
    fetchRange: (start: number, end: number) => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>,
    parts: number,
    onBytes?: (n: number) => void,
  ): Promise<IngestResult> {
    await this.init();
    const { digest, size } = expected;
    const present = await this.info(digest);
    if (present) return { ...present, fetched: 0, resumed: 0 };
    const tmp = join(this.root, 'ingest', `tmp-${randomBytes(8).toString('hex')}`);
    try {
      const fh = await open(tmp, 'wx', 0o644);
      try {
        await fh.truncate(size);
        const n = Math.max(1, Math.min(parts, Math.ceil(size / (64 << 10)))); // parts of 64 KiB at least
        const step = Math.ceil(size / n);
        await Promise.all(
          Array.from({ length: n }, async (_, i) => {
            const start = i * step;
            const end = Math.min(size, start + step) - 1;
            if (start > end) return;
            let pos = start; // bytes received
            let at = start; // bytes written
            let parts: Uint8Array[] = [];
            const flush = async () => {
              const data = Buffer.concat(parts);
              parts = [];
              let off = 0;
              while (off < data.length) off += (await fh.write(data, off, data.length - off, at + off)).bytesWritten;
              at += data.length;
            };
            for await (const chunk of await fetchRange(start, end)) {
              if (pos + chunk.length > end + 1) throw invalid(`size mismatch for ${digest}: range ${start}-${end} got more bytes`);
              parts.push(chunk);
              pos += chunk.length;
              onBytes?.(chunk.length);
              if (pos - at >= 1 << 20) await flush();
            }
            await flush();
            if (pos !== end + 1) throw invalid(`size mismatch for ${digest}: range ${start}-${end} ended after ${pos - start} bytes`);
          }),
        );
        await fh.sync();
      } finally {
        await fh.close();
      }
      const { algorithm } = parseDigest(digest);
      const hash = createHash(algorithm);
      for await (const c of createReadStream(tmp, { highWaterMark: 1 << 20 })) hash.update(c as Buffer);
      await this.finish(tmp, hash, digest, size, size);
      return { digest, size, fetched: size, resumed: 0 };
    } catch (e) {
      await rm(tmp, { force: true });
      if (errno(e) === 'ENOSPC' || errno(e) === 'EDQUOT')
        throw systemError(`writing blob ${digest} to ${this.root}: no space left on device`, e);
      throw e;
    }
  }

  /**
   * Stores a blob of unknown digest (e.g. a layer being committed): hashes while writing and
   * names it by its sha256 at the end.
   */
  async write(source: AsyncIterable<Uint8Array>): Promise<BlobInfo> {
    await this.init();
    const tmp = join(this.root, 'ingest', `tmp-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    try {
      const fh = await open(tmp, 'wx', 0o644);
      let written = 0;
      try {
        written = await copyInto(fh, hash, source, 0, undefined, 'new blob');
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = `sha256:${hash.copy().digest('hex')}`;
      if (await this.has(digest)) {
        await rm(tmp, { force: true });
      } else {
        await this.finish(tmp, hash, digest, written, written);
      }
      return { digest, size: written };
    } catch (e) {
      await rm(tmp, { force: true });
      if (errno(e) === 'ENOSPC' || errno(e) === 'EDQUOT') throw systemError(`writing a blob to ${this.root}: no space left on device`, e);
      throw e;
    }
  }

  /** Removes a blob; `notFound` when absent. Only the image store should call this. */
  async delete(digest: Digest): Promise<void> {
    try {
      await rm(this.path(digest));
    } catch (e) {
      if (errno(e) === 'ENOENT') throw notFound(`blob ${digest} not found in content store`);
      throw e;
    }
  }

  /** Every blob present, with its size. */
  async list(): Promise<BlobInfo[]> {
    await this.init();
    const out: BlobInfo[] = [];
    for (const alg of await readdir(join(this.root, 'blobs'))) {
      for (const enc of await readdir(join(this.root, 'blobs', alg))) {
        if (isTempName(enc)) continue;
        const st = await stat(join(this.root, 'blobs', alg, enc));
        out.push({ digest: `${alg}:${enc}`, size: st.size });
      }
    }
    return out;
  }
}

/**
 * Hashes and writes `source` to `fh`. Chunks are gathered into writes of about 1 MiB, and the
 * next chunk is read while the last write is in flight, so the disk and the network overlap.
 */
async function copyInto(
  fh: FileHandle,
  hash: Hash,
  source: AsyncIterable<Uint8Array>,
  written: number,
  size: number | undefined,
  what: string,
): Promise<number> {
  const BATCH = 1 << 20;
  let pending: Promise<void> = Promise.resolve();
  let parts: Uint8Array[] = [];
  let partsLen = 0;
  const writeAll = async (data: Buffer) => {
    let off = 0;
    while (off < data.length) off += (await fh.write(data, off, data.length - off)).bytesWritten;
  };
  const flush = async () => {
    await pending;
    const data = parts.length === 1 ? Buffer.from(parts[0].buffer, parts[0].byteOffset, parts[0].length) : Buffer.concat(parts);
    parts = [];
    partsLen = 0;
    pending = writeAll(data);
    awaitedLater(pending); // at the next flush or the end
  };
  try {
    for await (const chunk of source) {
      if (size !== undefined && written + chunk.length > size) {
        throw invalid(`size mismatch for ${what}: more than the ${size} bytes the descriptor says`);
      }
      hash.update(chunk);
      parts.push(chunk);
      partsLen += chunk.length;
      written += chunk.length;
      if (partsLen >= BATCH) await flush();
    }
  } catch (e) {
    // An interrupted source: keep every byte received so that a resume asks only for the rest.
    const kept: Error[] = [];
    if (!(e instanceof BerthError && e.kind === 'invalid') && partsLen)
      await flush().catch((f: Error) => {
        kept.push(f);
      });
    await pending.catch((p: Error) => {
      if (!kept.includes(p)) kept.push(p);
    });
    throw withCleanup(e, kept);
  }
  if (partsLen) await flush();
  await pending;
  return written;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errno(e) === 'EPERM';
  }
}
