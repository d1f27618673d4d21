// What berthd does with every field of a container create body (moby's swagger for API 1.50:
// Config, HostConfig, NetworkingConfig and its endpoint settings): applied, refused when set,
// kept as given with no effect on Linux (as dockerd keeps it), or an output field a create
// ignores. `refuseUnsupported` refuses from this same table, so a field marked refused is
// refused; a unit test holds the table to body-types.ts (no field of the API left out) and
// docs/api-fields.md is this table printed.

import { invalid, systemError, unsupported } from '../../errors.js';

export type FieldStatus = 'applied' | 'refused' | 'kept' | 'output';

export interface FieldRule {
  status: FieldStatus;
  /** Where it is applied, why it is refused, or what dockerd does with it. */
  note: string;
  /** refused: values that are the default, so pass (besides Go's zero values). */
  allow?: readonly unknown[];
}

const applied = (note: string): FieldRule => ({ status: 'applied', note });
const refused = (note: string, allow?: readonly unknown[]): FieldRule => ({ status: 'refused', note, allow });
const kept = (note: string): FieldRule => ({ status: 'kept', note });
const output = (note = 'an inspect field; a create ignores it, as dockerd does'): FieldRule => ({ status: 'output', note });

const resource = applied('cgroup limits (engine/resources.ts); `docker update` changes them');
const discarded = (what: string) =>
  applied(`${what}; where the machine's cgroups lack it, discarded with dockerd's warning in the create's Warnings (engine/resources.ts)`);
const blkioDevice = (file: string) =>
  applied(
    `${file} for the device at that host path (stat at create, dockerd's words when it is not there); discarded with dockerd's warning where the cgroup lacks it; not updated (dockerd's update ignores it, berthd refuses it)`,
  );
const windows = refused('Windows-only in dockerd; berth refuses it rather than ignore it');

/** Every field, by its path in the create body: `Config` fields are top-level in the body. */
export const CREATE_FIELDS: Record<string, FieldRule> = {
  'Config.Hostname': applied('the UTS hostname and /etc/hostname'),
  'Config.Domainname': applied('the UTS domain name'),
  'Config.User': applied("looked up in the container's /etc/passwd and /etc/group, with its mounts over the root"),
  'Config.AttachStdin': applied('the attach streams'),
  'Config.AttachStdout': applied('the attach streams'),
  'Config.AttachStderr': applied('the attach streams'),
  'Config.ExposedPorts': applied('what -P publishes'),
  'Config.Tty': applied('a terminal for the process'),
  'Config.OpenStdin': applied('stdin kept open by the monitor'),
  'Config.StdinOnce': applied('stdin closed after the first attach ends'),
  'Config.Env': applied("the process environment, after the image's"),
  'Config.Cmd': applied('the command, as Docker combines it with Entrypoint'),
  'Config.Healthcheck': applied('health checks (engine/containers/health.ts)'),
  'Config.ArgsEscaped': kept('Windows-only; kept as given, as dockerd on Linux does'),
  'Config.Image': applied('the image the container is made from'),
  'Config.Volumes': applied('anonymous volumes'),
  'Config.WorkingDir': applied('the process working directory'),
  'Config.Entrypoint': applied('the entrypoint'),
  'Config.NetworkDisabled': refused('use NetworkMode none; berth refuses true'),
  'Config.MacAddress': applied(
    "the MAC address of the NetworkMode network's endpoint, at create and at a later connect to it that names none (deprecated field)",
  ),
  'Config.OnBuild': kept('image metadata; kept for commit, as dockerd does'),
  'Config.Labels': applied("container labels, after the image's"),
  'Config.StopSignal': applied('the stop signal, checked at create'),
  'Config.StopTimeout': applied('the stop timeout'),
  'Config.Shell': kept('image metadata; kept for commit, as dockerd does'),
  'Config.HealthOnFailure': applied(
    "berth's extension (podman's --health-on-failure): `kill` SIGKILLs a container its health check finds unhealthy, and its restart policy decides what comes next; `none` (the default) leaves it running",
  ),
  'Config.Pod': applied("berth's extension: the pod (name or ID) the container joins, its namespaces, hostname and network the pod's"),

  'HostConfig.CpuShares': resource,
  'HostConfig.Memory': resource,
  'HostConfig.NanoCpus': resource,
  'HostConfig.CgroupParent': applied(
    "the cgroup the container is placed below (`<parent>/<id>`, cgroupfs); an absolute path, as dockerd with cgroupfs takes it (a relative one is refused: it would be relative to berthd's own cgroup)",
  ),
  'HostConfig.BlkioWeight': discarded(
    'blkio.weight or blkio.bfq.weight (v1), io.bfq.weight or io.weight (v2); 10 to 1000; `docker update` changes it',
  ),
  'HostConfig.BlkioWeightDevice': blkioDevice('blkio.weight_device (v1), io.bfq.weight or io.weight (v2)'),
  'HostConfig.BlkioDeviceReadBps': blkioDevice('blkio.throttle.read_bps_device (v1), io.max rbps (v2)'),
  'HostConfig.BlkioDeviceWriteBps': blkioDevice('blkio.throttle.write_bps_device (v1), io.max wbps (v2)'),
  'HostConfig.BlkioDeviceReadIOps': blkioDevice('blkio.throttle.read_iops_device (v1), io.max riops (v2)'),
  'HostConfig.BlkioDeviceWriteIOps': blkioDevice('blkio.throttle.write_iops_device (v1), io.max wiops (v2)'),
  'HostConfig.CpuPeriod': resource,
  'HostConfig.CpuQuota': resource,
  'HostConfig.CpuRealtimePeriod': discarded('cpu.rt_period_us (v1; v2 has no realtime groups); `docker update` changes it'),
  'HostConfig.CpuRealtimeRuntime': discarded(
    "cpu.rt_runtime_us (v1), within its parent cgroups' realtime budget (berthd's --cpu-rt-runtime gives the parent one, as dockerd's; with none, the default, a create over it is refused in the kernel's words, runc's under dockerd); a runtime above the period is dockerd's 500",
  ),
  'HostConfig.CpusetCpus': resource,
  'HostConfig.CpusetMems': resource,
  'HostConfig.Devices': applied('device nodes and their cgroup permissions (engine/devices.ts)'),
  'HostConfig.DeviceCgroupRules': applied('device cgroup rules (engine/devices.ts)'),
  'HostConfig.DeviceRequests': refused(
    'berth has no device drivers (GPUs): dockerd\'s 500 with no driver for the request, `could not select device driver "" with capabilities: [[gpu]]`',
  ),
  'HostConfig.KernelMemory': discarded(
    "API 1.41 and older, as dockerd 20.10: dockerd's deprecation warning, under 6MB dockerd's 400, kept in HostConfig and written to memory.kmem.limit_in_bytes (v1), which Linux 6.1 and later ignore (so does runc 1.1); from API 1.42, discarded with a warning (moby drops it there); `docker update` changes it",
  ),
  'HostConfig.KernelMemoryTCP': discarded(
    "memory.kmem.tcp.limit_in_bytes (v1; -1 is no limit); dockerd passes it to runc 1.1, which ignores it; not updated (dockerd's update ignores it, berthd refuses it)",
  ),
  'HostConfig.MemoryReservation': resource,
  'HostConfig.MemorySwap': resource,
  'HostConfig.MemorySwappiness': discarded(
    "memory.swappiness (v1; v2 has none); 0 to 100 (dockerd's 400 otherwise), -1 or null is none (the parent's); not updated (dockerd's update checks the range and ignores it, berthd refuses it)",
  ),
  'HostConfig.OomKillDisable': discarded('memory.oom_control (v1; v2 has no such switch); not updated'),
  'HostConfig.PidsLimit': resource,
  'HostConfig.Ulimits': applied('process rlimits (engine/linux-options.ts)'),
  'HostConfig.CpuCount': windows,
  'HostConfig.CpuPercent': windows,
  'HostConfig.IOMaximumIOps': windows,
  'HostConfig.IOMaximumBandwidth': windows,
  'HostConfig.Binds': applied('bind mounts and volumes (engine/mounts.ts)'),
  'HostConfig.ContainerIDFile': kept('the CLI writes it; dockerd keeps it as given'),
  'HostConfig.LogConfig': applied('json-file, local and none; other drivers refused (engine/log-config.ts)'),
  'HostConfig.NetworkMode': applied('bridge, none, host, container:<id> or a network (engine/networks)'),
  'HostConfig.PortBindings': applied(
    "published ports (kernel NAT: iptables, and ip6tables for IPv6 host addresses); a binding without a HostIp is published on 0.0.0.0 and, for a container with an IPv6 address (ip6tables on), on :: with the same host port, both listed in NetworkSettings.Ports, as dockerd 28; an IPv6 HostIp for a container with no IPv6 address maps nothing and is logged, as dockerd 28 with its userland proxy off (refused at create when berthd's ip6tables is off, or rootless); a binding without a HostIp on its network's host_binding_ipv4 (com.docker.network.bridge.host_binding_ipv4) where set; for a family its network has in gateway mode routed (com.docker.network.bridge.gateway_mode_ipv4, gateway_mode_ipv6) no NAT and no host port: the port is reached at the container's address of that family and shown as HostIp 0.0.0.0 (::), HostPort '' (the host port and address ignored, as dockerd 28 ignores them), the other family NATed as ever; on a network with com.docker.network.bridge.trusted_host_interfaces, reached at the container's address from those interfaces too",
  ),
  'HostConfig.RestartPolicy': applied('restarts (engine/containers/restart.ts)'),
  'HostConfig.AutoRemove': applied('removed when it exits'),
  'HostConfig.VolumeDriver': applied(
    'the driver of the volumes Binds and VOLUMEs make (not Mounts\', as dockerd): berth has `local` only, so another is dockerd\'s 404 `create NAME: error looking up volume plugin D: plugin "D" not found` when a volume needs it, and kept as given when none does (as dockerd)',
  ),
  'HostConfig.VolumesFrom': applied("another container's mounts"),
  'HostConfig.ConsoleSize': applied("the terminal's size at start"),
  'HostConfig.Annotations': applied("the OCI spec's annotations"),
  'HostConfig.CapAdd': applied('capabilities (engine/security.ts)'),
  'HostConfig.CapDrop': applied('capabilities (engine/security.ts)'),
  'HostConfig.CgroupnsMode': applied('private (the default) or host'),
  'HostConfig.Dns': applied('/etc/resolv.conf'),
  'HostConfig.DnsOptions': applied('/etc/resolv.conf'),
  'HostConfig.DnsSearch': applied('/etc/resolv.conf'),
  'HostConfig.ExtraHosts': applied("/etc/hosts; host-gateway is the default bridge's gateway"),
  'HostConfig.GroupAdd': applied("supplementary groups, numbers or names from the container's /etc/group"),
  'HostConfig.IpcMode': applied('private, shareable, none, host or container:<id> (engine/linux-options.ts)'),
  'HostConfig.Cgroup': refused(
    'dockerd keeps it with no effect (moby reads it nowhere: with `container:<id>` the container still gets a cgroup of its own); berth refuses rather than ignore it',
  ),
  'HostConfig.Links': applied(
    "legacy links on the default bridge: the linked container's /etc/hosts line and ALIAS_* variables (engine/containers/links.ts); on a user-defined network, the endpoint's links",
  ),
  'HostConfig.OomScoreAdj': applied('the process oom_score_adj'),
  'HostConfig.PidMode': applied('private, host or container:<id>'),
  'HostConfig.Privileged': applied('every capability and device, no seccomp or masked paths'),
  'HostConfig.PublishAllPorts': applied('-P'),
  'HostConfig.ReadonlyRootfs': applied('a read-only root'),
  'HostConfig.SecurityOpt': applied('seccomp, no-new-privileges; AppArmor and SELinux labels refused'),
  'HostConfig.StorageOpt': refused(
    "size only, as overlay2: refused in overlay2's words (a 500) where the backing file system has no project quotas, in berth's where it is xfs (berth sets no quota yet); size=0 asks for nothing and passes",
  ),
  'HostConfig.Tmpfs': applied('tmpfs mounts'),
  'HostConfig.UTSMode': applied('private or host'),
  'HostConfig.UsernsMode': applied(
    "'' runs the container in the daemon's --userns-remap user namespace (none without it), 'host' in none, 'auto' (podman's) in 65536 ids of its own from the remap user's ranges (engine/userns.ts); others are refused",
  ),
  'HostConfig.ShmSize': applied('the size of /dev/shm'),
  'HostConfig.Sysctls': applied(
    "namespaced sysctls, checked at create; those naming an interface (`net.X.Y.eth0.Z`) move to the NetworkMode endpoint's com.docker.network.endpoint.sysctls up to API 1.46 with dockerd's warning, and are refused in dockerd's words (a 500) from API 1.47 or for another ethN, as moby's handleSysctlBC",
  ),
  'HostConfig.Runtime': applied(
    "a runtime of berthd's (berth, runc: berth-runtime; others from daemon.json runtimes or --add-runtime, run through runc's command line)",
  ),
  'HostConfig.Isolation': refused("Windows isolation; only default passes on Linux (dockerd's 400)", ['default']),
  'HostConfig.Mounts': applied(
    "bind (CreateMountpoint, NonRecursive, Propagation; a read-only one recursively read-only, the OCI rro, from API 1.44 where the runtime can (berth-runtime on Linux 5.12+), its top mount only with ReadOnlyNonRecursive or an older client, ReadOnlyForceRecursive refused where it cannot), volume (VolumeOptions.Subpath: that path alone, resolved beneath the volume at create and again at start, dockerd's refusals when it leads out or is not there; VolumeOptions.DriverConfig: the local driver's options (type, device, o) for the volume it makes, as volume create takes them), tmpfs mounts (TmpfsOptions.Options: mount flags and size, mode, uid, gid, nr_inodes, nr_blocks, mpol, others refused in dockerd's words) and image mounts (always read-only, whatever ReadOnly says, as dockerd's: a read-only overlay of a local image's layers, idmapped for a remapped container as its root; ImageOptions.Subpath resolved beneath it as a volume's; no pull: dockerd's 404; another type's options refused in dockerd's words, as ImageOptions on another type) (engine/mounts.ts); cluster mounts refused (400)",
  ),
  'HostConfig.MaskedPaths': applied("the masked paths, instead of Docker's"),
  'HostConfig.ReadonlyPaths': applied("the read-only paths, instead of Docker's"),
  'HostConfig.Init': applied('docker-init (tini) as PID 1'),

  'NetworkingConfig.EndpointsConfig': applied('the networks joined at create, by name'),
  'EndpointSettings.IPAMConfig': applied('the addresses asked for'),
  'EndpointSettings.IPAMConfig.IPv4Address': applied("the container's IPv4 address on the network"),
  'EndpointSettings.IPAMConfig.IPv6Address': applied("the container's IPv6 address on a network with IPv6 (`--ipv6`)"),
  'EndpointSettings.IPAMConfig.LinkLocalIPs': applied(
    "link-local addresses on the container's interface (169.254.0.0/16 as /16, fe80::/10 as /64)",
  ),
  'EndpointSettings.Links': applied(
    "aliases the embedded DNS answers for this container alone (user-defined networks; the default bridge's have none, as dockerd's)",
  ),
  'EndpointSettings.Aliases': applied("names in the network's DNS"),
  'EndpointSettings.DriverOpts': applied(
    "on a bridge network, com.docker.network.endpoint.ifname (the interface's name in the container, checked at create as the kernel takes names; not two alike) and com.docker.network.endpoint.sysctls (its sysctls, set before it is up, with dockerd 25+'s checks and words), as dockerd 28 applies them; the typed ones dockerd 20.10 fails a start on (com.docker.network.endpoint.macaddress, com.docker.network.portmap, com.docker.network.endpoint.exposedports) refused in its words at create, any other refused (dockerd's bridge keeps them with no effect); a cni network's CNI_ARGS",
  ),
  'EndpointSettings.GwPriority': applied(
    "the default routes come from the bridge endpoint of the highest priority, then as dockerd 28 breaks ties (not internal, dual-stack, network name), IPv4 and IPv6 each from the first endpoint with that family's gateway; moved when a running container is connected or disconnected (engine/networks/gateway.ts); refused on a cni network",
  ),
  'EndpointSettings.MacAddress': applied(
    "the endpoint's MAC address, given again at every start (kept through a stop and a berthd restart, as dockerd's DesiredMacAddress)",
  ),
  'EndpointSettings.NetworkID': output(),
  'EndpointSettings.EndpointID': output(),
  'EndpointSettings.Gateway': output(),
  'EndpointSettings.IPAddress': output(),
  'EndpointSettings.IPPrefixLen': output(),
  'EndpointSettings.IPv6Gateway': output(),
  'EndpointSettings.GlobalIPv6Address': output(),
  'EndpointSettings.GlobalIPv6PrefixLen': output(),
  'EndpointSettings.DNSNames': output(),
};

interface DeviceRequest {
  Driver?: string;
  Capabilities?: string[][] | null;
}

/** dockerd's error for the first request no driver takes; capabilities as Go's %v prints [][]string. */
export function noDeviceDriver(reqs: DeviceRequest[]): string {
  const r = reqs[0] ?? {};
  const caps = `[${(r.Capabilities ?? []).map((c) => `[${(c ?? []).join(' ')}]`).join(' ')}]`;
  return `could not select device driver ${JSON.stringify(r.Driver ?? '')} with capabilities: ${caps}`;
}

/** Go's zero value, which means "not set" to dockerd. */
function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as object).every(isZero);
  return false;
}

function check(path: string, v: unknown): void {
  const rule = CREATE_FIELDS[path];
  if (rule?.status !== 'refused' || isZero(v) || rule.allow?.includes(v)) return;
  // dockerd on Linux refuses every other isolation before anything else, in these words.
  if (path === 'HostConfig.Isolation') throw invalid(`Invalid isolation: ${JSON.stringify(v)} - linux only supports 'default'`);
  // dockerd finds no device driver for the request (it has one only with NVIDIA's hook), a 500.
  if (path === 'HostConfig.DeviceRequests') throw systemError(noDeviceDriver(v as DeviceRequest[]));
  // engine/storage-opt.ts answers as overlay2 does.
  if (path === 'HostConfig.StorageOpt') return;
  const field = path.replace(/^Config\./, '');
  throw unsupported(`${field} is not supported by berthd: ${rule.note}`);
}

/** Refuses a create body (decoded) that sets a field berthd does not apply, naming the field and why. */
export function refuseUnsupported(body: Record<string, any>): void {
  for (const [k, v] of Object.entries(body)) if (k !== 'HostConfig' && k !== 'NetworkingConfig') check(`Config.${k}`, v);
  for (const [k, v] of Object.entries(body.HostConfig ?? {})) check(`HostConfig.${k}`, v);
  for (const ep of Object.values<Record<string, any>>(body.NetworkingConfig?.EndpointsConfig ?? {})) {
    for (const [k, v] of Object.entries(ep ?? {})) {
      check(`EndpointSettings.${k}`, v);
      if (k === 'IPAMConfig') for (const [ik, iv] of Object.entries(v ?? {})) check(`EndpointSettings.IPAMConfig.${ik}`, iv);
    }
  }
}

/** docs/api-fields.md's table, from CREATE_FIELDS. */
export function fieldsTable(): string {
  const rows = Object.entries(CREATE_FIELDS).map(([k, r]) => `| \`${k}\` | ${r.status} | ${r.note.replace(/\|/g, '\\|')} |`);
  return ['| field | berthd | how |', '| --- | --- | --- |', ...rows].join('\n');
}
