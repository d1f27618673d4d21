// Containers' records on disk: one folder per container under `<data-root>/containers/<id>/`
// holding `container.json` (written atomically: temp file, fsync, rename), the bundle's
// `config.json`, the json-file log and the monitor's exit file. It keeps no policy.

import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../common/atomic.js';
import type { ContainerRecord } from '../types.js';

export class ContainerStore {
  readonly root: string;

  constructor(dataRoot: string) {
    this.root = join(dataRoot, 'containers');
  }

  dir(id: string): string { return join(this.root, id); }
  logPath(id: string): string { return join(this.root, id, 'container-json.log'); }
  exitPath(id: string): string { return join(this.root, id, 'exit.json'); }

  /** Every container recorded; a folder whose record is unreadable (a crash at create) is removed. */
  loadAll(): ContainerRecord[] {
    let names: string[];
    try { names = readdirSync(this.root); } catch { return []; }
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

  save(rec: ContainerRecord): void {
    const dir = this.dir(rec.Id);
    mkdirSync(dir, { recursive: true, mode: 0o710 });
    writeFileAtomicSync(join(dir, 'container.json'), JSON.stringify(rec));
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }
}
