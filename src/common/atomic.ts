// Atomic writes, berth's one way to replace a file: a temp file beside it, written, fsync'ed
// where the file must outlive a crash of the machine, then renamed over it, so a reader sees
// the old content or the new, never a part. Temp files have one recognisable name shape, so a
// store that finds one after a crash knows it for a leftover. `DurableWriter` orders and batches
// the durable writes of one path for a daemon that saves a record on every change: while one is
// in flight, only the latest of the versions that follow is written next, and every caller of a
// superseded version is answered when the version that replaced it is on disk. A write that meets
// ENOSPC under a root with a space reserve (common/disk-full.ts) frees the reserve and is tried once
// more, so the records that stop and rm save are written on a full disk.

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errno } from './errno.js';

/** What a write may spend when its disk is full: common/disk-full.ts's SpaceReserve. */
export interface Reserve {
  readonly root: string;
  /** Frees the space; false when there was none left to free. */
  release(why: string): boolean;
}

const reserves = new Set<Reserve>();

/** Lets the writes under `r.root` spend `r` (berthd's data root); returns the undo. */
export function spendOnFull(r: Reserve): () => void {
  reserves.add(r);
  return () => {
    reserves.delete(r);
  };
}

/** True when `e` is ENOSPC and a reserve covering `path` was freed, so the write is worth a retry. */
function freedFor(path: string, e: unknown): boolean {
  if (errno(e) !== 'ENOSPC') return false;
  for (const r of reserves) if (path.startsWith(`${r.root}/`)) return r.release(`write ${path}`);
  return false;
}

// Random bytes for temp names, drawn 6 KiB at a time: randomBytes(6) per name cost berthd's
// thread a call into OpenSSL for every record it saved.
let pool = Buffer.alloc(0);
let used = 0;

/** A fresh temp name beside `path`: `.<name>.tmp-<12 hex>`. */
export function tempName(path: string): string {
  if (used + 6 > pool.length) {
    pool = randomBytes(6 << 10);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + 6);
  used += 6;
  return join(dirname(path), `.${basename(path)}.tmp-${hex}`);
}

export const isTempName = (name: string) => /^\..*\.tmp-[0-9a-f]{12}$/.test(name);

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replaces `path` with `data` off the event loop, durably (the file and its folder fsync'ed)
 * unless `durable: false`, for state that a crash of the machine makes moot anyway.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode = 0o644,
  opts: { durable?: boolean } = {},
): Promise<void> {
  const durable = opts.durable ?? true;
  try {
    await writeOnce(path, data, mode, durable);
  } catch (e) {
    if (!freedFor(path, e)) throw e;
    await writeOnce(path, data, mode, durable);
  }
}

/** The whole write in one job off the thread: `tmp` made, written, fsync'ed if `durable`, renamed over `path`, its folder fsync'ed if `durable`; `tmp` removed on a failure. */
export type OneTripWrite = (tmp: string, path: string, data: Uint8Array, mode: number, durable: boolean) => Promise<void>;

let oneTrip: OneTripWrite | undefined;

/**
 * Makes writeFileAtomic take one trip to the thread pool (the native binding's writeAtomic:
 * berthd) instead of about ten fs/promises calls, each resuming JavaScript on the caller's
 * thread. The ground floor cannot load the binding itself (DESIGN.md); the daemon hands it in.
 */
export function useOneTripWrites(write: OneTripWrite): void {
  oneTrip = write;
}

async function writeOnce(path: string, data: string | Uint8Array, mode: number, durable: boolean): Promise<void> {
  if (oneTrip) {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    try {
      await oneTrip(tempName(path), path, bytes, mode, durable);
    } catch (e) {
      // The folder is made only when missing: one mkdir a write less than below.
      if (errno(e) !== 'ENOENT') throw e;
      await mkdir(dirname(path), { recursive: true });
      await oneTrip(tempName(path), path, bytes, mode, durable);
    }
    return;
  }
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  if (durable) await fsyncDir(dirname(path));
}

/**
 * Replaces `path` with `data` before returning (mode 0600). `durable: false` skips the fsync,
 * for state that a crash of the machine makes moot anyway (the runtime's, under /run).
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, opts: { durable?: boolean; mode?: number } = {}): void {
  try {
    writeOnceSync(path, data, opts);
  } catch (e) {
    if (!freedFor(path, e)) throw e;
    writeOnceSync(path, data, opts);
  }
}

function writeOnceSync(path: string, data: string | Uint8Array, opts: { durable?: boolean; mode?: number }): void {
  const tmp = tempName(path);
  try {
    const fd = openSync(tmp, 'wx', opts.mode ?? 0o600);
    try {
      writeFileSync(fd, data);
      if (opts.durable ?? true) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

interface Pending {
  data: string;
  mode: number;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

/** Per-path ordered, coalescing durable writes (see the header). */
export class DurableWriter {
  /** Paths with a write in flight → the version to write after it, if any came. */
  private readonly next = new Map<string, Pending | undefined>();
  /** Paths with a write in flight → the chain that ends when nothing is left to write there. */
  private readonly running = new Map<string, Promise<void>>();

  /** Resolves once `data` (or a later version of the same path) is durable. */
  write(path: string, data: string, mode = 0o600): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.running.has(path)) {
        const next = this.next.get(path) ?? { data, mode, waiters: [] };
        next.data = data;
        next.mode = mode;
        next.waiters.push({ resolve, reject });
        this.next.set(path, next);
        return;
      }
      this.run(path, { data, mode, waiters: [{ resolve, reject }] });
    });
  }

  /** Resolves once nothing is being written to `path` (before removing it, so no write brings it back). */
  async settled(path: string): Promise<void> {
    while (this.running.has(path)) await this.running.get(path);
  }

  /** Resolves once every write asked for so far has ended (berthd's shutdown). */
  async flush(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }

  private run(path: string, p: Pending): void {
    this.next.set(path, undefined);
    const chain = writeFileAtomic(path, p.data, p.mode)
      .then(
        () => {
          for (const w of p.waiters) w.resolve();
        },
        (e: unknown) => {
          for (const w of p.waiters) w.reject(e);
        },
      )
      .finally(() => {
        const next = this.next.get(path);
        this.next.delete(path);
        this.running.delete(path);
        if (next) this.run(path, next);
      });
    this.running.set(path, chain);
  }
}
