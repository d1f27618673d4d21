// A container's mounts from its create options: `Binds` (`src:dst[:ro]`), `Mounts` (bind,
// volume, tmpfs, image), `Tmpfs`, `VolumesFrom` and the image's `VOLUME`s (anonymous volumes).
// The plan is recorded with the container (inspect's `Mounts`) and becomes OCI mounts; the
// runtime resolves destinations inside the root. Volumes are created here, never removed but by
// `releaseVolumes`; an image mount's read-only view is a snapshot of the container's
// (`prepareImageMounts`), which goes with the container.

import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, posix } from 'node:path';
import { BerthError, errorMessage, invalid, isKind, notFound, systemError } from '../errors.js';
import { familiarString, parseReference } from '../common/reference.js';
import type { ImageStore, SnapshotIdMap, Snapshotter } from '../image/index.js';
import { MNT_DETACH, mountAsync, openBeneath, umount2Async } from '../native/binding.js';
import { MS } from '../runtime/mount-options.js';
import type { Mount as OciMount } from '../oci/runtime-spec.js';
import type { ApiMount, MountPoint } from './types.js';
import { ANONYMOUS_LABEL, type Volumes } from './volumes.js';

/** How a create asks for its mounts beyond HostConfig. */
export interface PlanOptions {
  /**
   * A read-only bind is read-only at its top mount only, as every one was before API 1.44
   * (moby's DefaultReadOnlyNonRecursive, for older clients); otherwise recursively where the
   * runtime and kernel can.
   */
  readOnlyNonRecursive?: boolean;
}

/** The subset of HostConfig that mounts read. */
export interface MountOptions {
  Binds?: string[] | null;
  Mounts?: ApiMount[] | null;
  Tmpfs?: Record<string, string> | null;
  VolumesFrom?: string[] | null;
  /** The driver of the volumes Binds and the image's (and Config's) VOLUMEs make, as dockerd takes it; not of Mounts'. */
  VolumeDriver?: string;
}

function dest(d: string | undefined, what: string): string {
  if (!d || !isAbsolute(d))
    throw invalid(`invalid mount config for type "${what}": invalid mount path: '${d ?? ''}' mount path must be absolute`);
  const n = normalize(d);
  return n.length > 1 ? n.replace(/\/$/, '') : n;
}

/** `Binds` entry: `src:dst[:opts]` or `dst` alone (an anonymous volume). */
function parseBind(spec: string): { src?: string; dst: string; ro: boolean; mode: string } {
  const parts = spec.split(':');
  if (parts.length === 1) return { dst: parts[0], ro: false, mode: '' };
  if (parts.length > 3 || !parts[0] || !parts[1]) throw invalid(`invalid volume specification: '${spec}'`);
  const opts = (parts[2] ?? '').split(',').filter(Boolean);
  for (const o of opts)
    if (!['ro', 'rw', 'z', 'Z', 'nocopy', 'rprivate', 'private', 'rslave', 'slave', 'rshared', 'shared'].includes(o))
      throw invalid(`invalid mode: ${o}`);
  return { src: parts[0], dst: parts[1], ro: opts.includes('ro'), mode: parts[2] ?? '' };
}

// The per-mount flags and the tmpfs data options moby's MergeTmpfsOptions takes (moby/sys
// mount); bind, propagation and remount options are not for a tmpfs of its own.
const TMPFS_FLAGS = new Set([
  'defaults',
  'ro',
  'rw',
  'suid',
  'nosuid',
  'dev',
  'nodev',
  'exec',
  'noexec',
  'sync',
  'async',
  'dirsync',
  'mand',
  'nomand',
  'atime',
  'noatime',
  'diratime',
  'nodiratime',
  'relatime',
  'norelatime',
  'strictatime',
  'nostrictatime',
]);
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/**
 * `TmpfsOptions.Options` (API 1.46): a flag as `[name]`, a data option as `[key, value]`, as
 * the mount(8) options they stand for. What dockerd fails the start on, in its words (moby/sys
 * mount's), berth refuses here.
 */
export function tmpfsOptions(options: string[][]): string[] {
  return options.map((o) => {
    const ok = (o.length === 1 && TMPFS_FLAGS.has(o[0])) || (o.length === 2 && TMPFS_DATA.has(o[0]) && !!o[1] && !/[,\s]/.test(o[1]));
    if (!ok) throw invalid(`invalid tmpfs option ${JSON.stringify(o)}`);
    return o.join('=');
  });
}

/** moby's read-only checks of a bind's BindOptions (its start's words; berth refuses at create). */
function readOnlyMode(
  ro: boolean,
  o: NonNullable<ApiMount['BindOptions']>,
): Pick<MountPoint, 'ReadOnlyNonRecursive' | 'ReadOnlyForceRecursive'> {
  if (!ro && o.ReadOnlyNonRecursive) throw invalid('mount options conflict: !ReadOnly && BindOptions.ReadOnlyNonRecursive');
  if (!ro && o.ReadOnlyForceRecursive) throw invalid('mount options conflict: !ReadOnly && BindOptions.ReadOnlyForceRecursive');
  if (o.ReadOnlyNonRecursive && o.ReadOnlyForceRecursive)
    throw invalid('mount options conflict: ReadOnlyNonRecursive && BindOptions.ReadOnlyForceRecursive');
  return {
    ...(o.ReadOnlyNonRecursive ? { ReadOnlyNonRecursive: true } : {}),
    ...(o.ReadOnlyForceRecursive ? { ReadOnlyForceRecursive: true } : {}),
  };
}

/**
 * Why `runtime` cannot make a bind recursively read-only (the OCI "rro" option), or undefined
 * when it can: berth-runtime can on Linux 5.12 and later (mount_setattr); berthd does not ask
 * another runtime what it supports, so it takes none to (dockerd reads its `features`).
 */
export function recursiveReadOnlyRefusal(builtin: boolean, runtime: string, kernel: string): string | undefined {
  if (!builtin) return `rro is not supported by runtime "${runtime}": berthd does not read the features of a runtime not its own`;
  const [major, minor] = kernel.split('.').map((n) => parseInt(n, 10));
  if (major < 5 || (major === 5 && minor < 12)) return `rro is not supported by the kernel ${kernel}: it needs Linux 5.12 (mount_setattr)`;
  return undefined;
}

/** O_PATH (Linux); Node does not export it. */
const O_PATH = 0o10000000;

/**
 * `VolumeOptions.Subpath` (or `ImageOptions.Subpath`) as moby checks it before anything is
 * made: a path of the volume's (image's) own (Go's filepath.IsLocal), of a named volume. The
 * words are moby's for both types.
 */
function checkSubpath(sub: string, anonymous: boolean, type = 'volume'): void {
  const bad = (why: string) => invalid(`invalid mount config for type "${type}": ${why}`);
  if (anonymous) throw bad('must not set Subpath when using anonymous volumes');
  const n = posix.normalize(sub);
  if (sub.startsWith('/') || n === '..' || n.startsWith('../')) throw bad('subpath must be a relative path within the volume');
}

/** Each mount type's own options field, in the order moby's validateExclusiveOptions checks them. */
const OPTIONS_OF: [string, keyof ApiMount][] = [
  ['bind', 'BindOptions'],
  ['volume', 'VolumeOptions'],
  ['image', 'ImageOptions'],
  ['tmpfs', 'TmpfsOptions'],
  ['cluster', 'ClusterOptions'],
];

/**
 * moby's validateExclusiveOptions where an image mount is concerned: an image mount takes no
 * other type's options, and no other type takes `ImageOptions` (dockerd's 400, its words).
 */
export function checkImageOptions(m: ApiMount, type: string): void {
  const extra =
    type === 'image'
      ? OPTIONS_OF.find(([t, f]) => t !== 'image' && m[f] != null)?.[1]
      : m.ImageOptions != null
        ? 'ImageOptions'
        : undefined;
  if (extra) throw invalid(`invalid mount config for type "${type}": field ${extra} must not be specified`);
}

/**
 * An O_PATH fd for `sub` inside the volume folder `dir`, resolved beneath it (openat2
 * RESOLVE_BENEATH): a symlink that stays inside is followed, one that leads out is refused, as
 * dockerd's safepath refuses it, in its words (400, and 404 for a path that is not there).
 */
export function openSubpath(dir: string, sub: string): number {
  try {
    return openBeneath(dir, sub, O_PATH);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EXDEV') throw invalid(`path concatenation escapes the base directory, base: ${dir}, subpath: ${sub}`);
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR')
      throw notFound(`cannot access path ${join(dir, sub)}: ${(e as Error).message.replace(/^openat2 [^:]*: /, '')}`);
    throw e;
  }
}

/**
 * Before a start: each volume subpath is resolved beneath its volume and the very file or
 * folder found is bind-mounted at `<dir>/<its index in the plan>`, the mount's source in the
 * spec, so no name is looked up again between the check and the runtime's mount (a container
 * sharing the volume cannot swap a folder on the way for a symlink out of it). `unstage` takes
 * them down once the container's mounts are made or it failed.
 */
export async function stageSubpaths(plan: MountPoint[], dir: string): Promise<void> {
  try {
    for (const [i, m] of plan.entries()) {
      if (!m.Subpath) continue;
      const fd = openSubpath(m.Source, m.Subpath);
      try {
        const target = join(dir, String(i));
        await mkdir(dir, { recursive: true, mode: 0o700 });
        if (fstatSync(fd).isDirectory()) await mkdir(target, { recursive: true });
        else await writeFile(target, '', { flag: 'a' });
        await mountAsync(`/proc/self/fd/${fd}`, target, null, MS.BIND);
        await mountAsync(null, target, null, MS.PRIVATE);
      } finally {
        closeSync(fd);
      }
    }
  } catch (e) {
    await unstageSubpaths(plan, dir);
    throw e;
  }
}

export async function unstageSubpaths(plan: MountPoint[], dir: string): Promise<void> {
  for (const [i, m] of plan.entries()) {
    if (!m.Subpath) continue;
    const target = join(dir, String(i));
    await umount2Async(target, MNT_DETACH).catch((e: NodeJS.ErrnoException) => {
      // Not staged (a start that failed before) or already taken down.
      if (e.code !== 'EINVAL' && e.code !== 'ENOENT') throw e;
    });
  }
  await rm(dir, { recursive: true, force: true });
}

/**
 * The container's mount points: user mounts first (a later one for the same destination is an
 * error, as Docker's "Duplicate mount point"), then volumes of `VolumesFrom` and the image's
 * VOLUMEs where nothing is mounted yet. Named volumes are created when missing.
 */
export function planMounts(
  hc: MountOptions,
  imageVolumes: Record<string, object> | undefined,
  volumes: Volumes,
  volumesFrom: (ref: string) => MountPoint[],
  opts: PlanOptions = {},
): MountPoint[] {
  const out: MountPoint[] = [];
  const add = (m: MountPoint) => {
    if (out.some((o) => o.Destination === m.Destination)) throw invalid(`Duplicate mount point: ${m.Destination}`);
    out.push(m);
  };
  const volume = (
    name: string | undefined,
    dst: string,
    ro: boolean,
    extra: {
      NoCopy?: boolean;
      Labels?: Record<string, string>;
      Driver?: string;
      DriverOpts?: Record<string, string> | null;
      Mode?: string;
    } = {},
  ): MountPoint => {
    const anonymous = !name;
    const v = volumes.create({
      Name: name,
      Driver: extra.Driver,
      DriverOpts: extra.DriverOpts,
      Labels: anonymous ? { [ANONYMOUS_LABEL]: '' } : extra.Labels,
    });
    return {
      Type: 'volume',
      Name: v.Name,
      Source: v.Mountpoint,
      Destination: dst,
      Driver: 'local',
      // As dockerd's inspect: the Binds entry's options as written, "z" when none (its
      // setBindModeIfNull for local volumes), whatever ReadOnly says.
      Mode: extra.Mode || 'z',
      RW: !ro,
      Propagation: '',
      ...(extra.NoCopy ? { NoCopy: true } : {}),
      ...(anonymous ? { Anonymous: true } : {}),
    };
  };
  for (const b of hc.Binds ?? []) {
    const { src, dst: d, ro, mode } = parseBind(b);
    const dst = dest(d, src && isAbsolute(src) ? 'bind' : 'volume');
    if (src && isAbsolute(src)) {
      // As Docker's -v: a missing host directory is made.
      if (!existsSync(src)) mkdirSync(src, { recursive: true, mode: 0o755 });
      add({
        Type: 'bind',
        Source: normalize(src),
        Destination: dst,
        Mode: mode,
        RW: !ro,
        Propagation: 'rprivate',
        ...(ro && opts.readOnlyNonRecursive ? { ReadOnlyNonRecursive: true } : {}),
      });
    } else {
      add(volume(src, dst, ro, { NoCopy: mode.split(',').includes('nocopy'), Driver: hc.VolumeDriver, Mode: mode }));
    }
  }
  for (const m of hc.Mounts ?? []) {
    const type = m.Type || 'volume';
    checkImageOptions(m, type);
    const dst = dest(m.Target, type);
    const ro = !!m.ReadOnly;
    if (type === 'bind') {
      if (!m.Source || !isAbsolute(m.Source))
        throw invalid(`invalid mount config for type "bind": invalid mount path: '${m.Source ?? ''}' mount path must be absolute`);
      const o = m.BindOptions ?? {};
      const roMode = readOnlyMode(ro, o);
      if (ro && opts.readOnlyNonRecursive) roMode.ReadOnlyNonRecursive = true;
      if (!existsSync(m.Source)) {
        if (!o.CreateMountpoint) throw invalid(`invalid mount config for type "bind": bind source path does not exist: ${m.Source}`);
        mkdirSync(m.Source, { recursive: true, mode: 0o755 });
      }
      add({
        Type: 'bind',
        Source: normalize(m.Source),
        Destination: dst,
        Mode: '',
        RW: !ro,
        Propagation: o.Propagation || 'rprivate',
        ...(o.NonRecursive ? { NonRecursive: true } : {}),
        ...roMode,
      });
    } else if (type === 'volume') {
      const sub = m.VolumeOptions?.Subpath;
      if (sub) checkSubpath(sub, !m.Source);
      const drv = m.VolumeOptions?.DriverConfig;
      const existed = !!m.Source && volumes.list().some((v) => v.Name === m.Source);
      const v = volume(m.Source || undefined, dst, ro, {
        NoCopy: m.VolumeOptions?.NoCopy,
        Labels: m.VolumeOptions?.Labels,
        Driver: drv?.Name,
        DriverOpts: drv?.Options,
      });
      if (sub) {
        // dockerd fails the start on a subpath not there or leading out; berth the create, so
        // no container is left (and no volume it made for nothing). The start checks again.
        try {
          closeSync(openSubpath(v.Source, sub));
        } catch (e) {
          if (!existed) volumes.removeUnwaited(v.Name!);
          // A 400 at create: a 404 from create sends the docker CLI off to pull the image.
          throw e instanceof BerthError && e.kind === 'not-found' ? invalid(e.message) : e;
        }
        v.Subpath = sub;
      }
      add(v);
    } else if (type === 'tmpfs') {
      if (m.Source) throw invalid('invalid mount config for type "tmpfs": source must not be specified');
      const data = [
        m.TmpfsOptions?.SizeBytes ? `size=${m.TmpfsOptions.SizeBytes}` : '',
        m.TmpfsOptions?.Mode ? `mode=${m.TmpfsOptions.Mode.toString(8)}` : '',
        // After the defaults (nosuid, nodev, noexec), so `exec` takes noexec away.
        ...tmpfsOptions(m.TmpfsOptions?.Options ?? []),
      ]
        .filter(Boolean)
        .join(',');
      add({ Type: 'tmpfs', Source: '', Destination: dst, Mode: '', RW: !ro, Propagation: '', TmpfsData: data });
    } else if (type === 'image') {
      if (!m.Source) throw invalid('invalid mount config for type "image": field Source must not be empty');
      const sub = m.ImageOptions?.Subpath;
      if (sub) checkSubpath(sub, false, 'image');
      // Always read-only, whatever ReadOnly says, as dockerd's (the docker CLI sends none).
      add({
        Type: 'image',
        Name: m.Source,
        Source: '',
        Destination: dst,
        Mode: '',
        RW: false,
        Propagation: 'rprivate',
        ...(sub ? { Subpath: sub } : {}),
      });
    } else {
      throw invalid(`invalid mount config: mount type unknown: "${type}"`);
    }
  }
  for (const [d, opts] of Object.entries(hc.Tmpfs ?? {})) {
    const list = opts.split(',').filter(Boolean);
    const ro = list.includes('ro');
    add({
      Type: 'tmpfs',
      Source: '',
      Destination: dest(d, 'tmpfs'),
      Mode: '',
      RW: !ro,
      Propagation: '',
      TmpfsData: list.filter((o) => o !== 'ro' && o !== 'rw').join(','),
    });
  }
  for (const ref of hc.VolumesFrom ?? []) {
    const [name, mode] = ref.split(':');
    if (mode && mode !== 'ro' && mode !== 'rw') throw invalid(`invalid mode for volumes-from: ${mode}`);
    for (const m of volumesFrom(name)) {
      // An image mount's view is the other container's, mounted while it runs only.
      if (m.Type === 'tmpfs' || m.Type === 'image' || out.some((o) => o.Destination === m.Destination)) continue;
      const rw = mode ? mode === 'rw' : m.RW;
      const { Anonymous: _a, ...shared } = m; // the other container owns its anonymous volumes
      out.push({ ...shared, RW: rw, Mode: rw ? m.Mode.replace(/^ro$/, '') : 'ro' });
    }
  }
  for (const d of Object.keys(imageVolumes ?? {})) {
    const dst = dest(d, 'volume');
    if (out.some((o) => o.Destination === dst)) continue;
    out.push(volume(undefined, dst, false, { Driver: hc.VolumeDriver }));
  }
  return out;
}

/**
 * The OCI mounts of the plan, in order (a parent before what is mounted below it).
 * `rroRefusal`: why the runtime cannot make a read-only bind recursively read-only (undefined:
 * it can), as `recursiveReadOnlyRefusal` says; a bind that must be is refused then.
 */
export function ociMounts(plan: MountPoint[], rroRefusal?: string, subpathDir?: string): OciMount[] {
  const indexed = plan.map((m, i) => ({ m, i }));
  const sorted = indexed.sort((a, b) => a.m.Destination.split('/').length - b.m.Destination.split('/').length);
  return sorted.map(({ m, i }): OciMount => {
    if (m.Type === 'tmpfs') {
      return {
        destination: m.Destination,
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'nodev', 'noexec', ...(m.RW ? [] : ['ro']), ...(m.TmpfsData ? m.TmpfsData.split(',') : [])],
      };
    }
    // dockerd 25's read-only bind: recursively read-only where it can be ("rro"; "ro" too,
    // which the top mount has either way and readers of the spec look for).
    if (m.ReadOnlyForceRecursive && rroRefusal) throw invalid(rroRefusal);
    const rro = m.Type === 'bind' && !m.RW && !m.ReadOnlyNonRecursive && !rroRefusal;
    if (m.Subpath && !subpathDir) throw invalid(`the subpath of ${m.Type} ${m.Name} needs a folder to stage it in`);
    return {
      destination: m.Destination,
      type: 'bind',
      // A subpath's source is the folder stageSubpaths mounts it at; an image's view is read-only itself (no upper dir).
      source: m.Subpath ? join(subpathDir!, String(i)) : m.Source,
      options: [m.NonRecursive ? 'bind' : 'rbind', m.RW ? 'rw' : 'ro', ...(rro ? ['rro'] : []), m.Propagation || 'rprivate'],
    };
  });
}

/** The init files' names in /etc (init-files.ts binds them there). */
const INIT_FILES = ['hostname', 'hosts', 'resolv.conf'];

/**
 * Before a start: each volume never used takes the image's content at its destination, read
 * from the container's mounted root. A destination with a symlink on its way (which could
 * point anywhere on the host) or absent in the image copies nothing. (A volume that is a mount
 * of its own took it at create: `copyUpMounted`.)
 */
export async function copyUp(plan: MountPoint[], rootfs: string, volumes: Volumes, owner?: { uid: number; gid: number }): Promise<void> {
  for (const m of plan) {
    // A subpath is mounted as it is: the image's content is not copied into it (dockerd copies it into an empty one).
    if (m.Type !== 'volume' || !m.Name || m.Subpath) continue;
    // A volume at /etc takes the mount points of the init files bound onto it (a read-only one could not have them made).
    await volumes.populate(
      m.Name,
      m.NoCopy ? undefined : safeDir(rootfs, m.Destination),
      owner,
      m.Destination === '/etc' ? INIT_FILES : [],
    );
  }
}

/**
 * At create, as dockerd's populateVolumes: each volume with options at a destination the image
 * has is mounted for the copy of the image's content into it (when it is empty) and unmounted
 * after, unless another container holds it (`holder`: the new container's ID).
 */
export async function copyUpMounted(plan: MountPoint[], rootfs: string, volumes: Volumes, holder: string): Promise<void> {
  for (const m of plan) {
    if (m.Type !== 'volume' || !m.Name || m.Subpath || m.NoCopy) continue;
    const from = safeDir(rootfs, m.Destination);
    if (from) await volumes.populateMounted(m.Name, from, `create:${holder}`);
  }
}

/** The names of the volumes the plan mounts, once each. */
function volumeNames(plan: MountPoint[]): string[] {
  return [...new Set(plan.flatMap((m) => (m.Type === 'volume' && m.Name ? [m.Name] : [])))];
}

/**
 * At a start: the container (`holder`) holds each of its volumes, so one with options is
 * mounted at its first user, as dockerd's MountPoint.Setup (its words when a mount fails, after
 * those held are let go).
 */
export async function holdVolumes(plan: MountPoint[], volumes: Volumes, holder: string, log: (msg: string) => void): Promise<void> {
  const names = volumeNames(plan);
  const held: string[] = [];
  try {
    for (const name of names) {
      await volumes.hold(name, holder);
      held.push(name);
    }
  } catch (e) {
    await letGo(held, volumes, holder, log);
    const m = plan.find((p) => p.Name === names[held.length]);
    throw systemError(`error while mounting volume '${m?.Source ?? ''}': ${errorMessage(e)}`, e);
  }
}

/** After a container's process ended (or its start failed): its holds go, the last holder's volume unmounted; failures logged. */
export async function releaseHeldVolumes(plan: MountPoint[], volumes: Volumes, holder: string, log: (msg: string) => void): Promise<void> {
  await letGo(volumeNames(plan), volumes, holder, log);
}

async function letGo(names: string[], volumes: Volumes, holder: string, log: (msg: string) => void): Promise<void> {
  for (const name of names)
    await volumes
      .release(name, holder)
      .catch((e: unknown) => log(`unmount volume ${name} (let go by ${holder.slice(0, 12)}): ${errorMessage(e)}`));
}

function safeDir(rootfs: string, dst: string): string | undefined {
  let p = rootfs;
  for (const part of dst.split('/').filter(Boolean)) {
    p = join(p, part);
    try {
      if (!lstatSync(p).isDirectory()) return undefined;
    } catch {
      return undefined;
    }
  }
  return p;
}

/** Removes the container's anonymous volumes (`rm -v`, `--rm`); a volume still used elsewhere stays. */
export async function releaseVolumes(plan: MountPoint[], volumes: Volumes, log: (msg: string) => void): Promise<void> {
  await Promise.all(
    plan
      .filter((m) => m.Anonymous && m.Name)
      .map((m) => volumes.remove(m.Name!, { force: true }).catch((e: unknown) => log(`remove volume ${m.Name}: ${(e as Error).message}`))),
  );
}

/** The snapshot key of the read-only view of the image mount at `index` in container `id`'s plan. */
export function imageMountKey(id: string, index: number): string {
  return `${id}-image-${index}`;
}

/** The container a snapshot key belongs to: the key itself, or the container of an image mount's view. */
export function snapshotOwner(key: string): string {
  return key.replace(/-image-\d+$/, '');
}

/** The snapshot keys of the container's image mounts' views. */
export function imageMountKeys(id: string, plan: MountPoint[]): string[] {
  return plan.flatMap((m, i) => (m.Type === 'image' ? [imageMountKey(id, i)] : []));
}

/**
 * At create, for each image mount: its image, which must be here (dockerd pulls none: a 404,
 * `No such image`), gets a read-only view (an overlay of its layers with no upper dir, seen
 * through the container's id maps as its root is), whose folder is the mount's source; a
 * subpath is resolved beneath it as a volume's is, so a refusal leaves nothing behind (the
 * caller takes the container apart, views with it). Started containers mount the views again
 * (`snapshots.mount`); they are unmounted when the process ends and removed with the container.
 */
export async function prepareImageMounts(
  id: string,
  plan: MountPoint[],
  store: ImageStore,
  snapshots: Snapshotter,
  idmap?: SnapshotIdMap,
): Promise<void> {
  for (const [i, m] of plan.entries()) {
    if (m.Type !== 'image') continue;
    let image;
    try {
      image = await store.resolve(m.Name!);
    } catch (e) {
      if (isKind(e, 'not-found')) throw notFound(`No such image: ${familiarOrAsGiven(m.Name!)}`);
      throw e;
    }
    const view = await snapshots.prepareView(imageMountKey(id, i), store, image.record.target.digest, idmap);
    m.Source = view.rootfs;
    m.Image = image.id;
    if (m.Subpath) {
      try {
        closeSync(openSubpath(m.Source, m.Subpath));
      } catch (e) {
        // A 400 at create (dockerd: at start), as a volume's: a 404 from create sends the docker CLI off to pull.
        throw e instanceof BerthError && e.kind === 'not-found' ? invalid(e.message) : e;
      }
    }
  }
}

/** dockerd names a missing image by its familiar name with the tag (`nope:latest`); an ID as given. */
function familiarOrAsGiven(ref: string): string {
  try {
    return familiarString(parseReference(ref));
  } catch (e) {
    if (isKind(e, 'invalid')) return ref;
    throw e;
  }
}

/**
 * The mount points inspect's and the list's `Mounts` show: as dockerd's, not the tmpfs mounts of
 * `HostConfig.Tmpfs` (they are not its MountPoints; the Mounts API's tmpfs ones are).
 */
export function shownMounts(c: { MountPoints?: MountPoint[]; HostConfig: { Tmpfs?: Record<string, string> | null } }): MountPoint[] {
  const tmpfs = new Set(Object.keys(c.HostConfig.Tmpfs ?? {}).map((d) => dest(d, 'tmpfs')));
  return (c.MountPoints ?? []).filter((m) => !(m.Type === 'tmpfs' && tmpfs.has(m.Destination)));
}

/** A mount point as inspect's `Mounts` shows it. */
export function inspectMount(m: MountPoint) {
  if (m.Type === 'image')
    return { Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation };
  return m.Type === 'volume'
    ? {
        Type: m.Type,
        Name: m.Name,
        Source: m.Source,
        Destination: m.Destination,
        Driver: m.Driver ?? 'local',
        Mode: m.Mode,
        RW: m.RW,
        Propagation: m.Propagation,
      }
    : { Type: m.Type, Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation };
}
