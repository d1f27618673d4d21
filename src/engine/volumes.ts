// Named and anonymous volumes of the "local" driver: one folder per volume under
// `<data-root>/volumes/<name>/` holding `_data` (what containers see) and `volume.json` (its
// metadata, written atomically). It keeps no container state: who uses a volume is asked of
// the caller (`users`), so a volume in use is never removed. It never follows a path outside
// its root. Nothing here blocks berthd's event loop for long: a record is fsync'ed off it (the
// caller awaits `durable`), and a removed volume's folder is renamed aside at once and deleted on
// the thread pool, however many files it holds. A volume with options (`type`, `device`, `o`:
// volume-options.ts) is a mount of its own at `_data`, made when its first user starts and taken
// down when its last stops, as dockerd's local driver counts them; a new berthd takes the count
// over from the containers still running (`adopt`).

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { chown, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { mountEntries } from '../common/mountinfo.js';
import { fsyncDir, writeFileAtomicSync } from '../common/atomic.js';
import { isErrno } from '../common/errno.js';
import { awaitedLater, settled } from '../common/promises.js';
import { runChild } from '../native/child.js';
import { labelMatch, validateFilters } from '../common/filters.js';
import { conflict, errorMessage, invalid, notFound, systemError } from '../errors.js';
import { dirSize } from '../common/dir-size.js';
import { MNT_DETACH, umount2Async } from '../native/binding.js';
import { mountErrorText, mountVolume, needsMount, validateVolumeOptions, type Resolve } from './volume-options.js';

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

/** A volume with options while berthd knows it mounted or being mounted: who holds it, and the mount or unmount under way. */
interface Active {
  holders: Set<string>;
  mounted: boolean;
  busy: Promise<unknown>;
}

export class Volumes {
  readonly root: string;
  /** Volumes whose record is written but not yet durable → its fsync, which `durable` awaits. */
  private readonly syncing = new Map<string, Promise<void>>();
  /** Volumes with options that are mounted or have holders (the reference count of dockerd's local driver). */
  private readonly active = new Map<string, Active>();
  /** How nfs and cifs addresses are looked up (tests give their own). */
  resolve?: Resolve;

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
    if (!NAME.test(name))
      throw invalid(
        `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    if (name.length > NAME_MAX)
      throw invalid(`create ${name.slice(0, 32)}…: the volume name has ${name.length} characters, berth's limit is ${NAME_MAX}`);
    // As dockerd's store: a volume of that name is returned as it is, whatever options were asked,
    // and its create event told again, as dockerd's volume service tells one for every create
    // (`volume create` and each container create that names it).
    if (existsSync(this.metaPath(name))) {
      const v = view(this.read(name));
      this.emit('create', name, { driver: v.Driver });
      return v;
    }
    try {
      validateVolumeOptions(opts.DriverOpts);
    } catch (e) {
      throw invalid(`create ${name}: ${errorMessage(e)}`);
    }
    const rec: VolumeRecord = {
      Name: name,
      Driver: 'local',
      Mountpoint: join(this.dir(name), '_data'),
      CreatedAt: new Date().toISOString(),
      Labels: { ...(opts.Labels ?? {}) },
      Scope: 'local',
      Options: opts.DriverOpts ? { ...opts.DriverOpts } : null,
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
    // Never deleted through a mount (a bind's device would lose its files).
    if (this.active.has(rec.Name)) throw conflict(`remove ${rec.Name}: volume has active mounts`);
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
      if (users.get(v.Name)?.length || this.active.has(v.Name) || !existsSync(this.metaPath(v.Name))) continue;
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
   * symlink). Done once per volume; the copy is a child berthd waits for without blocking. A
   * volume that is a mount of its own took it at its container's create (`populateMounted`).
   * `mountPoints`: empty files the copy gets besides, where the engine binds files into the volume
   * (a volume at /etc: dockerd's copy takes its init layer's hostname, hosts and resolv.conf).
   */
  async populate(name: string, from: string | undefined, owner?: { uid: number; gid: number }, mountPoints: string[] = []): Promise<void> {
    const rec = this.read(name);
    if (rec.Populated || needsMount(rec.Options)) return;
    const empty = readdirSync(rec.Mountpoint).length === 0;
    // A new volume of a remapped container is its root's, as dockerd makes it (the copy below keeps the image's owners, already mapped).
    if (owner && empty) await chown(rec.Mountpoint, owner.uid, owner.gid);
    if (from && empty) {
      await copyTree(from, rec.Mountpoint, name);
      for (const f of mountPoints) {
        const p = join(rec.Mountpoint, f);
        // O_EXCL: whatever the image has there (a symlink too) stays.
        const made = await writeFile(p, '', { mode: 0o755, flag: 'wx' }).then(
          () => true,
          (e: unknown) => {
            if (isErrno(e, 'EEXIST')) return false;
            throw e;
          },
        );
        if (made && owner) await chown(p, owner.uid, owner.gid);
      }
    }
    rec.Populated = true;
    this.write(rec);
    await this.durable([name]);
  }

  /**
   * dockerd's copy-up into a volume with options, made at its container's create: the volume is
   * mounted for it (`holder`), takes the content only when empty, and is unmounted after unless
   * another holds it, so a tmpfs keeps none of it, as under dockerd.
   */
  async populateMounted(name: string, from: string, holder: string): Promise<void> {
    const rec = this.read(name);
    if (!needsMount(rec.Options)) return;
    await this.hold(name, holder);
    let failed: unknown;
    try {
      if (readdirSync(rec.Mountpoint).length === 0) await copyTree(from, rec.Mountpoint, name);
    } catch (e) {
      failed = e;
    }
    await this.release(name, holder).catch((e: unknown) => {
      if (!failed) throw e;
      this.log(`unmount volume ${name} after its copy failed: ${errorMessage(e)}`);
    });
    if (failed) throw failed;
  }

  /**
   * A user of the volume starts (`holder`: its container's ID): a volume with options is
   * mounted at its first holder (dockerd's words when that fails); one without has nothing to do.
   */
  hold(name: string, holder: string): Promise<void> {
    const rec = this.read(name);
    if (!needsMount(rec.Options)) return Promise.resolve();
    return this.serial(name, async (a) => {
      if (!a.mounted) {
        await mountVolume(rec.Options!, rec.Mountpoint, this.resolve);
        a.mounted = true;
      }
      a.holders.add(holder);
    });
  }

  /** A holder is done: the last one's going unmounts the volume (dockerd's words when that fails). */
  release(name: string, holder: string): Promise<void> {
    if (!this.active.has(name)) return Promise.resolve();
    return this.serial(name, async (a) => {
      a.holders.delete(holder);
      if (a.holders.size || !a.mounted) return;
      await unmountData(this.dir(name));
      a.mounted = false;
    });
  }

  /**
   * berthd's start: the volumes with options that running containers use (`holds`: volume →
   * container IDs) are counted as held, mounted as the kernel has them; one mounted that no
   * running container holds (a berthd killed between a last exit and the unmount) is unmounted.
   * Holders are counted at once; a start waits for the mount table to be read.
   */
  adopt(holds: Map<string, string[]>): Promise<void> {
    const withMounts = this.list().filter((v) => needsMount(v.Options));
    if (!withMounts.length) return Promise.resolve();
    const mounted = readFile('/proc/self/mountinfo', 'utf8').then((t) => new Set(mountEntries(t).map((e) => e.mountPoint)));
    awaitedLater(mounted);
    const done: Promise<void>[] = [];
    for (const v of withMounts) {
      const ids = holds.get(v.Name) ?? [];
      for (const id of ids) this.activeOf(v.Name).holders.add(id);
      done.push(
        this.serial(v.Name, async (a) => {
          a.mounted = (await mounted).has(v.Mountpoint);
          if (a.mounted && !a.holders.size) {
            await unmountData(this.dir(v.Name));
            a.mounted = false;
          }
        }),
      );
    }
    return Promise.all(done).then(() => undefined);
  }

  private activeOf(name: string): Active {
    let a = this.active.get(name);
    if (!a) this.active.set(name, (a = { holders: new Set(), mounted: false, busy: Promise.resolve() }));
    return a;
  }

  /** Runs `fn` after the volume's mount or unmount under way; the entry goes when nothing holds or mounts it. */
  private serial(name: string, fn: (a: Active) => Promise<void>): Promise<void> {
    const a = this.activeOf(name);
    const run = a.busy.then(() => fn(a));
    const busy = settled(run);
    a.busy = busy;
    void busy.then(() => {
      if (a.busy === busy && !a.holders.size && !a.mounted && this.active.get(name) === a) this.active.delete(name);
    });
    return run;
  }
}

/** A copy of `from`'s content into the volume folder `to`, by a child berthd waits for without blocking. */
async function copyTree(from: string, to: string, name: string): Promise<void> {
  const r = await runChild('cp', ['-a', '--no-dereference', '--', `${from}/.`, `${to}/`]).catch((e: Error) => {
    throw systemError(`copy ${from} into volume ${name}: ${errorMessage(e)}`, e);
  });
  if (r.code !== 0) throw systemError(`copy ${from} into volume ${name}: ${r.stderr.trim() || `exit status ${r.code}`}`);
}

/** moby's unmount of a volume's `_data`: lazy; one not mounted is no error. */
async function unmountData(dir: string): Promise<void> {
  const target = join(dir, '_data');
  try {
    await umount2Async(target, MNT_DETACH);
  } catch (e) {
    if (isErrno(e, 'EINVAL')) return;
    throw systemError(mountErrorText('umount', '', target, MNT_DETACH, '', e), e);
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
