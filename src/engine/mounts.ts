// A container's mounts from its create options: `Binds` (`src:dst[:ro]`), `Mounts` (bind,
// volume, tmpfs), `Tmpfs`, `VolumesFrom` and the image's `VOLUME`s (anonymous volumes). The
// plan is recorded with the container (inspect's `Mounts`) and becomes OCI mounts; the runtime
// resolves destinations inside the root. Volumes are created here, never removed but by
// `releaseVolumes`.

import { existsSync, lstatSync, mkdirSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { invalid, unsupported } from '../errors.js';
import type { Mount as OciMount } from '../oci/runtime-spec.js';
import type { ApiMount, MountPoint } from './types.js';
import { ANONYMOUS_LABEL, type Volumes } from './volumes.js';

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
function parseBind(spec: string): { src?: string; dst: string; ro: boolean } {
  const parts = spec.split(':');
  if (parts.length === 1) return { dst: parts[0], ro: false };
  if (parts.length > 3 || !parts[0] || !parts[1]) throw invalid(`invalid volume specification: '${spec}'`);
  const opts = (parts[2] ?? '').split(',').filter(Boolean);
  for (const o of opts)
    if (!['ro', 'rw', 'z', 'Z', 'nocopy', 'rprivate', 'private', 'rslave', 'slave', 'rshared', 'shared'].includes(o))
      throw invalid(`invalid mode: ${o}`);
  return { src: parts[0], dst: parts[1], ro: opts.includes('ro') };
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
    extra: { NoCopy?: boolean; Labels?: Record<string, string>; Driver?: string } = {},
  ): MountPoint => {
    const anonymous = !name;
    const v = volumes.create({ Name: name, Driver: extra.Driver, Labels: anonymous ? { [ANONYMOUS_LABEL]: '' } : extra.Labels });
    return {
      Type: 'volume',
      Name: v.Name,
      Source: v.Mountpoint,
      Destination: dst,
      Driver: 'local',
      Mode: ro ? 'ro' : 'z',
      RW: !ro,
      Propagation: '',
      ...(extra.NoCopy ? { NoCopy: true } : {}),
      ...(anonymous ? { Anonymous: true } : {}),
    };
  };
  for (const b of hc.Binds ?? []) {
    const { src, dst: d, ro } = parseBind(b);
    const dst = dest(d, src && isAbsolute(src) ? 'bind' : 'volume');
    if (src && isAbsolute(src)) {
      // As Docker's -v: a missing host directory is made.
      if (!existsSync(src)) mkdirSync(src, { recursive: true, mode: 0o755 });
      add({ Type: 'bind', Source: normalize(src), Destination: dst, Mode: ro ? 'ro' : '', RW: !ro, Propagation: 'rprivate' });
    } else {
      add(volume(src, dst, ro, { NoCopy: b.split(':')[2]?.split(',').includes('nocopy'), Driver: hc.VolumeDriver }));
    }
  }
  for (const m of hc.Mounts ?? []) {
    const type = m.Type || 'volume';
    const dst = dest(m.Target, type);
    const ro = !!m.ReadOnly;
    if (type === 'bind') {
      if (!m.Source || !isAbsolute(m.Source))
        throw invalid(`invalid mount config for type "bind": invalid mount path: '${m.Source ?? ''}' mount path must be absolute`);
      const o = m.BindOptions ?? {};
      // berth's read-only binds are read-only at their top mount only (dockerd's before API 1.44).
      if (o.ReadOnlyForceRecursive)
        throw unsupported(
          'BindOptions.ReadOnlyForceRecursive is not supported by berthd: a read-only bind is read-only at its top mount only',
        );
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
      });
    } else if (type === 'volume') {
      if (m.VolumeOptions?.Subpath) throw unsupported('VolumeOptions.Subpath is not supported by berthd: a volume is mounted whole');
      const drv = m.VolumeOptions?.DriverConfig;
      if ((drv?.Name && drv.Name !== 'local') || (drv?.Options && Object.keys(drv.Options).length))
        throw invalid(`berth's volumes use the "local" driver without options`);
      add(volume(m.Source || undefined, dst, ro, { NoCopy: m.VolumeOptions?.NoCopy, Labels: m.VolumeOptions?.Labels }));
    } else if (type === 'tmpfs') {
      if (m.Source) throw invalid('invalid mount config for type "tmpfs": source must not be specified');
      if (m.TmpfsOptions?.Options?.length)
        throw unsupported('TmpfsOptions.Options is not supported by berthd: give the size and mode as SizeBytes and Mode');
      const data = [
        m.TmpfsOptions?.SizeBytes ? `size=${m.TmpfsOptions.SizeBytes}` : '',
        m.TmpfsOptions?.Mode ? `mode=${m.TmpfsOptions.Mode.toString(8)}` : '',
      ]
        .filter(Boolean)
        .join(',');
      add({ Type: 'tmpfs', Source: '', Destination: dst, Mode: '', RW: !ro, Propagation: '', TmpfsData: data });
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
      if (m.Type === 'tmpfs' || out.some((o) => o.Destination === m.Destination)) continue;
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

/** The OCI mounts of the plan, in order (a parent before what is mounted below it). */
export function ociMounts(plan: MountPoint[]): OciMount[] {
  const sorted = [...plan].sort((a, b) => a.Destination.split('/').length - b.Destination.split('/').length);
  return sorted.map((m): OciMount => {
    if (m.Type === 'tmpfs') {
      return {
        destination: m.Destination,
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'nodev', 'noexec', ...(m.RW ? [] : ['ro']), ...(m.TmpfsData ? m.TmpfsData.split(',') : [])],
      };
    }
    return {
      destination: m.Destination,
      type: 'bind',
      source: m.Source,
      options: [m.NonRecursive ? 'bind' : 'rbind', m.RW ? 'rw' : 'ro', m.Propagation || 'rprivate'],
    };
  });
}

/**
 * Before a start: each volume never used takes the image's content at its destination, read
 * from the container's mounted root. A destination with a symlink on its way (which could
 * point anywhere on the host) or absent in the image copies nothing.
 */
export async function copyUp(plan: MountPoint[], rootfs: string, volumes: Volumes, owner?: { uid: number; gid: number }): Promise<void> {
  for (const m of plan) {
    if (m.Type !== 'volume' || !m.Name) continue;
    await volumes.populate(m.Name, m.NoCopy ? undefined : safeDir(rootfs, m.Destination), owner);
  }
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
export function releaseVolumes(plan: MountPoint[], volumes: Volumes, log: (msg: string) => void): void {
  for (const m of plan) {
    if (!m.Anonymous || !m.Name) continue;
    try {
      volumes.remove(m.Name, { force: true });
    } catch (e) {
      log(`remove volume ${m.Name}: ${(e as Error).message}`);
    }
  }
}

/** A mount point as inspect's `Mounts` shows it. */
export function inspectMount(m: MountPoint) {
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
