// The pure rules of pods: which namespaces a pod shares (podman's `--share`), what its infra
// container is made with, how a container joining it is set up (or refused, in podman's words),
// and the pod's state from its containers'. No I/O: unit-tested beside.

import { invalid } from '../../errors.js';
import type { ContainerConfig, ContainerStatus, EndpointRequest, HostConfig } from '../types.js';
import type { PodCreateOptions, PodNamespace, PodRecord, PodState } from './types.js';

export const DEFAULT_SHARE: PodNamespace[] = ['net', 'ipc', 'uts'];
const NAMESPACES: readonly PodNamespace[] = ['net', 'ipc', 'uts', 'pid'];

/**
 * `--share` as podman reads it: a comma list replaces the default, a list that starts with `+`
 * adds to it; `none` or '' shares nothing. Unknown names (cgroup, user: podman's, not berth's) are refused.
 */
export function parseShare(spec: string): PodNamespace[] {
  const add = spec.startsWith('+');
  const out = new Set<PodNamespace>(add ? DEFAULT_SHARE : []);
  for (const raw of (add ? spec.slice(1) : spec).split(',')) {
    const n = raw.trim();
    if (n === '' || n === 'none') continue;
    if (!NAMESPACES.includes(n as PodNamespace))
      throw invalid(`invalid kernel namespace to share: ${n}: berth pods share ${NAMESPACES.join(', ')}`);
    out.add(n as PodNamespace);
  }
  return NAMESPACES.filter((n) => out.has(n));
}

/** The pod's options checked: a network and ports only with `net` shared, a hostname only with `uts`. */
export function checkPodOptions(o: PodCreateOptions): PodNamespace[] {
  const share = o.Share ?? DEFAULT_SHARE;
  for (const n of share) if (!NAMESPACES.includes(n)) throw invalid(`invalid kernel namespace to share: ${n}`);
  const net = share.includes('net');
  if (!net && Object.keys(o.PortBindings ?? {}).length)
    throw invalid('cannot set port bindings on a pod that does not share the network namespace');
  if (!net && o.Network) throw invalid('cannot set a network on a pod that does not share the network namespace');
  if (o.NetworkAliases?.length && !userNetwork(o.Network))
    throw invalid('network aliases are supported only for pods on user-defined networks');
  if (o.NetworkDriverOpts && Object.keys(o.NetworkDriverOpts).length && !userNetwork(o.Network))
    throw invalid('network driver options are supported only for pods on a network a CNI config makes');
  if (!share.includes('uts') && o.Hostname) throw invalid('cannot set a hostname on a pod that does not share the UTS namespace');
  if ((o.Network === 'host' || o.Network === 'none') && Object.keys(o.PortBindings ?? {}).length)
    throw invalid(`cannot publish ports on a pod with network ${o.Network}`);
  if (o.CgroupParent !== undefined && !o.CgroupParent.startsWith('/'))
    throw invalid(`cgroup parent ${JSON.stringify(o.CgroupParent)} must be an absolute cgroupfs path`);
  return share;
}

/** Whether `network` is a user-defined one (where names resolve), not bridge, host or none. */
const userNetwork = (network: string | undefined) => !!network && !['bridge', 'host', 'none', 'default'].includes(network);

/**
 * The infra container's Config, HostConfig and endpoints: berth-pause, holding the shared
 * namespaces and the pod's network, where on a user-defined network it answers to the pod's name.
 */
export function infraSettings(
  pod: PodRecord,
  image: string,
  /** Whether the pod's network is berth's (a bridge with its DNS), not one a CNI config of another's makes. */
  berthNetwork = true,
): { config: ContainerConfig; hostConfig: HostConfig; endpoints: Record<string, EndpointRequest> } {
  const share = new Set(pod.SharedNamespaces);
  const endpoint: EndpointRequest = {
    Aliases: berthNetwork ? [pod.Name, ...(pod.NetworkAliases ?? [])] : pod.NetworkAliases,
    ...(pod.NetworkDriverOpts ? { DriverOpts: pod.NetworkDriverOpts } : {}),
  };
  return {
    endpoints: share.has('net') && userNetwork(pod.Network) ? { [pod.Network]: endpoint } : {},
    config: { Image: image, Cmd: ['/pause'], Hostname: share.has('uts') ? pod.Hostname : undefined, Labels: {} },
    hostConfig: {
      NetworkMode: share.has('net') ? pod.Network : 'none',
      PortBindings: pod.PortBindings,
      // Its /dev/shm is the one the pod's containers bind (engine/linux-options.ts).
      IpcMode: share.has('ipc') ? 'shareable' : '',
      Dns: pod.Dns,
      DnsSearch: pod.DnsSearch,
      DnsOptions: pod.DnsOptions,
      ExtraHosts: pod.ExtraHosts,
      CgroupParent: pod.CgroupParent,
      ReadonlyRootfs: true,
    },
  };
}

const NET_REFUSAL =
  'invalid config provided: networks must be defined when the pod is created: network cannot be configured when it is shared with a pod';
const PORTS_REFUSAL =
  'invalid config provided: published or exposed ports must be defined when the pod is created: network cannot be configured when it is shared with a pod';

/**
 * A container joining the pod: its namespace modes point at the infra container (the engine
 * resolves `container:<id>` joins at start), its hostname is the pod's, its cgroup goes below
 * the pod's parent. What the pod already decides is refused when the container asks for it too.
 * Mutates `config` and `hc`.
 */
export function joinPod(pod: PodRecord, config: ContainerConfig, hc: HostConfig, endpoints: Record<string, EndpointRequest>): void {
  const share = new Set(pod.SharedNamespaces);
  const infra = `container:${pod.InfraId}`;
  if (share.has('net')) {
    if ((hc.NetworkMode && hc.NetworkMode !== 'default') || Object.keys(endpoints).length) throw invalid(NET_REFUSAL);
    if (Object.keys(hc.PortBindings ?? {}).length || hc.PublishAllPorts) throw invalid(PORTS_REFUSAL);
    if (hc.Dns?.length || hc.DnsSearch?.length || hc.DnsOptions?.length || hc.ExtraHosts?.length)
      throw invalid(
        'invalid config provided: DNS and hosts entries must be defined when the pod is created: the network is shared with a pod',
      );
    // A host-network pod has no namespace of its own to join.
    hc.NetworkMode = pod.Network === 'host' ? 'host' : infra;
    Object.assign(hc, { Dns: pod.Dns, DnsSearch: pod.DnsSearch, DnsOptions: pod.DnsOptions, ExtraHosts: pod.ExtraHosts });
  }
  if (share.has('uts')) {
    if (config.Hostname) throw invalid("invalid config provided: cannot set hostname when joining the pod's UTS namespace");
    if (hc.UTSMode) throw invalid(`invalid config provided: UTS mode ${hc.UTSMode}: the pod shares its UTS namespace`);
    config.Hostname = pod.Hostname;
    hc.UTSMode = infra;
  }
  if (share.has('ipc')) {
    if (hc.IpcMode) throw invalid(`invalid config provided: IPC mode ${hc.IpcMode}: the pod shares its IPC namespace`);
    hc.IpcMode = infra;
  }
  if (share.has('pid')) {
    if (hc.PidMode) throw invalid(`invalid config provided: PID mode ${hc.PidMode}: the pod shares its PID namespace`);
    hc.PidMode = infra;
  }
  if (pod.CgroupParent) hc.CgroupParent = pod.CgroupParent;
}

/** podman's pod state from its containers' (the infra's included). */
export function podState(statuses: ContainerStatus[]): PodState {
  const n = statuses.length;
  const count = (...s: ContainerStatus[]) => statuses.filter((x) => s.includes(x)).length;
  const running = count('running', 'restarting');
  if (n && running === n) return 'Running';
  if (running) return 'Degraded';
  if (n && count('paused') === n) return 'Paused';
  if (count('created') === n) return 'Created';
  if (count('exited', 'dead', 'removing') === n) return 'Exited';
  return 'Stopped';
}
