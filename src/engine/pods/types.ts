// A pod's record and what callers give to make one. Field names follow podman's libpod pod API
// (PodInspect, ListPodsReport) where they fit, in the engine's PascalCase; the API server maps
// podman's snake_case create body onto PodCreateOptions.

import type { PortMap } from '../types.js';

/** The namespaces a pod's containers may share with its infra process (podman's `--share`). */
export type PodNamespace = 'net' | 'ipc' | 'uts' | 'pid';

/** What `pod create` (and the CRI's RunPodSandbox) asks for. Every field is optional. */
export interface PodCreateOptions {
  /** Unique among pods; default: a generated name like a container's. */
  Name?: string;
  Labels?: Record<string, string>;
  /** Kept with the record for its maker (the CRI's sandbox annotations); berth applies none. Not on the HTTP API. */
  Annotations?: Record<string, string>;
  /** The hostname the pod's containers share (with `uts`); default: the pod's name. */
  Hostname?: string;
  /** Default: net, ipc, uts (podman's). */
  Share?: PodNamespace[];
  /** berth's networks: `bridge` (the default), a user-defined network's name, `host` or `none`. Needs `net` shared. */
  Network?: string;
  /** Published once for the pod, as a container's `-p`. Needs `net` shared. */
  PortBindings?: PortMap;
  /** Names the pod answers to on a user-defined network's DNS, beside its own name (which it always has there). */
  NetworkAliases?: string[];
  /** CNI_ARGS for the plugins of a `cni` network (the CRI's K8S_POD_*); refused on berth's bridges. Not on the HTTP API. */
  NetworkDriverOpts?: Record<string, string>;
  /** The cgroup the pod's containers are placed below (`<parent>/<container id>`); default: berth's own, `/berth`. */
  CgroupParent?: string;
  /** The pod's resolv.conf and /etc/hosts entries, as a container's Dns, DnsSearch, DnsOptions, ExtraHosts. */
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  ExtraHosts?: string[];
}

/** A pod as berthd records it in `<data-root>/pods/<id>.json`. Immutable but for nothing: a pod changes only by its containers. */
export interface PodRecord {
  /** 64 hex digits. */
  Id: string;
  /** Without a leading slash. */
  Name: string;
  Created: string;
  Labels: Record<string, string>;
  Annotations?: Record<string, string>;
  Hostname: string;
  SharedNamespaces: PodNamespace[];
  /** The infra container (berth-pause): it holds the shared namespaces and the pod's network. */
  InfraId: string;
  Network: string;
  PortBindings: PortMap;
  NetworkAliases?: string[];
  NetworkDriverOpts?: Record<string, string>;
  CgroupParent?: string;
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  ExtraHosts?: string[];
}

/** podman's pod states. */
export type PodState = 'Created' | 'Running' | 'Degraded' | 'Paused' | 'Exited' | 'Stopped';
