// The engine's domain types. Their field names are Docker's (the Engine API's `Config`,
// `HostConfig`, `State`), since that is the model users and clients already know; the engine
// itself knows nothing of HTTP. This is the engine's ground floor: it imports nothing of the
// engine back, so every room may use it.

import type { PortMap } from '../network/ports.js';
import type { IdMaps } from '../common/id-map.js';

export type { PortMap };

/** What a container runs (Docker's `Config`). Immutable after create. */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Image?: string;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number;
  /** engine/containers/health.ts: the create body's, merged with the image's at create. */
  Healthcheck?: HealthConfig | null;
  /** berth's extension (podman's --health-on-failure): `kill` ends a container found unhealthy; default `none`. */
  HealthOnFailure?: 'none' | 'kill';
  /** Anonymous volumes asked for (`-v /dst`), beside the image's. */
  Volumes?: Record<string, object> | null;
  /** `<port>/<proto>` keys: the user's and the image's EXPOSE (what -P publishes). */
  ExposedPorts?: Record<string, object> | null;
  /**
   * The deprecated container-wide MAC address: its NetworkMode network's endpoint's, at create
   * and at every later connect to that network that names none (dockerd 20.10's
   * buildCreateEndpointOptions; docker-compose 1.29 disconnects and connects again before start).
   */
  MacAddress?: string;
}

/** Host-side settings (Docker's `HostConfig`): the subset berth honours so far. */
export interface HostConfig {
  AutoRemove?: boolean;
  /** The OCI runtime by name (the daemon's runtimes); set to the default at create. */
  Runtime?: string;
  /** `default` or unset: the only isolation on Linux, kept as given. */
  Isolation?: string;
  /** Resource limits (engine/resources.ts); `docker update` changes them. */
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  /** Block I/O weight and limits (cgroup blkio / io); a device by its host path. */
  BlkioWeight?: number;
  BlkioWeightDevice?: { Path: string; Weight: number }[] | null;
  BlkioDeviceReadBps?: ThrottleDevice[] | null;
  BlkioDeviceWriteBps?: ThrottleDevice[] | null;
  BlkioDeviceReadIOps?: ThrottleDevice[] | null;
  BlkioDeviceWriteIOps?: ThrottleDevice[] | null;
  /** Realtime CPU of the container's cgroup (v1 cpu.rt_*), in microseconds. */
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  /** memory.oom_control (v1). */
  OomKillDisable?: boolean | null;
  /** memory.swappiness (v1), 0..100; null or -1: the parent's. */
  MemorySwappiness?: number | null;
  /** memory.kmem.limit_in_bytes (v1; API 1.41 and older, as dockerd takes it) and memory.kmem.tcp.limit_in_bytes (v1). */
  KernelMemory?: number;
  KernelMemoryTCP?: number;
  /** engine/containers/restart.ts; `docker update` changes it. */
  RestartPolicy?: RestartPolicy;
  /** 'bridge' (the default network), 'none', 'host', 'container:<id>' or a network's name (engine/networks/). */
  NetworkMode?: string;
  /** Published ports (network/ports.ts) and -P. */
  PortBindings?: PortMap | null;
  PublishAllPorts?: boolean;
  /** [height, width] of the terminal at start, with Tty (API 1.42+); resize changes it later. */
  ConsoleSize?: [number, number] | null;
  LogConfig?: { Type?: string; Config?: Record<string, string> };
  /** Security settings (engine/security.ts): all caps, no seccomp, no masked paths when Privileged. */
  Privileged?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  SecurityOpt?: string[] | null;
  ReadonlyRootfs?: boolean;
  Init?: boolean | null;
  /** Mounts (engine/mounts.ts) and the init files' settings (engine/init-files.ts). */
  Binds?: string[] | null;
  Mounts?: ApiMount[] | null;
  Tmpfs?: Record<string, string> | null;
  VolumesFrom?: string[] | null;
  /** The driver of the volumes Binds and VOLUMEs make (engine/mounts.ts). */
  VolumeDriver?: string;
  ExtraHosts?: string[] | null;
  /** Legacy links, `name:alias`, as given (engine/containers/links.ts; inspect shows what they became). */
  Links?: string[] | null;
  Dns?: string[] | null;
  DnsSearch?: string[] | null;
  DnsOptions?: string[] | null;
  /** Process and namespace settings (engine/linux-options.ts). */
  Ulimits?: { Name: string; Soft: number; Hard: number }[] | null;
  Sysctls?: Record<string, string> | null;
  OomScoreAdj?: number;
  ShmSize?: number;
  GroupAdd?: string[] | null;
  /** '' (its own), 'host' or 'container:<id>'. */
  PidMode?: string;
  /** '' or 'private' (its own), 'shareable', 'none', 'host' or 'container:<id>'. */
  IpcMode?: string;
  /** '' (its own) or 'host'; 'container:<id>' only as a pod sets it (its infra container's). */
  UTSMode?: string;
  /** '' (the daemon's `--userns-remap`, if any) or 'host' (no user namespace); engine/userns.ts. */
  UsernsMode?: string;
  /** 'private' (the default) or 'host'. */
  CgroupnsMode?: string;
  /** The cgroup the container's goes below (`<parent>/<id>`; default `/berth`). Only a pod sets it (engine/pods/). */
  CgroupParent?: string;
  /** The OCI spec's annotations. */
  Annotations?: Record<string, string> | null;
  /** Replace Docker's masked and read-only paths when given. */
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
  /** Host devices made in the container, and device cgroup rules (engine/devices.ts). */
  Devices?: DeviceMapping[] | null;
  DeviceCgroupRules?: string[] | null;
}

/** One `--device-read-bps` and the like (Docker's `ThrottleDevice`): bytes or IOs a second. */
export interface ThrottleDevice {
  Path: string;
  Rate: number;
}

/** One `--device` (Docker's `DeviceMapping`). */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** A container's run state (Docker's `State`). Mutable; persisted on every change. */
export interface ContainerState {
  Status: ContainerStatus;
  Pid: number;
  ExitCode: number;
  Error: string;
  OOMKilled: boolean;
  StartedAt: string;
  FinishedAt: string;
  /** Present when the container has a health check (engine/containers/health.ts). */
  Health?: HealthState;
}

/** A container as berthd records it in `<data-root>/containers/<id>/container.json`. */
export interface ContainerRecord {
  /** 64 hex digits. Immutable. */
  Id: string;
  /** With Docker's leading slash (`/name`). Mutable (rename). */
  Name: string;
  Created: string;
  /** Path and Args: what the process execs (entrypoint and command combined). Immutable. */
  Path: string;
  Args: string[];
  /** The image ID (config digest) and the name the user gave. Immutable. */
  Image: string;
  ImageName: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  State: ContainerState;
  RestartCount: number;
  /** A user's stop or kill: `unless-stopped` then leaves it down, even across a berthd restart. */
  HasBeenManuallyStopped?: boolean;
  /** The mounts planned at create (engine/mounts.ts). Immutable. */
  MountPoints?: MountPoint[];
  /** Its user namespace's id maps (`--userns-remap`'s, or an `auto` range of its own, kept for as long as it exists). */
  IdMaps?: IdMaps;
  /** The networks it joins and, while it runs, its addresses and ports (engine/networks/). */
  NetworkSettings?: NetworkSettings;
  /** The ID of the pod it belongs to (engine/pods/), as podman's inspect shows it. Immutable. */
  Pod?: string;
  /** The pod's infra container, which only the pod's removal removes. Immutable. */
  IsInfra?: boolean;
  /** Its legacy links on the default bridge (engine/containers/links.ts): removed one by one by `rm --link`. */
  LegacyLinks?: LegacyLink[];
  /** The link variables its last start put in the bundle's env, taken out before the next start puts its own. */
  LinkEnv?: string[];
}

/** A legacy link: the container it names (by ID; `Name`, its name then, for a message once it is gone) and the alias. */
export interface LegacyLink {
  Id: string;
  Name: string;
  Alias: string;
}

/** A container's place on one network (Docker's `EndpointSettings`). Addresses are '' while it is stopped. */
/** The addresses a container asks for on a network (Docker's `EndpointIPAMConfig`). */
export interface EndpointIpamConfig {
  IPv4Address?: string;
  IPv6Address?: string;
  /** Link-local addresses added to the container's interface (169.254.0.0/16, fe80::/10). */
  LinkLocalIPs?: string[];
}

export interface EndpointSettings {
  IPAMConfig: EndpointIpamConfig | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
  DriverOpts: Record<string, string> | null;
  /** API 1.48: the container's default gateway is that of its endpoint of the highest priority (absent in records made before). */
  GwPriority?: number;
  /**
   * The record's alone, never in the API (moby's name for it): the MAC address asked for, which
   * `MacAddress` loses when the container stops; every start gives the interface this one.
   */
  DesiredMacAddress?: string;
}

export interface NetworkSettings {
  /** By network name. */
  Networks: Record<string, EndpointSettings>;
  /** The published ports of the running container. */
  Ports: PortMap;
  /** The pinned network namespace while it runs. */
  SandboxKey: string;
}

/** When berthd restarts a container that exits (Docker's `RestartPolicy`). */
export interface RestartPolicy {
  /** '' is 'no'. */
  Name: '' | 'no' | 'always' | 'on-failure' | 'unless-stopped';
  /** on-failure only: give up after this many restarts (0: never give up). */
  MaximumRetryCount?: number;
}

/** Docker's zero time, which its API reports for "never". */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** One mount as inspect shows it (moby's `MountPoint`), plus what berth needs to set it up. */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs' | 'image';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** tmpfs: its mount data (`size=…,mode=…`). */
  TmpfsData?: string;
  /** volume: do not copy the image's content in. */
  NoCopy?: boolean;
  /** volume: made for this container (image VOLUME, `-v /dst`); `rm -v` removes it. */
  Anonymous?: boolean;
  /** bind: the source alone, not the mounts under it (`BindOptions.NonRecursive`). */
  NonRecursive?: boolean;
  /** bind, read-only: at its top mount only (`BindOptions.ReadOnlyNonRecursive`, or a client older than API 1.44). */
  ReadOnlyNonRecursive?: boolean;
  /** bind, read-only: recursively or not at all (`BindOptions.ReadOnlyForceRecursive`). */
  ReadOnlyForceRecursive?: boolean;
  /** volume, image: the path inside it that is mounted (`VolumeOptions.Subpath`, API 1.45; `ImageOptions.Subpath`). */
  Subpath?: string;
  /** image: the ID of the image mounted (`Name` is the reference as given; `Source` its read-only view's folder). */
  Image?: string;
}

export interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string>;
    Subpath?: string;
    DriverConfig?: { Name?: string; Options?: Record<string, string> };
  };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] };
  ImageOptions?: { Subpath?: string };
  ClusterOptions?: object;
  BindOptions?: {
    Propagation?: string;
    NonRecursive?: boolean;
    CreateMountpoint?: boolean;
    ReadOnlyNonRecursive?: boolean;
    ReadOnlyForceRecursive?: boolean;
  };
}

/** Docker's `HealthConfig` (durations in nanoseconds; 0 means inherited or the default). */
export interface HealthConfig {
  /** [] inherit, ["NONE"] off, ["CMD", cmd, args…], ["CMD-SHELL", command]. */
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** Docker's `State.Health`. Mutable; saved with the container's state. */
export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  /** The last MAX_LOG results, oldest first. */
  Log: HealthLogEntry[];
}

/** One subnet of a network (Docker's `IPAMConfig`). */
export interface IpamConfig {
  Subnet: string;
  Gateway?: string;
  IPRange?: string;
}

/** A network as the Engine API shows it (moby's `Network`), less `Containers`. */
export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  /** `cni`: a network whose config another wrote (kubelet's CNI config dir; Options[CNI_CONF_OPT] names the file). */
  Driver: 'bridge' | 'host' | 'null' | 'cni' | 'macvlan' | 'ipvlan';
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  /** One IPv4 config, then an IPv6 one if given; a Gateway only where the user gave it or berth picked the subnet (as dockerd shows it). */
  IPAM: { Driver: 'default'; Options: Record<string, string> | null; Config: IpamConfig[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export interface NetworkCreateRequest {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  EnableIPv4?: boolean;
  /** Swarm's (refused): `local` is the only scope berth has. */
  Scope?: string;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  /** Deprecated: a duplicate name is always refused, as dockerd 1.44+ does. */
  CheckDuplicate?: boolean;
  IPAM?: {
    Driver?: string;
    Config?: { Subnet?: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> | null }[] | null;
    Options?: Record<string, string> | null;
  } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** The endpoint options a create or connect asks for (Docker's EndpointSettings, the user's part). */
export interface EndpointRequest {
  IPAMConfig?: EndpointIpamConfig | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  /** `name:alias` links that the embedded DNS answers for this container alone (user-defined networks). */
  Links?: string[] | null;
  /** On a `cni` network, the CNI_ARGS its plugins get (the CRI's K8S_POD_NAMESPACE…); on a bridge, the interface's name and sysctls. */
  DriverOpts?: Record<string, string> | null;
  /** The gateway's priority (API 1.48): the highest gives the default routes. */
  GwPriority?: number;
}
