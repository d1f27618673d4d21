// The HostConfig fields that become plain settings of the OCI spec, as dockerd applies them:
// Ulimits (process.rlimits), Sysctls (linux.sysctl), OomScoreAdj, ShmSize (/dev/shm's size),
// and the PID, IPC and UTS namespaces (PidMode, IpcMode, UTSMode: private, host or another
// container's). Checked at create with dockerd's words, so a refusal leaves no container.
// GroupAdd joins the process's user (users.ts' resolveUser).

import { mkdirSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { sysctlNamespace } from '../common/sysctl.js';
import { BerthError, conflict, invalid } from '../errors.js';
import { MNT_DETACH, mount, umount2 } from '../native/binding.js';
import type { POSIXRlimit, Spec } from '../oci/runtime-spec.js';
import { RLIMITS } from '../runtime/rlimits.js';
import type { HostConfig } from './types.js';

/** One `--ulimit` (Docker's `Ulimit`). */
export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

const MS_NOSUID = 0x2,
  MS_NODEV = 0x4,
  MS_NOEXEC = 0x8;

/** dockerd's /dev/shm size when ShmSize is 0 (64 MiB). */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

export type LinuxOptions = Pick<
  HostConfig,
  | 'Ulimits'
  | 'Sysctls'
  | 'OomScoreAdj'
  | 'ShmSize'
  | 'GroupAdd'
  | 'PidMode'
  | 'IpcMode'
  | 'UTSMode'
  | 'UsernsMode'
  | 'CgroupnsMode'
  | 'Annotations'
  | 'MaskedPaths'
  | 'ReadonlyPaths'
  | 'Privileged'
>;

/**
 * The fields of a create request's HostConfig (already decoded into dockerd's Go types by the
 * API server); zero values are unset, as dockerd treats them.
 */
export function linuxHostConfig(hc: Record<string, any>): LinuxOptions {
  const out: LinuxOptions = {};
  if (hc.OomScoreAdj) out.OomScoreAdj = hc.OomScoreAdj;
  if (hc.ShmSize) out.ShmSize = hc.ShmSize;
  for (const k of ['PidMode', 'IpcMode', 'UTSMode', 'UsernsMode'] as const) if (hc[k]) out[k] = hc[k];
  if (hc.GroupAdd?.length) out.GroupAdd = [...hc.GroupAdd];
  if (hc.Sysctls && Object.keys(hc.Sysctls).length) out.Sysctls = { ...hc.Sysctls };
  if (hc.CgroupnsMode) out.CgroupnsMode = hc.CgroupnsMode;
  if (hc.Annotations && Object.keys(hc.Annotations).length) out.Annotations = { ...hc.Annotations };
  // null or absent: Docker's lists; a list given (even empty) replaces them.
  if (Array.isArray(hc.MaskedPaths)) out.MaskedPaths = [...hc.MaskedPaths];
  if (Array.isArray(hc.ReadonlyPaths)) out.ReadonlyPaths = [...hc.ReadonlyPaths];
  if (hc.Ulimits?.length)
    out.Ulimits = hc.Ulimits.map((x: Partial<Ulimit>) => ({ Name: x.Name ?? '', Soft: x.Soft ?? 0, Hard: x.Hard ?? 0 }));
  return out;
}

/** `container:<ref>` → `<ref>`; undefined for other modes. */
export function joinedContainer(mode: string | undefined): string | undefined {
  return mode?.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

/**
 * `container:<name or short id>` modes → `container:<full id>`. No such container is dockerd's
 * 400 at create (a 404 would send the docker CLI off to pull the image).
 */
export function resolveJoined(o: LinuxOptions, find: (ref: string) => { Id: string }): void {
  for (const k of ['PidMode', 'IpcMode'] as const) {
    const ref = joinedContainer(o[k]);
    if (!ref) continue;
    try {
      o[k] = `container:${find(ref).Id}`;
    } catch (e) {
      throw e instanceof BerthError && e.kind === 'not-found' ? invalid(e.message) : e;
    }
  }
}

/** The donor of a `container:` namespace, as `joinNamespaces` needs it: `shmDir` is its host-side /dev/shm. */
export interface Donor {
  Id: string;
  running: boolean;
  pid: number;
  ipcMode?: string;
  shmDir: string;
}

/** The donor's pid for a PID or IPC join, or dockerd's refusal: not running, or an IPC namespace not shared. */
export function donorPid(d: Donor, what: 'PID' | 'IPC'): number {
  const why =
    !d.running || !d.pid
      ? `container ${d.Id} is not running`
      : what === 'IPC' && !['shareable', 'host'].includes(d.ipcMode ?? '')
        ? 'non-shareable IPC (hint: use IpcMode:shareable for the donor container)'
        : '';
  if (!why) return d.pid;
  throw conflict(what === 'IPC' ? `can't join IPC of container ${d.Id}: ${why}` : why);
}

/**
 * dockerd's checks of these fields at create. `hostname`: whether the user gave one (which
 * the host's UTS namespace cannot take); `network`: the container's NetworkMode.
 */
export function checkLinuxOptions(o: LinuxOptions, hostname: boolean, network: string | undefined): void {
  const pid = o.PidMode ?? '';
  if (pid !== '' && pid !== 'host' && !joinedContainer(pid)) throw invalid(`invalid PID mode: ${pid}`);
  const ipc = o.IpcMode ?? '';
  if (!['', 'none', 'private', 'shareable', 'host'].includes(ipc) && !joinedContainer(ipc)) throw invalid(`Invalid IPC mode: ${ipc}`);
  if (o.CgroupnsMode && o.CgroupnsMode !== 'private' && o.CgroupnsMode !== 'host')
    throw invalid(`invalid cgroup namespace mode: ${o.CgroupnsMode}`);
  const uts = o.UTSMode ?? '';
  if (uts !== '' && uts !== 'host') throw invalid(`invalid UTS mode: ${uts}`);
  if (uts === 'host' && hostname) throw invalid('conflicting options: hostname and the UTS mode');
  if (o.OomScoreAdj !== undefined && (o.OomScoreAdj < -1000 || o.OomScoreAdj > 1000)) {
    throw invalid(`Invalid value ${o.OomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  }
  if (o.ShmSize !== undefined && o.ShmSize < 0) throw invalid('SHM size can not be less than 0');
  for (const u of o.Ulimits ?? []) {
    if (!(`RLIMIT_${u.Name.toUpperCase()}` in RLIMITS)) throw invalid(`invalid ulimit type: ${u.Name}`);
    if (u.Soft > u.Hard) throw invalid(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
  }
  const hostNs = {
    network: network === 'host' || !!joinedContainer(network),
    ipc: ipc === 'host' || !!joinedContainer(ipc),
    uts: uts === 'host',
  };
  for (const key of Object.keys(o.Sysctls ?? {})) {
    // The Hostname field owns kernel.hostname: dockerd does not take it as a sysctl.
    const ns = key === 'kernel.hostname' ? undefined : sysctlNamespace(key);
    if (!ns) throw invalid(`sysctl ${JSON.stringify(key)} is not in a separate kernel namespace`);
    if (hostNs[ns]) throw invalid(`sysctl ${JSON.stringify(key)} not allowed in host ${ns} namespace`);
  }
}

/**
 * Applies the fields to a spec built with Docker's defaults (every namespace of its own, a
 * 64 MiB /dev/shm).
 * Namespaces joined from another container get their path at start (`joinNamespaces`).
 */
export function applyLinuxOptions(spec: Spec, o: LinuxOptions, shmDir?: string): Spec {
  const proc = spec.process!;
  const linux = (spec.linux ??= {});
  if (o.Ulimits?.length) {
    const rl: POSIXRlimit[] = o.Ulimits.map((u) => ({ type: `RLIMIT_${u.Name.toUpperCase()}`, soft: u.Soft, hard: u.Hard }));
    proc.rlimits = [...(proc.rlimits ?? []).filter((r) => !rl.some((x) => x.type === r.type)), ...rl];
  }
  if (o.Sysctls) linux.sysctl = { ...linux.sysctl, ...o.Sysctls };
  if (o.OomScoreAdj !== undefined) proc.oomScoreAdj = o.OomScoreAdj;
  const shm = (spec.mounts ?? []).findIndex((m) => m.destination === '/dev/shm');
  const drop = (type: string) => {
    linux.namespaces = (linux.namespaces ?? []).filter((n) => n.type !== type);
  };
  if (o.PidMode === 'host') drop('pid');
  if (o.CgroupnsMode === 'host') drop('cgroup');
  if (o.Annotations) spec.annotations = { ...spec.annotations, ...o.Annotations };
  if (!o.Privileged && o.MaskedPaths) linux.maskedPaths = [...o.MaskedPaths];
  if (!o.Privileged && o.ReadonlyPaths) linux.readonlyPaths = [...o.ReadonlyPaths];
  if (o.UTSMode === 'host') {
    drop('uts');
    delete spec.hostname;
  }
  if (o.IpcMode === 'host') {
    drop('ipc');
    // The host's /dev/shm, as dockerd binds it.
    if (shm >= 0) spec.mounts![shm] = { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] };
  } else if (o.IpcMode === 'none') {
    if (shm >= 0) spec.mounts!.splice(shm, 1);
  } else if (o.IpcMode === 'shareable' && shm >= 0 && shmDir) {
    // A tmpfs on the host (mounted at start, `mountShm`), so a joiner can bind the same one.
    spec.mounts![shm] = { destination: '/dev/shm', type: 'bind', source: shmDir, options: ['rbind', 'rprivate'] };
  } else if (shm >= 0 && o.ShmSize) {
    const m = spec.mounts![shm];
    m.options = [...(m.options ?? []).filter((x) => !x.startsWith('size=')), `size=${o.ShmSize}`];
  }
  return spec;
}

/**
 * Sets the paths of the namespaces a container joins from another (`container:<id>` modes)
 * to that container's process: `pidOf` answers its pid while it runs, or throws dockerd's
 * error. `/dev/shm` comes with its IPC namespace, as dockerd shares the donor's.
 */
export function joinNamespaces(spec: Spec, o: LinuxOptions, donor: (id: string) => Donor): Spec {
  const linux = (spec.linux ??= {});
  const set = (type: 'pid' | 'ipc' | 'uts', path: string) => {
    linux.namespaces = [...(linux.namespaces ?? []).filter((n) => n.type !== type), { type, path }];
  };
  const pidRef = joinedContainer(o.PidMode);
  if (pidRef) set('pid', `/proc/${donorPid(donor(pidRef), 'PID')}/ns/pid`);
  // (Only a pod's member joins another's UTS namespace: the hostname is then the donor's to set.)
  const utsRef = joinedContainer(o.UTSMode);
  if (utsRef) {
    set('uts', `/proc/${donorPid(donor(utsRef), 'PID')}/ns/uts`);
    delete spec.hostname;
  }
  const ipcRef = joinedContainer(o.IpcMode);
  if (ipcRef) {
    const d = donor(ipcRef);
    set('ipc', `/proc/${donorPid(d, 'IPC')}/ns/ipc`);
    const shm = (spec.mounts ?? []).findIndex((m) => m.destination === '/dev/shm');
    const source = d.ipcMode === 'host' ? '/dev/shm' : d.shmDir;
    if (shm >= 0) spec.mounts![shm] = { destination: '/dev/shm', type: 'bind', source, options: ['rbind', 'rprivate'] };
  }
  return spec;
}

/**
 * A shareable container's /dev/shm: a tmpfs of its ShmSize at `dir` on the host, mounted at its
 * start unless still there, unmounted when the container is removed (`unmountShm`).
 */
export function mountShm(dir: string, size = DEFAULT_SHM_SIZE): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (statSync(dir).dev !== statSync(posix.dirname(dir)).dev) return;
  mount('shm', dir, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, `mode=1777,size=${size}`);
}

export function unmountShm(dir: string): void {
  try {
    if (statSync(dir).dev === statSync(posix.dirname(dir)).dev) return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  umount2(dir, MNT_DETACH);
}
