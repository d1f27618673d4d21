// Containers' records on disk: one folder per container under `<data-root>/containers/<id>/`
// holding `container.json` (written atomically: temp file, fsync, rename), the bundle's
// `config.json`, the json-file log and the monitor's exit file. It keeps no policy. Records are
// written off the event loop (common/atomic.ts: the fsync on libuv's pool), one record's saves in
// order and batched: a save resolves once that record, or a later one, is on disk.

import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DurableWriter } from '../../common/atomic.js';
import type { ContainerRecord } from '../types.js';

export class ContainerStore {
  readonly root: string;
  private readonly writer = new DurableWriter();

  constructor(dataRoot: string) {
    this.root = join(dataRoot, 'containers');
  }

  dir(id: string): string {
    return join(this.root, id);
  }
  logPath(id: string): string {
    return join(this.root, id, 'container-json.log');
  }
  exitPath(id: string): string {
    return join(this.root, id, 'exit.json');
  }

  /** Every container recorded; a folder whose record is unreadable (a crash at create) is removed. */
  loadAll(): ContainerRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return [];
    }
    const out: ContainerRecord[] = [];
    for (const id of names) {
      try {
        out.push(JSON.parse(readFileSync(join(this.root, id, 'container.json'), 'utf8')) as ContainerRecord);
      } catch {
        rmSync(join(this.root, id), { recursive: true, force: true });
      }
    }
    return out;
  }

  /** The record as it is now is written; resolves once it (or a later save of it) is durable. */
  save(rec: ContainerRecord): Promise<void> {
    const dir = this.dir(rec.Id);
    mkdirSync(dir, { recursive: true, mode: 0o710 });
    return this.writer.write(join(dir, 'container.json'), JSON.stringify(rec));
  }

  /** The container's folder goes (log included, off the thread), after any save still being written. */
  async remove(id: string): Promise<void> {
    await this.writer.settled(join(this.dir(id), 'container.json'));
    await rm(this.dir(id), { recursive: true, force: true });
  }

  /** Resolves once every save asked for so far is on disk (berthd's shutdown). */
  flush(): Promise<void> {
    return this.writer.flush();
  }
}
