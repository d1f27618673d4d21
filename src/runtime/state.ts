// The runtime's state directory: one folder per container under --root holding state.json
// (written atomically) and, until `start`, the exec fifo. Status is derived from the kernel
// (is the pid alive, with the same start time? is the cgroup frozen?), never trusted from disk.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { conflict, invalid, notFound } from '../errors.js';
import { OCI_VERSION, type Spec, type State, type Status } from '../oci/runtime-spec.js';
import type { CgroupLayout } from './cgroups/manager.js';

export const DEFAULT_ROOT = '/run/berth/runtime';

/** What berth-runtime keeps about a container between commands. */
export interface ContainerRecord {
  id: string;
  /** The container's init, as the host sees it; 0 while creating. */
  pid: number;
  /** Field 22 of /proc/PID/stat at create: tells a reused pid from ours. */
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  config: Spec;
  cgroup: { layout: CgroupLayout; paths: Record<string, string> };
  /** Set by `run` without --detach: the container is deleted when it exits. */
  owner?: string;
  /**
   * With no mount namespace of its own (its mounts are made in the caller's): the ids of the
   * mounts under the root before create, which delete leaves.
   */
  mountsBefore?: number[];
}

const ID = /^[\w+\-.]+$/;

export function checkId(id: string): void {
  if (!id || !ID.test(id) || id === '.' || id === '..') throw invalid(`invalid container id format: ${JSON.stringify(id)}`);
}

export function pidStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

export class StateDir {
  constructor(readonly root: string = DEFAULT_ROOT) {}

  dir(id: string): string {
    checkId(id);
    return join(this.root, id);
  }

  fifo(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  // Claim, save and remove work off the thread: berthd calls them on every create and delete,
  // and a file made or renamed on a busy disk can wait on its journal.

  /** Claims the id: fails if a container by that name exists. */
  async claim(id: string): Promise<string> {
    const dir = this.dir(id);
    await mkdir(this.root, { recursive: true, mode: 0o711 });
    try {
      await mkdir(dir, { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw conflict(`container with id exists: ${id}`);
      throw e;
    }
    return dir;
  }

  async save(rec: ContainerRecord): Promise<void> {
    // Not fsync'ed: the state describes processes, which a crash of the machine ends too, and it lives under /run.
    await writeFileAtomic(join(this.dir(rec.id), 'state.json'), JSON.stringify(rec), 0o600, { durable: false });
  }

  load(id: string): ContainerRecord {
    let text: string;
    try {
      text = readFileSync(join(this.dir(id), 'state.json'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`container does not exist: ${id}`);
      throw e;
    }
    return JSON.parse(text) as ContainerRecord;
  }

  async remove(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
  }

  ids(): string[] {
    try {
      return readdirSync(this.root)
        .filter((n) => ID.test(n) && statSync(join(this.root, n)).isDirectory())
        .sort();
    } catch {
      return [];
    }
  }
}

export function alive(rec: ContainerRecord): boolean {
  return rec.pid > 0 && pidStartTime(rec.pid) === rec.pidStartTime;
}

/** As runc: a frozen cgroup is `paused` whether or not the process was started (start refuses it). */
export function deriveStatus(rec: ContainerRecord, fifoExists: boolean, frozen: () => boolean): Status {
  if (!alive(rec)) return 'stopped';
  if (frozen()) return 'paused';
  return fifoExists ? 'created' : 'running';
}

export function ociState(rec: ContainerRecord, status: Status): State {
  return {
    ociVersion: OCI_VERSION,
    id: rec.id,
    status,
    ...(status !== 'stopped' && rec.pid ? { pid: rec.pid } : {}),
    bundle: rec.bundle,
    ...(rec.config.annotations ? { annotations: rec.config.annotations } : {}),
  };
}
