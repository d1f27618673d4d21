// Atomic writes, berth's one way to replace a file: a temp file beside it, written, fsync'ed
// where the file must outlive a crash of the machine, then renamed over it, so a reader sees
// the old content or the new, never a part. Temp files have one recognisable name shape, so a
// store that finds one after a crash knows it for a leftover.

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A fresh temp name beside `path`: `.<name>.tmp-<12 hex>`. */
export function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
}

export const isTempName = (name: string) => /^\..*\.tmp-[0-9a-f]{12}$/.test(name);

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

/** Replaces `path` with `data` durably (the file and its folder fsync'ed), off the event loop. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dirname(path));
}

/**
 * Replaces `path` with `data` before returning (mode 0600). `durable: false` skips the fsync,
 * for state that a crash of the machine makes moot anyway (the runtime's, under /run).
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, opts: { durable?: boolean; mode?: number } = {}): void {
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
