// A CRI ContainerConfig as the engine's create arguments (Docker's Config and HostConfig, which
// the engine speaks): command and args, env, mounts, devices, resources, the security context,
// the namespaces against its pod's, and its log in the CRI format at kubelet's log path. Names
// follow dockershim's (k8s_<container>_<pod>_<namespace>_<uid>_<attempt>). Pure: unit-tested beside.

import { join } from 'node:path';
import type { ApiMount, ContainerConfig as EngineConfig, HostConfig, PodRecord } from '../engine/index.js';
import { invalid } from '../errors.js';
import { isUnset, refuseUnapplied, type Applied } from './fields.js';
import { criLabels } from './labels.js';
import { NamespaceMode, ProfileType, SECCOMP_PATHS, type NamespaceOption, type PodSandboxMetadata } from './sandbox-config.js';

export interface LinuxContainerResources {
  cpu_period?: string;
  cpu_quota?: string;
  cpu_shares?: string;
  memory_limit_in_bytes?: string;
  oom_score_adj?: string;
  cpuset_cpus?: string;
  cpuset_mems?: string;
  hugepage_limits?: { page_size?: string; limit?: string }[];
  memory_swap_limit_in_bytes?: string;
}

export interface CriContainerConfig {
  metadata?: { name?: string; attempt?: number };
  image?: { image?: string; annotations?: Record<string, string> };
  command?: string[];
  args?: string[];
  working_dir?: string;
  envs?: { key?: string; value?: string }[];
  mounts?: { container_path?: string; host_path?: string; readonly?: boolean; propagation?: number }[];
  devices?: { container_path?: string; host_path?: string; permissions?: string }[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  log_path?: string;
  stdin?: boolean;
  stdin_once?: boolean;
  tty?: boolean;
  linux?: {
    resources?: LinuxContainerResources;
    security_context?: {
      capabilities?: { add_capabilities?: string[]; drop_capabilities?: string[] };
      privileged?: boolean;
      namespace_options?: NamespaceOption;
      run_as_user?: { value?: string };
      run_as_group?: { value?: string };
      run_as_username?: string;
      readonly_rootfs?: boolean;
      supplemental_groups?: string[];
      no_new_privs?: boolean;
      masked_paths?: string[];
      readonly_paths?: string[];
      seccomp?: { profile_type?: number; localhost_ref?: string };
      seccomp_profile_path?: string;
    };
  };
}

/**
 * Hugepage limits are applied only as kubelet's "none asked" (a zero limit for each page size it
 * knows, sent with every container): berth sets no hugetlb limits, so a real one is refused.
 */
export const RESOURCES: Applied = {
  cpu_period: true,
  cpu_quota: true,
  cpu_shares: true,
  memory_limit_in_bytes: true,
  oom_score_adj: true,
  cpuset_cpus: true,
  cpuset_mems: true,
  hugepage_limits: { page_size: true },
  memory_swap_limit_in_bytes: true,
};

const CONTAINER: Applied = {
  metadata: true,
  image: { image: true, annotations: true },
  command: true,
  args: true,
  working_dir: true,
  envs: true,
  mounts: { container_path: true, host_path: true, readonly: true, propagation: true },
  devices: true,
  labels: true,
  annotations: true,
  log_path: true,
  stdin: true,
  stdin_once: true,
  tty: true,
  linux: {
    resources: RESOURCES,
    security_context: {
      capabilities: { add_capabilities: true, drop_capabilities: true },
      privileged: true,
      namespace_options: { network: true, pid: true, ipc: true, target_id: true },
      run_as_user: true,
      run_as_group: true,
      run_as_username: true,
      readonly_rootfs: true,
      supplemental_groups: true,
      no_new_privs: true,
      masked_paths: true,
      readonly_paths: true,
      seccomp: { profile_type: true, localhost_ref: true },
      seccomp_profile_path: true,
    },
  },
};

const PROPAGATION = ['', 'rslave', 'rshared'];
const num = (v: string | undefined) => (v ? Number(v) : undefined);

/** The engine's resource fields of CRI's LinuxContainerResources (CreateContainer and UpdateContainerResources). */
export function resourcesOf(r: LinuxContainerResources | undefined, field: string): Partial<HostConfig> {
  if (!r) return {};
  for (const [i, h] of (r.hugepage_limits ?? []).entries())
    if (h.limit && h.limit !== '0') throw invalid(`berthd does not apply ${field}.hugepage_limits[${i}].limit (it sets no hugetlb limits)`);
  const out: Partial<HostConfig> = {
    CpuPeriod: num(r.cpu_period),
    CpuQuota: num(r.cpu_quota),
    CpuShares: num(r.cpu_shares),
    Memory: num(r.memory_limit_in_bytes),
    MemorySwap: num(r.memory_swap_limit_in_bytes),
    OomScoreAdj: num(r.oom_score_adj),
    CpusetCpus: r.cpuset_cpus || undefined,
    CpusetMems: r.cpuset_mems || undefined,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

export function containerName(m: { name?: string; attempt?: number }, pod: PodSandboxMetadata): string {
  return `k8s_${m.name}_${pod.name}_${pod.namespace}_${pod.uid}_${m.attempt ?? 0}`;
}

export interface ContainerCreate {
  config: EngineConfig;
  hostConfig: HostConfig;
  name: string;
  /** A Localhost seccomp profile's file on the node, for the caller to read and pass as `seccomp=<JSON>`. */
  seccompFile?: string;
}

/**
 * The create arguments of `c` in `pod` (whose namespaces, from engine.pods, decide what the
 * container may ask: kubelet repeats the sandbox's modes, and a mode the pod does not match is refused).
 */
export function containerCreate(
  c: CriContainerConfig | undefined,
  pod: PodRecord,
  podMeta: PodSandboxMetadata,
  logDirectory: string | undefined,
): ContainerCreate {
  if (!c) throw invalid('CreateContainer: config is required');
  refuseUnapplied('CreateContainer', { config: c }, { config: CONTAINER });
  if (!c.metadata?.name) throw invalid('CreateContainer: config.metadata.name is required');
  if (!c.image?.image) throw invalid('CreateContainer: config.image.image is required');
  const sc = c.linux?.security_context ?? {};
  const hc: HostConfig = {
    ...resourcesOf(c.linux?.resources, 'config.linux.resources'),
    Privileged: sc.privileged || undefined,
    ReadonlyRootfs: sc.readonly_rootfs || undefined,
    CapAdd: sc.capabilities?.add_capabilities?.length ? sc.capabilities.add_capabilities : undefined,
    CapDrop: sc.capabilities?.drop_capabilities?.length ? sc.capabilities.drop_capabilities : undefined,
    GroupAdd: sc.supplemental_groups?.length ? sc.supplemental_groups.map(String) : undefined,
    MaskedPaths: sc.masked_paths?.length ? sc.masked_paths : undefined,
    ReadonlyPaths: sc.readonly_paths?.length ? sc.readonly_paths : undefined,
    Mounts: (c.mounts ?? []).map(mountOf),
    Devices: (c.devices ?? []).map((d) => ({
      PathOnHost: d.host_path ?? '',
      PathInContainer: d.container_path || d.host_path || '',
      CgroupPermissions: d.permissions || 'rwm',
    })),
    Annotations: c.annotations && Object.keys(c.annotations).length ? c.annotations : undefined,
    // The monitor writes the CRI's log format there; no log_path, no log.
    LogConfig: c.log_path ? { Type: 'cri', Config: { path: join(logDirectory ?? '', c.log_path) } } : { Type: 'none' },
    RestartPolicy: { Name: 'no' },
  };
  const securityOpt: string[] = [];
  if (sc.no_new_privs) securityOpt.push('no-new-privileges');
  let seccompFile: string | undefined;
  const pathKind = sc.seccomp_profile_path?.startsWith('localhost/') ? ProfileType.Localhost : SECCOMP_PATHS[sc.seccomp_profile_path ?? ''];
  if (pathKind === undefined)
    throw invalid(
      `CreateContainer: config.linux.security_context.seccomp_profile_path ${JSON.stringify(sc.seccomp_profile_path)} is not a profile berthd knows`,
    );
  const seccomp = sc.seccomp?.profile_type ?? pathKind;
  if (seccomp === ProfileType.Unconfined) securityOpt.push('seccomp=unconfined');
  if (seccomp === ProfileType.Localhost) {
    seccompFile = sc.seccomp?.localhost_ref || sc.seccomp_profile_path?.slice('localhost/'.length);
    if (!seccompFile?.startsWith('/')) throw invalid('CreateContainer: a Localhost seccomp profile needs an absolute localhost_ref');
  }
  if (securityOpt.length) hc.SecurityOpt = securityOpt;
  applyNamespaces(sc.namespace_options, pod, hc);
  return {
    name: containerName(c.metadata, podMeta),
    config: {
      Image: c.image.image,
      Entrypoint: c.command?.length ? c.command : undefined,
      Cmd: c.args?.length ? c.args : undefined,
      WorkingDir: c.working_dir || undefined,
      Env: (c.envs ?? []).map((e) => `${e.key}=${e.value ?? ''}`),
      User: userOf(sc),
      Tty: c.tty || undefined,
      OpenStdin: c.stdin || undefined,
      StdinOnce: c.stdin_once || undefined,
      Labels: criLabels(c.labels, {
        metadata: c.metadata,
        annotations: c.annotations,
        logPath: hc.LogConfig?.Config?.path,
        image: c.image.image,
      }),
    },
    hostConfig: hc,
    seccompFile,
  };
}

function mountOf(m: NonNullable<CriContainerConfig['mounts']>[number]): ApiMount {
  if (!m.container_path || !m.host_path) throw invalid('CreateContainer: a mount needs container_path and host_path');
  const propagation = PROPAGATION[m.propagation ?? 0];
  return {
    Type: 'bind',
    Source: m.host_path,
    Target: m.container_path,
    ReadOnly: m.readonly || undefined,
    // CRI's readonly is the top mount's alone, as containerd's (recursive_read_only, not in CONTAINER's table, is refused).
    ...(propagation || m.readonly
      ? { BindOptions: { ...(propagation ? { Propagation: propagation } : {}), ...(m.readonly ? { ReadOnlyNonRecursive: true } : {}) } }
      : {}),
  };
}

function userOf(sc: NonNullable<NonNullable<CriContainerConfig['linux']>['security_context']>): string | undefined {
  const user = sc.run_as_user ? String(sc.run_as_user.value ?? '0') : sc.run_as_username || undefined;
  if (sc.run_as_group && !user)
    throw invalid('CreateContainer: berthd applies config.linux.security_context.run_as_group only with run_as_user or run_as_username');
  return sc.run_as_group ? `${user}:${sc.run_as_group.value ?? '0'}` : user;
}

const MODE = ['POD', 'CONTAINER', 'NODE', 'TARGET'];

/**
 * The container's namespaces: those its pod shares it joins (engine/pods), the node's it asks for
 * here; a mode its pod does not match is refused. Without namespace options it takes its pod's.
 */
function applyNamespaces(given: NamespaceOption | undefined, pod: PodRecord, hc: HostConfig): void {
  const shared = new Set(pod.SharedNamespaces);
  const { POD, CONTAINER, NODE, TARGET } = NamespaceMode;
  const ns = isUnset(given)
    ? { network: shared.has('net') ? POD : NODE, ipc: shared.has('ipc') ? POD : NODE, pid: shared.has('pid') ? POD : CONTAINER }
    : given!;
  const refuse = (which: string, mode: number | undefined) =>
    invalid(`CreateContainer: config.linux.security_context.namespace_options.${which} ${MODE[mode ?? 0]} does not match its sandbox's`);
  const net = ns.network ?? POD;
  if ((net === NODE) === shared.has('net') || net === CONTAINER || net === TARGET) throw refuse('network', net);
  if (net === NODE) Object.assign(hc, { NetworkMode: 'host', UTSMode: 'host' });
  const ipc = ns.ipc ?? POD;
  if ((ipc === POD) !== shared.has('ipc') || ipc === TARGET) throw refuse('ipc', ipc);
  if (ipc === NODE) hc.IpcMode = 'host';
  const pid = ns.pid ?? POD;
  if ((pid === POD) !== shared.has('pid')) throw refuse('pid', pid);
  if (pid === NODE) hc.PidMode = 'host';
  if (pid === TARGET) {
    if (!ns.target_id) throw invalid('CreateContainer: namespace_options.pid TARGET needs target_id');
    hc.PidMode = `container:${ns.target_id}`;
  } else if (ns.target_id) throw invalid('CreateContainer: berthd applies namespace_options.target_id only with pid TARGET');
}
