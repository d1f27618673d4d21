// The JSON request bodies of the Engine API as the Go types dockerd decodes them into: the
// definitions of moby's api/swagger.yaml (ContainerConfig, HostConfig, Resources, Mount,
// NetworkingConfig, EndpointSettings, ExecConfig, NetworkCreateRequest, VolumeCreateOptions,
// AuthConfig) with the Go types of moby's api/types where the swagger says only "integer"
// (int64, uint16 …) or where Go is more lenient (StrSlice takes one string). Enumerations are
// the swagger's; an empty string is always "not set". body-decode.ts reads these; nothing else.

import type { GoInt, GoType } from './body-decode.js';

type Struct = Extract<GoType, { kind: 'struct' }>;

const bool: GoType = { kind: 'bool' };
const str: GoType = { kind: 'string' };
const int = (go: GoInt): GoType => ({ kind: 'int', go });
const strs: GoType = { kind: 'slice', of: str };
const strMap: GoType = { kind: 'map', of: str };
const strslice: GoType = { kind: 'strslice' };
const oneOf = (values: readonly string[], refuse?: (v: string) => string): GoType => ({ kind: 'string', oneOf: values, refuse });
const struct = (go: string, fields: Record<string, GoType>): Struct => ({ kind: 'struct', go, fields });
const list = (of: GoType, go?: string): GoType => ({ kind: 'slice', of, go });
/** ConsoleSize: `[height, width]`, Go's `*[2]uint`. */
const consoleSize: GoType = { kind: 'slice', of: int('uint'), length: 2 };

const throttle = list(struct('blkiodev.ThrottleDevice', { Path: str, Rate: int('uint64') }));

/** container.Resources: the limits a create and an update share. */
const RESOURCES: Record<string, GoType> = {
  CpuShares: int('int64'),
  Memory: int('int64'),
  NanoCpus: int('int64'),
  CgroupParent: str,
  BlkioWeight: int('uint16'),
  BlkioWeightDevice: list(struct('blkiodev.WeightDevice', { Path: str, Weight: int('uint16') })),
  BlkioDeviceReadBps: throttle,
  BlkioDeviceWriteBps: throttle,
  BlkioDeviceReadIOps: throttle,
  BlkioDeviceWriteIOps: throttle,
  CpuPeriod: int('int64'),
  CpuQuota: int('int64'),
  CpuRealtimePeriod: int('int64'),
  CpuRealtimeRuntime: int('int64'),
  CpusetCpus: str,
  CpusetMems: str,
  Devices: list(struct('container.DeviceMapping', { PathOnHost: str, PathInContainer: str, CgroupPermissions: str })),
  DeviceCgroupRules: strs,
  DeviceRequests: list(
    struct('container.DeviceRequest', {
      Driver: str,
      Count: int('int'),
      DeviceIDs: strs,
      Capabilities: list(strs),
      Options: strMap,
    }),
  ),
  KernelMemory: int('int64'),
  KernelMemoryTCP: int('int64'),
  MemoryReservation: int('int64'),
  MemorySwap: int('int64'),
  MemorySwappiness: int('int64'),
  OomKillDisable: bool,
  PidsLimit: int('int64'),
  Ulimits: list(struct('units.Ulimit', { Name: str, Hard: int('int64'), Soft: int('int64') })),
  CpuCount: int('int64'),
  CpuPercent: int('int64'),
  IOMaximumIOps: int('uint64'),
  IOMaximumBandwidth: int('uint64'),
};

const RESTART_POLICIES = ['no', 'always', 'on-failure', 'unless-stopped'];
const restartPolicy = struct('container.RestartPolicy', {
  Name: {
    kind: 'string',
    go: 'container.RestartPolicyMode',
    oneOf: RESTART_POLICIES,
    refuse: (v) => `invalid restart policy: unknown policy '${v}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`,
  },
  MaximumRetryCount: int('int'),
});

const mount = struct('mount.Mount', {
  Type: {
    kind: 'string',
    go: 'mount.Type',
    oneOf: ['bind', 'volume', 'tmpfs', 'npipe', 'cluster', 'image'],
    refuse: (v) => `invalid mount config for type "${v}": mount type unknown`,
  },
  Source: str,
  Target: str,
  ReadOnly: bool,
  Consistency: oneOf(['default', 'consistent', 'cached', 'delegated']),
  BindOptions: struct('mount.BindOptions', {
    Propagation: { kind: 'string', go: 'mount.Propagation', oneOf: ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'] },
    NonRecursive: bool,
    CreateMountpoint: bool,
    ReadOnlyNonRecursive: bool,
    ReadOnlyForceRecursive: bool,
  }),
  VolumeOptions: struct('mount.VolumeOptions', {
    NoCopy: bool,
    Labels: strMap,
    Subpath: str,
    DriverConfig: struct('mount.Driver', { Name: str, Options: strMap }),
  }),
  TmpfsOptions: struct('mount.TmpfsOptions', { SizeBytes: int('int64'), Mode: int('uint32'), Options: list(strs) }),
  ImageOptions: struct('mount.ImageOptions', { Subpath: str }),
  ClusterOptions: { kind: 'empty' },
});

const hostConfig = struct('container.HostConfig', {
  ...RESOURCES,
  Binds: strs,
  ContainerIDFile: str,
  LogConfig: struct('container.LogConfig', { Type: str, Config: strMap }),
  NetworkMode: { kind: 'string', go: 'container.NetworkMode' },
  PortBindings: { kind: 'map', go: 'nat.PortMap', of: list(struct('nat.PortBinding', { HostIp: str, HostPort: str })) },
  RestartPolicy: restartPolicy,
  AutoRemove: bool,
  VolumeDriver: str,
  VolumesFrom: strs,
  ConsoleSize: consoleSize,
  Annotations: strMap,
  CapAdd: strslice,
  CapDrop: strslice,
  CgroupnsMode: { kind: 'string', go: 'container.CgroupnsMode', oneOf: ['private', 'host'] },
  Dns: strs,
  DnsOptions: strs,
  DnsSearch: strs,
  ExtraHosts: strs,
  GroupAdd: strs,
  IpcMode: { kind: 'string', go: 'container.IpcMode' },
  Cgroup: str,
  Links: strs,
  OomScoreAdj: int('int'),
  PidMode: { kind: 'string', go: 'container.PidMode' },
  Privileged: bool,
  PublishAllPorts: bool,
  ReadonlyRootfs: bool,
  SecurityOpt: strs,
  StorageOpt: strMap,
  Tmpfs: strMap,
  UTSMode: str,
  UsernsMode: str,
  ShmSize: int('int64'),
  Sysctls: strMap,
  Runtime: str,
  // Any string, as dockerd decodes it: create-fields.ts refuses all but default in dockerd's words.
  Isolation: { kind: 'string', go: 'container.Isolation' },
  Mounts: list(mount),
  MaskedPaths: strs,
  ReadonlyPaths: strs,
  Init: bool,
});

/** container.Config: what a create and a commit give. */
const CONFIG: Record<string, GoType> = {
  Hostname: str,
  Domainname: str,
  User: str,
  AttachStdin: bool,
  AttachStdout: bool,
  AttachStderr: bool,
  ExposedPorts: { kind: 'map', go: 'nat.PortSet', of: { kind: 'empty' } },
  Tty: bool,
  OpenStdin: bool,
  StdinOnce: bool,
  Env: strs,
  Cmd: strslice,
  Healthcheck: struct('container.HealthConfig', {
    Test: strs,
    Interval: int('int64'),
    Timeout: int('int64'),
    StartPeriod: int('int64'),
    StartInterval: int('int64'),
    Retries: int('int'),
  }),
  ArgsEscaped: bool,
  Image: str,
  Volumes: { kind: 'map', of: { kind: 'empty' } },
  WorkingDir: str,
  Entrypoint: strslice,
  NetworkDisabled: bool,
  MacAddress: str,
  OnBuild: strs,
  Labels: strMap,
  StopSignal: str,
  StopTimeout: int('int'),
  Shell: strslice,
};

const endpointSettings = struct('network.EndpointSettings', {
  IPAMConfig: struct('network.EndpointIPAMConfig', { IPv4Address: str, IPv6Address: str, LinkLocalIPs: strs }),
  Links: strs,
  Aliases: strs,
  DriverOpts: strMap,
  GwPriority: int('int'),
  MacAddress: str,
  NetworkID: str,
  EndpointID: str,
  Gateway: str,
  IPAddress: str,
  IPPrefixLen: int('int'),
  IPv6Gateway: str,
  GlobalIPv6Address: str,
  GlobalIPv6PrefixLen: int('int'),
  DNSNames: strs,
});

/** POST /containers/create */
export const ContainerCreate = struct('container.CreateRequest', {
  ...CONFIG,
  /** berth's extension: the pod (name or ID) the container joins; dockerd has no such field. */
  Pod: str,
  /** berth's extension (podman's --health-on-failure): what an unhealthy container gets, `none` or `kill`. */
  HealthOnFailure: str,
  HostConfig: hostConfig,
  NetworkingConfig: struct('network.NetworkingConfig', { EndpointsConfig: { kind: 'map', of: endpointSettings } }),
});

/** POST /containers/{id}/update */
export const ContainerUpdate = struct('container.UpdateConfig', { ...RESOURCES, RestartPolicy: restartPolicy });

/** POST /commit: the config the new image gets. */
export const CommitConfig = struct('container.Config', CONFIG);

/** POST /containers/{id}/exec */
export const ExecCreate = struct('container.ExecOptions', {
  User: str,
  Privileged: bool,
  Tty: bool,
  ConsoleSize: consoleSize,
  AttachStdin: bool,
  AttachStderr: bool,
  AttachStdout: bool,
  Detach: bool,
  DetachKeys: str,
  Env: strs,
  WorkingDir: str,
  Cmd: strs,
});

/** POST /exec/{id}/start */
export const ExecStart = struct('container.ExecStartOptions', { Detach: bool, Tty: bool, ConsoleSize: consoleSize });

/** POST /networks/create */
export const NetworkCreate = struct('network.CreateRequest', {
  Name: str,
  CheckDuplicate: bool,
  Driver: str,
  Scope: oneOf(['local', 'swarm', 'global']),
  EnableIPv4: bool,
  EnableIPv6: bool,
  IPAM: struct('network.IPAM', {
    Driver: str,
    Options: strMap,
    Config: list(struct('network.IPAMConfig', { Subnet: str, IPRange: str, Gateway: str, AuxiliaryAddresses: strMap })),
  }),
  Internal: bool,
  Attachable: bool,
  Ingress: bool,
  ConfigOnly: bool,
  ConfigFrom: struct('network.ConfigReference', { Network: str }),
  Options: strMap,
  Labels: strMap,
});

/** POST /networks/{id}/connect */
export const NetworkConnect = struct('network.ConnectOptions', { Container: str, EndpointConfig: endpointSettings });

/** POST /networks/{id}/disconnect */
export const NetworkDisconnect = struct('network.DisconnectOptions', { Container: str, Force: bool });

/** POST /volumes/create (ClusterVolumeSpec is kept only so the route can refuse it). */
export const VolumeCreate = struct('volume.CreateOptions', {
  Name: str,
  Driver: str,
  DriverOpts: strMap,
  Labels: strMap,
  ClusterVolumeSpec: { kind: 'empty' },
});

/** POST /auth */
export const AuthConfig = struct('registry.AuthConfig', {
  username: str,
  password: str,
  auth: str,
  email: str,
  serveraddress: str,
  identitytoken: str,
  registrytoken: str,
});

/** POST /balancers/create (berth's: a host port spread across containers, engine/balancers.ts). */
export const BalancerCreate = struct('berth.BalancerCreate', {
  Name: str,
  Labels: strMap,
  Protocol: oneOf(['tcp', 'udp']),
  HostIp: str,
  HostPort: int('uint16'),
  Backends: list(struct('berth.BalancerBackend', { Container: str, Port: int('uint16'), Healthy: bool })),
});
