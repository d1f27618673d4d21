// A full data root, survivable. The writes that `stop`, `kill`, `rm`, `rmi` and the prunes make
// are small records replaced atomically (common/atomic.ts: a temp file, then a rename), so each
// needs a few new blocks before it frees the old ones; on a disk a container filled, they would
// fail, and the user could not remove that container. Rather than make every record an in-place
// overwrite (torn by a crash) berthd keeps a space reserve: `<data-root>/.reserve`, a file of a
// few MiB written with real blocks at start. A state write that meets ENOSPC releases it and is
// tried once more; the reserve is made again once there is room for it twice over (checked
// every few seconds, with a warning while it cannot be). The operations that fill disks
// (create, commit, pull, load, import) never spend it: their errors are turned into one clear
// "no space left on device" naming the data root (`spaceError`).

import { statfs } from 'node:fs/promises';
import { open, rename, rm, stat } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errorMessage } from '../errors.js';
import { errno } from './errno.js';

type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;

/** Below this much free space an ENOENT from a mkdir is taken as the disk being full (see `spaceError`). */
const NEARLY_FULL = 1 << 20;
const CHUNK = 1 << 20;

export class SpaceReserve {
  readonly path: string;
  private timer: NodeJS.Timeout | undefined;
  private making: Promise<void> | undefined;
  /** Checks that found too little room since the last warning. */
  private misses = 0;

  constructor(
    readonly root: string,
    private readonly log?: Log,
    readonly size = 8 << 20,
    private readonly retryMs = 5000,
  ) {
    this.path = join(root, '.reserve');
  }

  /** Makes the reserve unless it is there whole; where it cannot be, warns and tries again later. */
  async start(): Promise<void> {
    const have = await stat(this.path).then(
      (s) => s.blocks * 512 >= this.size,
      (e: unknown) => {
        if (errno(e) === 'ENOENT') return false;
        throw e;
      },
    );
    if (!have) await this.remake();
  }

  /**
   * Frees the reserve for a write that met ENOSPC under the data root (synchronous: one unlink,
   * for the synchronous writers too); false when there was none to free.
   */
  release(why: string): boolean {
    if (this.making) return false;
    try {
      rmSync(this.path);
    } catch (e) {
      if (errno(e) === 'ENOENT') return false;
      throw e;
    }
    this.log?.(
      'warn',
      `data root ${this.root} is full: its space reserve was spent to ${why}; it is made again once ${this.size * 2} bytes are free`,
    );
    this.schedule();
    return true;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.remake().catch((e: unknown) => this.log?.('error', `space reserve ${this.path}: ${errorMessage(e)}`));
    }, this.retryMs);
    this.timer.unref();
  }

  /** Writes the reserve (beside it first, then renamed) if twice its size is free, else tries later. */
  private async remake(): Promise<void> {
    const s = await statfs(this.root);
    if (s.bavail * s.bsize < this.size * 2) {
      if (this.misses++ % 12 === 0)
        this.log?.(
          'warn',
          `data root ${this.root} has ${s.bavail * s.bsize} bytes free: no space reserve until ${this.size * 2} are; stop and rm may fail while it is full`,
        );
      this.schedule();
      return;
    }
    const tmp = `${this.path}.tmp`;
    this.making = (async () => {
      try {
        const fh = await open(tmp, 'w', 0o600);
        try {
          const zeros = Buffer.alloc(CHUNK);
          for (let at = 0; at < this.size; at += CHUNK) await fh.write(zeros, 0, CHUNK, at);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, this.path);
        this.misses = 0;
        this.log?.('debug', `space reserve ${this.path} made (${this.size} bytes)`);
      } catch (e) {
        await rm(tmp, { force: true });
        if (errno(e) !== 'ENOSPC') throw e;
        this.log?.('warn', `data root ${this.root}: the space reserve could not be made (no space left on device); trying again`);
        this.schedule();
      }
    })();
    try {
      await this.making;
    } finally {
      this.making = undefined;
    }
  }
}

/**
 * `e` as "no space left on device" naming the data root where the disk is full: an ENOSPC, or
 * an ENOENT (a recursive mkdir reports ENOENT when a parent's mkdir failed with ENOSPC) while
 * less than 1 MiB is free. Any other error is returned as it is.
 */
export async function spaceError(e: unknown, root: string): Promise<unknown> {
  const msg = errorMessage(e);
  let full = errno(e) === 'ENOSPC' || /no space left on device|ENOSPC/i.test(msg);
  if (!full && errno(e) === 'ENOENT') {
    full = await statfs(root).then(
      (s) => s.bavail * s.bsize < NEARLY_FULL,
      () => false,
    );
  }
  return full ? new BerthError('system', `no space left on device: berthd's data root ${root} is full`, { cause: e }) : e;
}

/** Runs `fn`, its errors passed through `spaceError`. */
export async function failingClearlyWhenFull<T>(root: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw await spaceError(e, root);
  }
}
