// A CRI PodSandboxConfig as the engine's pod options: the pod's name in dockershim's shape
// (k8s_POD_<name>_<namespace>_<uid>_<attempt>), the namespaces shared, its ports, DNS and cgroup
// parent, and what the CRI keeps in its labels. Pure: unit-tested beside.

import type { PodCreateOptions, PodNamespace, PortMap } from '../engine/index.js';
import { invalid } from '../errors.js';
import { refuseUnapplied, type Applied } from './fields.js';
import { criLabels } from './labels.js';

/** runtime.v1 NamespaceMode. */
export const NamespaceMode = { POD: 0, CONTAINER: 1, NODE: 2, TARGET: 3 } as const;
/** runtime.v1 SecurityProfile.ProfileType. */
export const ProfileType = { RuntimeDefault: 0, Unconfined: 1, Localhost: 2 } as const;
const PROTOCOLS = ['tcp', 'udp', 'sctp'];

export interface NamespaceOption {
  network?: number;
  pid?: number;
  ipc?: number;
  target_id?: string;
}
export interface PodSandboxMetadata {
  name?: string;
  uid?: string;
  namespace?: string;
  attempt?: number;
}
export interface PodSandboxConfig {
  metadata?: PodSandboxMetadata;
  hostname?: string;
  log_directory?: string;
  dns_config?: { servers?: string[]; searches?: string[]; options?: string[] };
  port_mappings?: { protocol?: number; container_port?: number; host_port?: number; host_ip?: string }[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: {
    cgroup_parent?: string;
    security_context?: {
      namespace_options?: NamespaceOption;
      privileged?: boolean;
      seccomp?: { profile_type?: number; localhost_ref?: string };
      seccomp_profile_path?: string;
    };
  };
}

/** The seccomp profile paths kubelet's deprecated field takes, by what they mean. */
export const SECCOMP_PATHS: Record<string, number> = { '': 0, 'runtime/default': 0, 'docker/default': 0, unconfined: 1 };

/**
 * What berthd applies of a sandbox's config. The pause process needs no user, groups or
 * filter of its own: the containers carry theirs (kubelet repeats the pod's security context in
 * each), so the sandbox's supplemental groups, read-only root (the infra's is read-only
 * anyway), privilege (granted per container) and seccomp profile (runtime default or
 * unconfined; the infra keeps berth's default) are taken as the containers' business. Overhead
 * and resources size the pod cgroup, which kubelet makes itself under cgroup_parent.
 */
const SANDBOX: Applied = {
  metadata: true,
  hostname: true,
  log_directory: true,
  dns_config: true,
  port_mappings: true,
  labels: true,
  annotations: true,
  linux: {
    cgroup_parent: true,
    overhead: true,
    resources: true,
    security_context: {
      namespace_options: { network: true, pid: true, ipc: true },
      privileged: true,
      supplemental_groups: true,
      readonly_rootfs: true,
      seccomp: { profile_type: true },
      seccomp_profile_path: true,
    },
  },
};

/** dockershim's names, which kubelet's users know from `docker ps`. */
export function sandboxName(m: PodSandboxMetadata): string {
  return `k8s_POD_${m.name}_${m.namespace}_${m.uid}_${m.attempt ?? 0}`;
}

/** The pod's options for `engine.pods.create`, but for its network (`onPodNetwork`) unless the pod is on the node's. */
export function podOptions(cfg: PodSandboxConfig | undefined): PodCreateOptions {
  if (!cfg) throw invalid('RunPodSandbox: config is required');
  refuseUnapplied('RunPodSandbox', { config: cfg }, { config: SANDBOX });
  const m = cfg.metadata;
  if (!m?.name || !m.namespace || !m.uid) throw invalid('RunPodSandbox: config.metadata needs name, namespace and uid');
  const sc = cfg.linux?.security_context;
  const seccomp = sc?.seccomp?.profile_type ?? SECCOMP_PATHS[sc?.seccomp_profile_path ?? ''];
  if (seccomp === undefined || seccomp === ProfileType.Localhost)
    throw invalid(
      'RunPodSandbox: berthd does not apply a Localhost seccomp profile to the sandbox (config.linux.security_context.seccomp)',
    );
  const ns = sc?.namespace_options ?? {};
  const hostNet = ns.network === NamespaceMode.NODE;
  const share: PodNamespace[] = [];
  if (!hostNet) share.push('net', 'uts');
  if ((ns.ipc ?? 0) === NamespaceMode.POD) share.push('ipc');
  if ((ns.pid ?? 0) === NamespaceMode.POD) share.push('pid');
  else if (ns.pid === NamespaceMode.TARGET)
    throw invalid('RunPodSandbox: berthd does not apply config.linux.security_context.namespace_options.pid TARGET to a sandbox');
  const parent = cfg.linux?.cgroup_parent;
  if (parent && !parent.startsWith('/'))
    throw invalid(
      `RunPodSandbox: cgroup_parent ${JSON.stringify(parent)}: berthd drives cgroupfs paths only (kubelet --cgroup-driver=cgroupfs)`,
    );
  return {
    Name: sandboxName(m),
    Labels: criLabels(cfg.labels, { metadata: m, annotations: cfg.annotations, logDirectory: cfg.log_directory }),
    Hostname: hostNet ? undefined : cfg.hostname || undefined,
    Share: share,
    PortBindings: hostNet ? {} : portBindings(cfg.port_mappings ?? []),
    CgroupParent: parent || undefined,
    Dns: cfg.dns_config?.servers?.length ? cfg.dns_config.servers : undefined,
    DnsSearch: cfg.dns_config?.searches?.length ? cfg.dns_config.searches : undefined,
    DnsOptions: cfg.dns_config?.options?.length ? cfg.dns_config.options : undefined,
  };
}

/**
 * Puts a pod that does not share the node's network on `network` (the CNI config dir's default),
 * with the CNI_ARGS containerd and CRI-O give a pod network's plugins. There is no
 * K8S_POD_INFRA_CONTAINER_ID: berth makes the sandbox's ID with the pod, after these are set.
 */
export function onPodNetwork(o: PodCreateOptions, m: PodSandboxMetadata, network: string): void {
  if (!o.Share?.includes('net')) return;
  o.Network = network;
  o.NetworkDriverOpts = { K8S_POD_NAMESPACE: m.namespace ?? '', K8S_POD_NAME: m.name ?? '', K8S_POD_UID: m.uid ?? '' };
}

/** The ports published on the node: those with a host port (kubelet lists every declared port, most with none). */
export function portBindings(ports: NonNullable<PodSandboxConfig['port_mappings']>): PortMap {
  const out: PortMap = {};
  for (const p of ports) {
    if (!p.host_port) continue;
    const key = `${p.container_port}/${PROTOCOLS[p.protocol ?? 0]}`;
    out[key] = [...(out[key] ?? []), { HostIp: p.host_ip ?? '', HostPort: String(p.host_port) }];
  }
  return out;
}
