// The OCI runtime config of a container: the image's config, the user's create options and
// Docker's defaults (its capability set, masked and read-only /proc paths, a private /dev, a
// network namespace of its own), then the HostConfig's process, namespace and device settings.
// Pure but for reading the user tables from the root and the host's device nodes.

import type { ImageConfigConfig } from '../oci/image.js';
import { OCI_VERSION, type Spec } from '../oci/runtime-spec.js';
import { invalid } from '../errors.js';
import type { ContainerConfig, HostConfig } from './types.js';
import { homeOf, resolveUser, rootFiles, type RootFiles } from './users.js';
import { applySecurity, DEFAULT_CAPS } from './security.js';
import { ociResources } from './resources.js';
import { applyLinuxOptions } from './linux-options.js';
import { applyDevices } from './devices.js';

export { DEFAULT_CAPS } from './security.js';

export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Entrypoint and Cmd as dockerd merges the user's with the image's (its merge and
 * mergeAndVerifyConfig): a non-empty Entrypoint given drops the image's Cmd; an empty one (`[]`)
 * keeps it; `[""]` (`--entrypoint ""`) resets the image's Entrypoint.
 */
export function mergeCommand(cfg: ContainerConfig, image: ImageConfigConfig): { Entrypoint: string[] | null; Cmd: string[] | null } {
  let entrypoint = cfg.Entrypoint ?? null;
  let cmd = cfg.Cmd ?? null;
  if (!entrypoint?.length) {
    if (!cmd?.length) cmd = image.Cmd ?? null;
    if (entrypoint === null) entrypoint = image.Entrypoint ?? null;
  }
  if (entrypoint?.length === 1 && entrypoint[0] === '') entrypoint = null;
  if (!entrypoint?.length && !cmd?.length) throw invalid('No command specified');
  return { Entrypoint: entrypoint, Cmd: cmd };
}

/** The process's arguments: the merged Entrypoint, then the merged Cmd. */
export function command(cfg: ContainerConfig, image: ImageConfigConfig): string[] {
  const m = mergeCommand(cfg, image);
  return [...(m.Entrypoint ?? []), ...(m.Cmd ?? [])];
}

/** Image Env, then the user's: a later `KEY=` replaces an earlier one. */
export function mergeEnv(...lists: (string[] | null | undefined)[]): string[] {
  const out = new Map<string, string>();
  for (const list of lists) for (const e of list ?? []) out.set(e.split('=', 1)[0], e);
  return [...out.values()];
}

export interface SpecInput {
  id: string;
  rootfs: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  image: ImageConfigConfig;
  /** The root's files with the container's mounts over it (a bind-mounted /etc/passwd); default: the root alone. */
  files?: RootFiles;
  /** Where a shareable IPC mode's /dev/shm is on the host (linux-options.ts' mountShm). */
  shmDir?: string;
  /** The process's arguments fixed at create (the record's Path and Args); default: `config` merged with `image`. */
  args?: string[];
}

export function buildSpec(input: SpecInput): Spec {
  const { config: cfg, hostConfig: hc, image } = input;
  const hostname = cfg.Hostname || input.id.slice(0, 12);
  const files = input.files ?? rootFiles(input.rootfs);
  const user = resolveUser(files, cfg.User || image.User, hc.GroupAdd);
  const env = mergeEnv(image.Env ?? [DEFAULT_PATH], [`HOSTNAME=${hostname}`], cfg.Tty ? ['TERM=xterm'] : [], cfg.Env);
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  // runc sets HOME from the user's passwd entry, `/` without one, unless the env has it.
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${homeOf(files, user.uid)}`);
  const resources: NonNullable<NonNullable<Spec['linux']>['resources']> = { devices: [{ allow: false, access: 'rwm' }] };
  Object.assign(resources, ociResources(hc));
  const caps = [...DEFAULT_CAPS];
  const spec = applySecurity(
    {
      ociVersion: OCI_VERSION,
      process: {
        terminal: !!cfg.Tty,
        ...(cfg.Tty && hc.ConsoleSize?.[0] && hc.ConsoleSize[1]
          ? { consoleSize: { height: hc.ConsoleSize[0], width: hc.ConsoleSize[1] } }
          : {}),
        user,
        args: input.args ?? command(cfg, image),
        env,
        cwd: cfg.WorkingDir || image.WorkingDir || '/',
        capabilities: { bounding: caps, effective: [...caps], permitted: [...caps] },
      },
      root: { path: input.rootfs, readonly: false },
      hostname,
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
        {
          destination: '/dev/pts',
          type: 'devpts',
          source: 'devpts',
          options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
        },
        { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
        { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
        { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
        { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      ],
      linux: {
        // berth-runtime's default, said aloud: another OCI runtime (HostConfig.Runtime) puts it there too.
        cgroupsPath: `${hc.CgroupParent?.replace(/\/+$/, '') || '/berth'}/${input.id}`,
        resources,
        // A network namespace of its own with only loopback: networks come with issue 6.
        namespaces: [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }, { type: 'cgroup' }],
        maskedPaths: [...MASKED_PATHS],
        readonlyPaths: [...READONLY_PATHS],
      },
    },
    hc,
  );
  return applyDevices(applyLinuxOptions(spec, hc, input.shmDir), hc);
}
