// Named and anonymous volumes of the "local" driver: one folder per volume under
// `<data-root>/volumes/<name>/` holding `_data` (what containers see) and `volume.json` (its
// metadata, written atomically). It keeps no container state: who uses a volume is asked of
// the caller (`users`), so a volume in use is never removed. It never follows a path outside
// its root. Nothing here blocks berthd's event loop for long: a record is fsync'ed off it (the
// caller awaits `durable`), and a removed volume's folder is renamed aside at once and deleted on
// the thread pool, however many files it holds.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { chown, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDir, writeFileAtomicSync } from '../common/atomic.js';
import { isErrno } from '../common/errno.js';
import { awaitedLater } from '../common/promises.js';
import { runChild } from '../native/child.js';
import { labelMatch, validateFilters } from '../common/filters.js';
import { conflict, errorMessage, invalid, notFound, systemError } from '../errors.js';
import { dirSize } from '../common/dir-size.js';

/** Docker's label on volumes made for an image's VOLUME or a `-v /dst` without a source. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** A volume as the Engine API shows it (moby's `Volume`). */
export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string> | null;
}

interface VolumeRecord extends Volume {
  /** The image's content was copied in (or the volume was used once): never copy again. */
  Populated?: boolean;
}

export interface CreateVolumeOptions {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** A volume is a folder named after it: a name is one file name at most. */
const NAME_MAX = 255;
/** A removed volume's folder while it is deleted (not a volume name: those start with a letter or digit). */
const REMOVING = '.removing-';

export class Volumes {
  readonly root: string;
  /** Volumes whose record is written but not yet durable → its fsync, which `durable` awaits. */
  private readonly syncing = new Map<string, Promise<void>>();

  /**
   * `users()`: volume name → IDs of the containers whose mounts name it; `emit`: Docker's volume
   * events; `log`: what went wrong where no request waits (a removed volume's deletion).
   */
  constructor(
    dataRoot: string,
    private readonly users: () => Map<string, string[]>,
    private readonly emit: (action: string, name: string, attributes: Record<string, string>) => void = () => {},
    private readonly log: (msg: string) => void = () => {},
  ) {
    this.root = join(dataRoot, 'volumes');
    // Folders a killed berthd was deleting.
    let names: string[] = [];
    try {
      names = readdirSync(this.root).filter((n) => n.startsWith(REMOVING));
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
    for (const n of names) this.deleteAside(join(this.root, n));
  }

  private dir(name: string): string {
    return join(this.root, name);
  }
  private metaPath(name: string): string {
    return join(this.root, name, 'volume.json');
  }

  private read(name: string): VolumeRecord {
    if (!NAME.test(name) || name.length > NAME_MAX) throw notFound(`get ${name}: no such volume`);
    try {
      return JSON.parse(readFileSync(this.metaPath(name), 'utf8')) as VolumeRecord;
    } catch {
      throw notFound(`get ${name}: no such volume`);
    }
  }

  /**
   * Replaced at once without an fsync, so the synchronous reads (get, list, a second create of
   * the name) see it; then fsync'ed, with its folder, off the event loop. Not written again: a
   * volume removed meanwhile must not be made anew by a write still under way.
   */
  private write(rec: VolumeRecord): void {
    const path = this.metaPath(rec.Name);
    const data = JSON.stringify(rec);
    writeFileAtomicSync(path, data, { durable: false });
    const p = syncFile(path);
    // Met by `durable`, which the create's caller awaits before it answers.
    awaitedLater(p);
    this.syncing.set(rec.Name, p);
    const done = () => {
      if (this.syncing.get(rec.Name) === p) this.syncing.delete(rec.Name);
    };
    p.then(done, done);
  }

  /** Resolves when the records of `names` are on disk; rejects with the error of one that could not be made so. */
  async durable(names: Iterable<string>): Promise<void> {
    await Promise.all([...names].map((n) => this.syncing.get(n)));
  }

  /**
   * The folder goes from its name at once (the name is free again, and no await comes between
   * the caller's check for users and this) and from the disk on the thread pool: resolves when
   * it is gone. A folder that could not be deleted is tried again at berthd's next start.
   */
  private discard(name: string): Promise<void> {
    const aside = join(this.root, `${REMOVING}${randomBytes(8).toString('hex')}`);
    renameSync(this.dir(name), aside);
    return rm(aside, { recursive: true, force: true }).catch((e: unknown) => {
      throw systemError(`remove ${name}: ${errorMessage(e)} (its folder ${aside} is deleted again at berthd's next start)`, e);
    });
  }

  /** A folder a killed berthd was deleting: no request waits for it. */
  private deleteAside(path: string): void {
    rm(path, { recursive: true, force: true }).catch((e: unknown) =>
      this.log(`removing ${path}, a removed volume's folder: ${errorMessage(e)}; delete it by hand`),
    );
  }

  /** Creates the volume, or returns the one of that name (as Docker does). */
  create(opts: CreateVolumeOptions = {}): Volume {
    const driver = opts.Driver || 'local';
    const name = opts.Name || randomBytes(32).toString('hex');
    // dockerd's 404 for a driver it has no plugin for (a volume of that name or not); berth
    // has the local driver only.
    if (driver !== 'local') throw notFound(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    if (opts.DriverOpts && Object.keys(opts.DriverOpts).length) {
      throw invalid(`berth's local volume driver takes no options (got ${Object.keys(opts.DriverOpts).join(', ')})`);
    }
    if (!NAME.test(name))
      throw invalid(
        `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    if (name.length > NAME_MAX)
      throw invalid(`create ${name.slice(0, 32)}…: the volume name has ${name.length} characters, berth's limit is ${NAME_MAX}`);
    if (existsSync(this.metaPath(name))) return view(this.read(name));
    const rec: VolumeRecord = {
      Name: name,
      Driver: 'local',
      Mountpoint: join(this.dir(name), '_data'),
      CreatedAt: new Date().toISOString(),
      Labels: { ...(opts.Labels ?? {}) },
      Scope: 'local',
      Options: null,
    };
    try {
      mkdirSync(join(this.dir(name), '_data'), { recursive: true, mode: 0o755 });
      this.write(rec);
    } catch (e) {
      // A volume half made is no volume: its folder goes with the failure.
      rmSync(this.dir(name), { recursive: true, force: true });
      throw e;
    }
    this.emit('create', name, { driver: 'local' });
    return view(rec);
  }

  get(name: string): Volume {
    return view(this.read(name));
  }

  list(filters: Record<string, string[]> = {}): Volume[] {
    validateFilters(filters, ['name', 'driver', 'dangling', 'label', 'label!']);
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return [];
    }
    const users = this.users();
    const out: Volume[] = [];
    for (const n of names) {
      let v: VolumeRecord;
      try {
        v = this.read(n);
      } catch {
        continue;
      }
      if (matches(v, filters, users)) out.push(view(v));
    }
    return out.sort((a, b) => a.Name.localeCompare(b.Name));
  }

  /** Refused (409) while a container uses it; `force` makes a missing volume no error. Resolves when its files are gone. */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    let rec: VolumeRecord;
    try {
      rec = this.read(name);
    } catch (e) {
      if (opts.force) return;
      throw e;
    }
    const using = this.users().get(rec.Name);
    if (using?.length) throw conflict(`remove ${rec.Name}: volume is in use - [${using.join(', ')}]`);
    const gone = this.discard(rec.Name);
    this.emit('destroy', rec.Name, { driver: rec.Driver });
    await gone;
  }

  /** A volume a create made and then gave up: removed with no caller waiting, a failure logged. */
  removeUnwaited(name: string): void {
    this.remove(name, { force: true }).catch((e: unknown) => this.log(`remove volume ${name}: ${errorMessage(e)}`));
  }

  /** Unused volumes: anonymous ones only, unless the filter `all=true` (Docker 23+). */
  async prune(filters: Record<string, string[]> = {}): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    validateFilters(filters, ['label', 'label!', 'all']);
    const all = (filters.all ?? []).some((v) => v === 'true' || v === '1');
    const { all: _a, ...rest } = filters;
    const candidates = this.list(rest).filter((v) => all || ANONYMOUS_LABEL in v.Labels);
    // Measured first: the check for users and the removal below run with no await between them.
    const sizes = await Promise.all(candidates.map((v) => dirSize(v.Mountpoint)));
    const users = this.users();
    const deleted: string[] = [];
    const gone: Promise<void>[] = [];
    let space = 0;
    for (const [i, v] of candidates.entries()) {
      if (users.get(v.Name)?.length || !existsSync(this.metaPath(v.Name))) continue;
      space += sizes[i];
      gone.push(this.discard(v.Name));
      this.emit('destroy', v.Name, { driver: v.Driver });
      deleted.push(v.Name);
    }
    await Promise.all(gone);
    this.emit('prune', '', { reclaimed: String(space) });
    return { VolumesDeleted: deleted, SpaceReclaimed: space };
  }

  /**
   * Docker's copy-up: a volume never used before and still empty takes the image's content at
   * `from` (a path in the container's mounted root whose every component was checked to be no
   * symlink). Done once per volume; the copy is a child berthd waits for without blocking.
   */
  async populate(name: string, from: string | undefined, owner?: { uid: number; gid: number }): Promise<void> {
    const rec = this.read(name);
    if (rec.Populated) return;
    const empty = readdirSync(rec.Mountpoint).length === 0;
    // A new volume of a remapped container is its root's, as dockerd makes it (the copy below keeps the image's owners, already mapped).
    if (owner && empty) await chown(rec.Mountpoint, owner.uid, owner.gid);
    if (from && empty) {
      const r = await runChild('cp', ['-a', '--no-dereference', '--', `${from}/.`, `${rec.Mountpoint}/`]).catch((e: Error) => {
        throw systemError(`copy ${from} into volume ${name}: ${errorMessage(e)}`, e);
      });
      if (r.code !== 0) throw systemError(`copy ${from} into volume ${name}: ${r.stderr.trim() || `exit status ${r.code}`}`);
    }
    rec.Populated = true;
    this.write(rec);
    await this.durable([name]);
  }
}

function view(rec: VolumeRecord): Volume {
  const { Populated: _p, ...v } = rec;
  return v;
}

function matches(v: Volume, filters: Record<string, string[]>, users: Map<string, string[]>): boolean {
  for (const [key, values] of Object.entries(filters)) {
    if (!values.length) continue;
    switch (key) {
      case 'name':
        if (!values.some((n) => v.Name.includes(n))) return false;
        break;
      case 'driver':
        if (!values.includes(v.Driver)) return false;
        break;
      case 'dangling': {
        const inUse = !!users.get(v.Name)?.length;
        if (values.some((d) => d === 'true' || d === '1') === inUse) return false;
        break;
      }
      case 'label':
        if (!values.every((l) => labelMatch(v.Labels, l))) return false;
        break;
      case 'label!':
        if (values.some((l) => labelMatch(v.Labels, l))) return false;
        break;
    }
  }
  return true;
}

/** fsync of a file and its folder on the thread pool (fsyncDir opens either kind); nothing to do for one already removed. */
async function syncFile(path: string): Promise<void> {
  try {
    await fsyncDir(path);
    await fsyncDir(dirname(path));
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
  }
}
