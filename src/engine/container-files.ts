// A container's files and processes from outside: top, stats, cp (stat, archive, extract),
// diff, commit and export. Works on running and stopped containers alike: a stopped one's
// snapshot is mounted for as long as an operation needs it (a stream: until it closes) and
// unmounted after; the container cannot start meanwhile. Knows nothing of HTTP.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { failingClearlyWhenFull } from '../common/disk-full.js';
import { BerthError, conflict, errorMessage, isKind } from '../errors.js';
import { isErrno } from '../common/errno.js';
import { exportRootfs, familiarString, parseReference, type ImageStore, type Snapshotter } from '../image/index.js';
import type { Mount as OciMount, Spec } from '../oci/runtime-spec.js';
import type { Runtime } from '../runtime/runtime.js';
import { archivePath, extractToDir, statPath, type ExtractOptions, type PathStat } from './archive.js';
import { dockerChange, userChanges } from './changes.js';
import { applyChanges, imageConfigOf } from './commit.js';
import { ContainerRoot, type RootMount } from './container-root.js';
import { imageMountKeys } from './mounts.js';
import type { Containers } from './containers/index.js';
import type { Events } from './events.js';
import { dockerStats, emptyStats, netDev, type DockerStats } from './stats.js';
import { top, type TopResult } from './top.js';
import type { ContainerConfig, ContainerRecord } from './types.js';
import { resolveUser } from './users.js';
import { toContainerIds, toHostIds, type IdMaps, type IdShift } from '../common/id-map.js';

export interface CommitRequest {
  /** `repo` and `tag`: the new image's name (none: an untagged image). */
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  /** Freeze the container while its layer is read (Docker's default). */
  pause?: boolean;
  /** Dockerfile instructions applied to the new image's config. */
  changes?: string[];
  /** Config fields the caller sets over the container's. */
  config?: ContainerConfig;
}

export class ContainerFiles {
  constructor(
    private readonly containers: Containers,
    private readonly snapshots: Snapshotter,
    private readonly store: ImageStore,
    private readonly runtime: Runtime,
    /** berthd's data root, named when it is full. */
    private readonly dataRoot: string,
    /** Where PUT /archive spools a checked archive (unlinked files). */
    private readonly spoolDir: string,
    private readonly log?: (level: 'warn', msg: string) => void,
    /** Where a commit's image tag event goes. */
    private readonly events?: Events,
  ) {}

  private running(rec: ContainerRecord): boolean {
    return rec.State.Status === 'running' || rec.State.Status === 'paused';
  }

  private mustRun(rec: ContainerRecord): void {
    if (!this.running(rec)) throw conflict(`Container ${rec.Id} is not running`);
  }

  /** The runtime's mounts for the container, from its bundle's config.json. */
  private async ociMounts(id: string): Promise<OciMount[]> {
    const spec = JSON.parse(await readFile(join(this.containers.bundleDir(id), 'config.json'), 'utf8')) as Spec;
    return spec.mounts ?? [];
  }

  /**
   * Runs `fn` with the container's root mounted, holding the container still (as dockerd
   * locks it): a stopped container's snapshot, and its image mounts' views, are mounted for the
   * time of `fn`, then unmounted.
   */
  private withRootfs<T>(rec: ContainerRecord, fn: (rootfs: string, upper: string) => Promise<T> | T): Promise<T> {
    return this.containers.exclusive(rec.Id, async (now) => {
      const keys = [now.Id, ...imageMountKeys(now.Id, now.MountPoints ?? [])];
      try {
        for (const key of keys) await this.snapshots.mount(key);
        const info = await this.snapshots.info(now.Id);
        return await fn(info.rootfs, info.upper);
      } finally {
        if (!this.running(now)) {
          for (const key of keys)
            await this.snapshots.unmount(key).catch((e) => this.log?.('warn', `unmount snapshot ${key.slice(0, 20)}: ${errorMessage(e)}`));
        }
      }
    });
  }

  /** A remapped container's shift of ids (its snapshot's maps, one way or the other); undefined for none. */
  private async shift(rec: ContainerRecord, way: (maps: IdMaps) => IdShift): Promise<IdShift | undefined> {
    const { idmap } = await this.snapshots.info(rec.Id);
    return idmap && way(idmap);
  }

  /**
   * The container's bind mounts (volumes, binds, init files), which its root shows over the
   * rootfs. Not the engine's /dev/shm of a shareable or shared IPC mode: dockerd's cp mounts
   * only the volumes and network files, so it reaches the root's own /dev/shm beneath.
   */
  private async binds(rec: ContainerRecord): Promise<RootMount[]> {
    const userShm = (rec.MountPoints ?? []).some((p) => p.Destination === '/dev/shm');
    return (await this.ociMounts(rec.Id))
      .filter((m) => m.destination !== '/dev/shm' || userShm)
      .filter((m) => m.source && (m.type === 'bind' || m.options?.includes('bind') || m.options?.includes('rbind')))
      .map((m) => ({ destination: m.destination, source: m.source!, readOnly: !!m.options?.includes('ro') }));
  }

  async top(ref: string, psArgs?: string): Promise<TopResult> {
    const rec = this.containers.get(ref);
    this.mustRun(rec);
    const r = await top(await this.runtime.ps(rec.Id), psArgs || undefined);
    this.containers.event(rec.Id, 'top');
    return r;
  }

  /** One stats sample (`pre`: the one before it), or Docker's empty stats for a container that is not running. */
  async stats(ref: string, pre?: DockerStats): Promise<DockerStats> {
    const rec = this.containers.get(ref);
    if (!this.running(rec)) return emptyStats(rec.Name, rec.Id);
    try {
      const c = await this.runtime.stats(rec.Id);
      const stats = dockerStats(rec.Name, rec.Id, c.cgroup, c.layout, pre);
      // The host's interfaces are not the container's: with --network host dockerd reports none.
      if (rec.HostConfig.NetworkMode !== 'host') {
        const networks = netDev(await readFile(`/proc/${rec.State.Pid}/net/dev`, 'utf8'));
        if (Object.keys(networks).length) stats.networks = networks;
      }
      return stats;
    } catch (e) {
      // It stopped meanwhile: its cgroup or /proc entry is gone, or its record says so by now.
      if (isErrno(e, 'ENOENT', 'ESRCH') || isKind(e, 'not-found') || !this.running(this.containers.get(rec.Id))) {
        return emptyStats(rec.Name, rec.Id);
      }
      throw e;
    }
  }

  async statPath(ref: string, path: string): Promise<PathStat> {
    const rec = this.containers.get(ref);
    const binds = await this.binds(rec);
    return this.withRootfs(rec, (rootfs) => statPath(new ContainerRoot(rootfs, binds), path, ref).stat);
  }

  /** What `make` returns holds a stream read from the root: the snapshot stays mounted until the stream closes. */
  private streamFromRootfs<T extends { stream: Readable }>(rec: ContainerRecord, make: (rootfs: string) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      void this.withRootfs(
        rec,
        (rootfs) =>
          new Promise<void>((release) => {
            try {
              const r = make(rootfs);
              r.stream.once('close', release);
              resolve(r);
            } catch (e) {
              reject(e);
              release();
            }
          }),
      ).catch(reject);
    });
  }

  /** A tar of `path` in the container, with its stat. */
  async archive(ref: string, path: string): Promise<{ stat: PathStat; stream: Readable }> {
    const rec = this.containers.get(ref);
    const binds = await this.binds(rec);
    const ids = await this.shift(rec, toContainerIds);
    const r = await this.streamFromRootfs(rec, (rootfs) => archivePath(new ContainerRoot(rootfs, binds), path, ref, ids));
    this.containers.event(rec.Id, 'archive-path');
    return r;
  }

  async extract(
    ref: string,
    path: string,
    source: Readable,
    opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {},
  ): Promise<void> {
    const rec = this.containers.get(ref);
    const binds = await this.binds(rec);
    await this.withRootfs(rec, async (rootfs) => {
      const o: ExtractOptions = {
        noOverwriteDirNonDir: opts.noOverwriteDirNonDir,
        readonlyRootfs: !!rec.HostConfig.ReadonlyRootfs,
        spoolDir: this.spoolDir,
        ids: await this.shift(rec, toHostIds),
      };
      if (opts.copyUIDGID && rec.Config.User) o.chown = resolveUser(rootfs, rec.Config.User);
      await extractToDir(new ContainerRoot(rootfs, binds), path, ref, source, o);
    });
    this.containers.event(rec.Id, 'extract-to-dir');
  }

  private async userChanges(rec: ContainerRecord, upper: string) {
    return userChanges(
      await this.snapshots.diff(rec.Id),
      (await this.ociMounts(rec.Id)).map((m) => m.destination),
      upper,
    );
  }

  /** Paths the engine made in the container's root for its mounts (left out of any layer made from it). */
  async engineMade(ref: string): Promise<Set<string>> {
    const rec = this.containers.get(ref);
    return (await this.userChanges(rec, (await this.snapshots.info(rec.Id)).upper)).engineMade;
  }

  async changes(ref: string): Promise<{ Path: string; Kind: 0 | 1 | 2 }[]> {
    const rec = this.containers.get(ref);
    return this.withRootfs(rec, async (_rootfs, upper) => (await this.userChanges(rec, upper)).changes.map(dockerChange));
  }

  /** A new image from the container's writable layer; returns its ID (the config digest). */
  async commit(ref: string, req: CommitRequest = {}): Promise<string> {
    const rec = this.containers.get(ref);
    const config = applyChanges(imageConfigOf({ ...rec.Config, ...definedFields(req.config ?? {}) }), req.changes ?? []);
    return failingClearlyWhenFull(this.dataRoot, () =>
      this.withRootfs(rec, async (_rootfs, upper) => {
        // Frozen as dockerd's commit pauses it, with its pause and unpause events.
        const freeze = req.pause !== false && rec.State.Status === 'running';
        if (freeze) {
          await this.runtime.pause(rec.Id);
          this.containers.event(rec.Id, 'pause');
        }
        try {
          const { engineMade } = await this.userChanges(rec, upper);
          const reference = req.repo ? `${req.repo}:${req.tag || 'latest'}` : undefined;
          // The docker 28 CLI sends the repository fully qualified; dockerd's events name it familiar.
          const familiar = reference ? familiarString(parseReference(reference)) : '';
          const r = await this.snapshots.commit(rec.Id, this.store, {
            reference,
            author: req.author,
            comment: req.comment,
            config,
            createdBy: (rec.Config.Cmd ?? []).join(' '),
            exclude: (p) => engineMade.has(p),
          });
          const id = (await this.store.readManifest(r.manifest.digest)).config.digest;
          if (familiar) this.events?.emit('image', 'tag', id, { ...config.Labels, name: familiar });
          this.containers.event(rec.Id, 'commit', { comment: req.comment ?? '', imageID: id, imageRef: familiar });
          return id;
        } finally {
          if (freeze) {
            await this.runtime.resume(rec.Id).then(
              () => this.containers.event(rec.Id, 'unpause'),
              (e) => {
                // A container that exited meanwhile has nothing to thaw.
                if (!(e instanceof BerthError && (e.kind === 'conflict' || e.kind === 'not-found')))
                  this.log?.('warn', `resume ${rec.Id.slice(0, 12)} after commit: ${errorMessage(e)}`);
              },
            );
          }
        }
      }),
    );
  }

  /** A tar of the container's root file system (without its volumes' content, as Docker). */
  async export(ref: string): Promise<Readable> {
    const rec = this.containers.get(ref);
    const ids = await this.shift(rec, toContainerIds);
    const { stream } = await this.streamFromRootfs(rec, (rootfs) => ({ stream: exportRootfs(rootfs, ids) }));
    this.containers.event(rec.Id, 'export');
    return stream;
  }
}

/** The fields of a caller's config that it set (non-empty), for merging over the container's. */
function definedFields(c: ContainerConfig): ContainerConfig {
  return Object.fromEntries(
    Object.entries(c).filter(
      ([, v]) =>
        v !== undefined &&
        v !== null &&
        v !== '' &&
        !(Array.isArray(v) && v.length === 0) &&
        !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0),
    ),
  ) as ContainerConfig;
}
