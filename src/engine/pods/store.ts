// Pods' records on disk: `<data-root>/pods/<id>.json`, written atomically off the event loop
// (common/atomic.ts). It keeps no policy; a record that cannot be read (a crash mid-create)
// is removed at load.

import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DurableWriter } from '../../common/atomic.js';
import { isErrno } from '../../common/errno.js';
import type { PodRecord } from './types.js';

export class PodStore {
  private readonly root: string;
  private readonly writer = new DurableWriter();

  constructor(dataRoot: string) {
    this.root = join(dataRoot, 'pods');
  }

  private path(id: string): string {
    return join(this.root, `${id}.json`);
  }

  /** Every pod recorded; `warn` hears of each unreadable record, which is removed. */
  loadAll(warn: (msg: string) => void): PodRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return [];
      throw e;
    }
    const out: PodRecord[] = [];
    for (const n of names.filter((x) => x.endsWith('.json'))) {
      try {
        out.push(JSON.parse(readFileSync(join(this.root, n), 'utf8')) as PodRecord);
      } catch (e) {
        warn(`pod record ${n} unreadable (${String(e)}): removed`);
        rmSync(join(this.root, n), { force: true });
      }
    }
    return out;
  }

  /** Resolves once the record (or a later save of it) is durable. */
  save(pod: PodRecord): Promise<void> {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    return this.writer.write(this.path(pod.Id), JSON.stringify(pod));
  }

  async remove(id: string): Promise<void> {
    await this.writer.settled(this.path(id));
    await rm(this.path(id), { force: true });
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }
}
