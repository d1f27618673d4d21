// A service of the canonical model as the Engine API's container create body (Config,
// HostConfig, NetworkingConfig), named and labelled as Compose v2 does. Each key berth compose
// applies is listed here; a key of the file that is not (GPUs, resource reservations, a build
// until berth has a builder…) is refused with its file and line before anything is made, never
// dropped.

import type { ContainerFile } from '../api/container-files.js';
import type { Dict } from './normalize.js';
import { sharedService, type Project } from './project.js';
import { imageOf } from './service-build.js';
import { COMPOSE_VERSION, configHash, dependsOnLabel, L } from './labels.js';
import { parseSize as sizeBytes } from '../common/size.js';

/** Service keys whose values convert below. */
const APPLIED = new Set([
  'image',
  'command',
  'entrypoint',
  'environment',
  'ports',
  'expose',
  'volumes',
  'tmpfs',
  'networks',
  'network_mode',
  'depends_on',
  'healthcheck',
  'restart',
  'user',
  'working_dir',
  'labels',
  'init',
  'stop_signal',
  'stop_grace_period',
  'cap_add',
  'cap_drop',
  'read_only',
  'ulimits',
  'sysctls',
  'extra_hosts',
  'dns',
  'dns_search',
  'dns_opt',
  'logging',
  'deploy',
  'scale',
  'profiles',
  'secrets',
  'configs',
  'hostname',
  'domainname',
  'container_name',
  'tty',
  'stdin_open',
  'privileged',
  'security_opt',
  'shm_size',
  'pid',
  'ipc',
  'oom_score_adj',
  'pids_limit',
  'group_add',
  'mem_limit',
  'cpus',
  'pull_policy',
  'annotations',
  'links',
  'external_links',
  'devices',
  'device_cgroup_rules',
  'mem_reservation',
  'memswap_limit',
  'mem_swappiness',
  'oom_kill_disable',
  'cpu_shares',
  'cpu_quota',
  'cpu_period',
  'cpu_rt_period',
  'cpu_rt_runtime',
  'cpu_count',
  'cpu_percent',
  'cpuset',
  'blkio_config',
  'cgroup',
  'cgroup_parent',
  'mac_address',
  'userns_mode',
  'uts',
  'runtime',
  'isolation',
  'storage_opt',
  'volumes_from',
]);

/** A size key's bytes: a number as it is, a string as Docker's sizes (`64m`); -1 (unlimited) kept. */
const bytes = (v: unknown): number | undefined =>
  v === undefined || v === null ? undefined : typeof v === 'number' ? v : String(v) === '-1' ? -1 : sizeBytes(String(v));

/** A whole number written as a number or a string of digits (compose's intOrStr keys). */
function integer(p: Project, path: (string | number)[], v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (!/^-?\d+$/.test(String(v))) throw p.errorAt(path, `${JSON.stringify(v)}: expected a whole number`);
  return Number(v);
}

/** cpu_rt_period and cpu_rt_runtime: microseconds, as a number or a Go duration (`400ms`). */
function micros(p: Project, path: (string | number)[], v: unknown): number | undefined {
  if (v === undefined || v === null || /^-?\d+$/.test(String(v))) return integer(p, path, v);
  try {
    return Math.round(durationNs(String(v)) / 1e3);
  } catch (e) {
    throw p.errorAt(path, (e as Error).message);
  }
}

/** A `devices` entry (`HOST[:CONTAINER[:PERMISSIONS]]` or `{source, target, permissions}`) as a DeviceMapping. */
function deviceMapping(d: string | Dict): Dict {
  if (typeof d !== 'string')
    return { PathOnHost: d.source, PathInContainer: d.target ?? d.source, CgroupPermissions: d.permissions ?? 'rwm' };
  const [host, inside, perms] = d.split(':');
  // As docker's ParseDevice: a second part that is all of r, w and m is the permissions.
  if (perms === undefined && inside !== undefined && /^[rwm]+$/.test(inside))
    return { PathOnHost: host, PathInContainer: host, CgroupPermissions: inside };
  return { PathOnHost: host, PathInContainer: inside ?? host, CgroupPermissions: perms ?? 'rwm' };
}

/** blkio_config as HostConfig's Blkio* fields; rates take sizes (`1mb`), IOps numbers. */
function blkio(b: Dict | undefined): Dict {
  if (!b) return {};
  const rates = (l: Dict[] | undefined, iops = false) => l?.map((x) => ({ Path: x.path, Rate: iops ? Number(x.rate) : bytes(x.rate) }));
  return {
    BlkioWeight: b.weight,
    BlkioWeightDevice: b.weight_device?.map((x: Dict) => ({ Path: x.path, Weight: x.weight })),
    BlkioDeviceReadBps: rates(b.device_read_bps),
    BlkioDeviceWriteBps: rates(b.device_write_bps),
    BlkioDeviceReadIOps: rates(b.device_read_iops, true),
    BlkioDeviceWriteIOps: rates(b.device_write_iops, true),
  };
}

/** Go's time.ParseDuration, in nanoseconds. */
export function durationNs(s: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  if (s === '0') return 0;
  let total = 0;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * units[m[2]];
    at = re.lastIndex;
  }
  if (!at || at !== s.length)
    throw new Error(`invalid duration ${JSON.stringify(s)}: expected a number and a unit (ns, us, ms, s, m, h), as 1m30s`);
  return Math.round(total);
}

/** Refuses, with file and line, every key of `s` berth compose does not apply. */
export function refuseUnapplied(p: Project, name: string, s: Dict): void {
  const at = (...path: (string | number)[]) => ['services', name, ...path];
  const no = (path: (string | number)[], why = 'berth compose cannot apply it yet') => {
    throw p.errorAt(path, why, true);
  };
  for (const k of Object.keys(s)) {
    if (k.startsWith('x-')) continue;
    if (k === 'build') continue; // service-build.ts's refuseBuild
    if (!APPLIED.has(k)) no(at(k), `"${k}": berth compose cannot apply it yet`);
  }
  for (const k of Object.keys(s.deploy ?? {})) {
    if (k !== 'replicas' && k !== 'resources')
      no(at('deploy', k), `"deploy.${k}": berth compose applies only deploy.replicas and deploy.resources.limits`);
  }
  for (const k of Object.keys(s.deploy?.resources ?? {})) {
    if (k !== 'limits' && k !== 'reservations')
      no(at('deploy', 'resources', k), `"deploy.resources.${k}": berth compose applies only resource limits and reservations`);
  }
  // As Compose v2: a memory reservation is the container's; CPU and generic reservations are a swarm's.
  for (const k of Object.keys(s.deploy?.resources?.reservations ?? {})) {
    if (k !== 'memory')
      no(
        at('deploy', 'resources', 'reservations', k),
        `"deploy.resources.reservations.${k}": berth compose applies only a memory reservation`,
      );
  }
  for (const k of Object.keys(s.blkio_config ?? {})) {
    if (!['weight', 'weight_device', 'device_read_bps', 'device_write_bps', 'device_read_iops', 'device_write_iops'].includes(k))
      no(at('blkio_config', k), `"blkio_config.${k}": unknown key`);
  }
  for (const k of Object.keys(s.deploy?.resources?.limits ?? {})) {
    if (!['cpus', 'memory', 'pids'].includes(k))
      no(at('deploy', 'resources', 'limits', k), `"deploy.resources.limits.${k}": berth compose cannot apply it yet`);
  }
  if (s.mac_address && s.network_mode)
    no(at('mac_address'), `"mac_address" with "network_mode": berth compose sets a MAC address on a network of the service's own`);
  for (const [i, port] of ((s.ports as Dict[]) ?? []).entries()) {
    if (port.mode === 'host') continue;
    if (port.name || port.app_protocol) no(at('ports', i), 'port names and app_protocol: berth compose cannot apply them yet');
  }
  for (const [i, v] of ((s.volumes as Dict[]) ?? []).entries()) {
    if (!['bind', 'volume', 'tmpfs'].includes(v.type))
      no(at('volumes', i), `volume type "${v.type}": berth compose mounts bind, volume and tmpfs`);
    if (v.consistency) no(at('volumes', i), 'consistency: berth compose cannot apply it');
    if (v.bind?.selinux || v.bind?.recursive)
      no(at('volumes', i), 'SELinux relabels and recursive bind options: berth compose cannot apply them yet');
    if (v.volume?.subpath || v.volume?.labels) no(at('volumes', i), 'volume subpath and labels: berth compose cannot apply them yet');
  }
  for (const kind of ['secrets', 'configs'] as const) {
    for (const [i, r] of ((s[kind] as Dict[]) ?? []).entries()) {
      const def = p[kind][r.source];
      for (const k of Object.keys(def)) {
        if (!['name', 'file', 'environment', 'content'].includes(k) && !k.startsWith('x-'))
          no(
            [kind, r.source, k],
            `"${k}": berth compose cannot apply it to a ${kind.slice(0, -1)}${k === 'external' ? " (external ones are a swarm's)" : ''}`,
          );
      }
      if (def.file) {
        if (r.uid !== undefined || r.gid !== undefined || r.mode !== undefined)
          no(at(kind, i), `uid, gid and mode of ${kind} from a file: berth compose mounts the file as it is on the host`);
      } else if (def.environment === undefined && def.content === undefined) {
        no([kind, r.source], `berth compose takes ${kind} from "file", "environment" or "content"`);
      }
      if (r.mode !== undefined) fileMode(p, at(kind, i, 'mode'), r.mode);
      for (const k of ['uid', 'gid']) {
        if (r[k] !== undefined && !/^\d+$/.test(String(r[k]))) no(at(kind, i, k), `${k} ${JSON.stringify(r[k])}: expected a number`);
      }
      if (!def.file) inlineData(p, kind, r.source); // (a variable not set is refused before anything is made)
    }
  }
}

/** Compose's `mode`, written in octal: a YAML number's digits (0440 reads as 440), or a string. */
function fileMode(p: Project, path: (string | number)[], mode: number | string): number {
  const digits = String(mode);
  if (!/^0?[0-7]{1,4}$/.test(digits)) throw p.errorAt(path, `mode ${digits}: expected permissions in octal, as 0440`);
  return parseInt(digits, 8);
}

/** A secret's or config's text from `content` or the variable `environment` names. */
function inlineData(p: Project, kind: 'secrets' | 'configs', key: string): Buffer {
  const def = p[kind][key];
  if (def.content !== undefined) return Buffer.from(String(def.content));
  const value = p.lookup(def.environment);
  if (value === undefined) throw p.errorAt([kind, key, 'environment'], `environment variable "${def.environment}" is not set`);
  return Buffer.from(value);
}

function restartPolicy(r: string | undefined): Dict | undefined {
  if (!r) return undefined;
  const [name, max] = r.split(':');
  return { Name: name === 'no' ? 'no' : name, MaximumRetryCount: max ? Number(max) : 0 };
}

function healthcheck(h: Dict | undefined): Dict | undefined {
  if (!h) return undefined;
  if (h.disable) return { Test: ['NONE'] };
  const out: Dict = {};
  if (h.test) out.Test = h.test;
  if (h.interval) out.Interval = durationNs(h.interval);
  if (h.timeout) out.Timeout = durationNs(h.timeout);
  if (h.start_period) out.StartPeriod = durationNs(h.start_period);
  if (h.start_interval) out.StartInterval = durationNs(h.start_interval);
  if (h.retries !== undefined) out.Retries = h.retries;
  return out;
}

export const containerName = (p: Project, service: string, n: number) => p.services[service]?.container_name ?? `${p.name}-${service}-${n}`;

/** The labels a container of the service carries. */
export function serviceLabels(p: Project, service: string, n: number, oneoff = false): Dict {
  const s = p.services[service];
  return {
    ...(s.labels ?? {}),
    [L.project]: p.name,
    [L.service]: service,
    [L.number]: String(n),
    [L.oneoff]: oneoff ? 'True' : 'False',
    [L.hash]: configHash(s),
    [L.workingDir]: p.workingDir,
    [L.configFiles]: p.configFiles.join(','),
    [L.version]: COMPOSE_VERSION,
    [L.dependsOn]: dependsOnLabel(s),
  };
}

/**
 * The create body of container `n` of `service`. `containerOf` names the container of another
 * service whose namespace `key` joins (network_mode, ipc, pid: service:x). Networks beyond the
 * first are connected before start (the create body carries one).
 */
export function createBody(
  p: Project,
  service: string,
  n: number,
  opts: { oneoff?: boolean; containerOf?: (s: string, key: string) => string; replicas?: (s: string) => number } = {},
): { body: Dict; extraNetworks: [string, Dict][]; files: ContainerFile[] } {
  const s = p.services[service];
  // As Compose v2: each container of a linked service, under the link's alias (else the
  // service's name); an external link names its container as it is.
  const links = [
    ...((s.links as string[]) ?? []).flatMap((l) => {
      const [other, alias = other] = l.split(':');
      return Array.from({ length: opts.replicas!(other) }, (_, i) => `${containerName(p, other, i + 1)}:${alias}`);
    }),
    ...((s.external_links as string[]) ?? []).map((l) => (l.includes(':') ? l : `${l}:${l}`)),
  ];
  const mode = (key: 'network_mode' | 'ipc' | 'pid'): string | undefined => {
    const other = sharedService(s[key]);
    return other ? `container:${opts.containerOf!(other, key)}` : s[key];
  };
  const env = Object.entries((s.environment as Dict) ?? {})
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}=${v}`);
  const exposed: Dict = {};
  const bindings: Dict = {};
  for (const e of (s.expose as string[]) ?? []) exposed[e.includes('/') ? e : `${e}/tcp`] = {};
  for (const port of (s.ports as Dict[]) ?? []) {
    const key = `${port.target}/${port.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: port.host_ip ?? '', HostPort: port.published ?? '' });
  }
  const binds: string[] = [];
  const mounts: Dict[] = [];
  const files: ContainerFile[] = [];
  for (const v of (s.volumes as Dict[]) ?? []) {
    if (v.type === 'bind' && v.bind?.create_host_path !== false && !v.bind?.propagation) {
      binds.push(`${v.source}:${v.target}${v.read_only ? ':ro' : ''}`);
    } else if (v.type === 'bind') {
      mounts.push({
        Type: 'bind',
        Source: v.source,
        Target: v.target,
        ReadOnly: !!v.read_only,
        ...(v.bind?.propagation ? { BindOptions: { Propagation: v.bind.propagation } } : {}),
      });
    } else if (v.type === 'volume') {
      mounts.push({
        Type: 'volume',
        ...(v.source ? { Source: p.volumes[v.source].name } : {}),
        Target: v.target,
        ReadOnly: !!v.read_only,
        ...(v.volume?.nocopy ? { VolumeOptions: { NoCopy: true } } : {}),
      });
    } else {
      const t: Dict = {};
      if (v.tmpfs?.size !== undefined) t.SizeBytes = typeof v.tmpfs.size === 'number' ? v.tmpfs.size : sizeBytes(String(v.tmpfs.size));
      if (v.tmpfs?.mode !== undefined) t.Mode = typeof v.tmpfs.mode === 'number' ? v.tmpfs.mode : parseInt(v.tmpfs.mode, 8);
      mounts.push({ Type: 'tmpfs', Target: v.target, ReadOnly: !!v.read_only, ...(Object.keys(t).length ? { TmpfsOptions: t } : {}) });
    }
  }
  for (const [kind, dir] of [
    ['secrets', '/run/secrets/'],
    ['configs', '/'],
  ] as const) {
    for (const [i, r] of ((s[kind] as Dict[]) ?? []).entries()) {
      const target = r.target ? (r.target.startsWith('/') ? r.target : dir + r.target) : dir + r.source;
      if (p[kind][r.source].file) {
        binds.push(`${p[kind][r.source].file}:${target}:ro`);
        continue;
      }
      // As Compose v2: written into the container before it starts, read-only to all unless `mode`.
      files.push({
        path: target,
        data: inlineData(p, kind, r.source),
        mode: r.mode !== undefined ? fileMode(p, ['services', service, kind, i, 'mode'], r.mode) : 0o444,
        uid: r.uid !== undefined ? Number(r.uid) : undefined,
        gid: r.gid !== undefined ? Number(r.gid) : undefined,
      });
    }
  }
  const tmpfs: Dict = {};
  for (const t of (s.tmpfs as string[]) ?? []) {
    const [path, ...o] = t.split(':');
    tmpfs[path] = o.join(':');
  }
  const limits = s.deploy?.resources?.limits ?? {};
  const host: Dict = {
    Binds: binds.length ? binds : undefined,
    Mounts: mounts.length ? mounts : undefined,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    PortBindings: Object.keys(bindings).length ? bindings : undefined,
    RestartPolicy: restartPolicy(s.restart),
    Init: s.init,
    CapAdd: s.cap_add,
    CapDrop: s.cap_drop,
    ReadonlyRootfs: s.read_only,
    Ulimits: s.ulimits ? Object.entries(s.ulimits as Dict).map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })) : undefined,
    Sysctls: s.sysctls,
    ExtraHosts: s.extra_hosts ? Object.entries(s.extra_hosts as Dict).map(([h, ip]) => `${h}:${ip}`) : undefined,
    Dns: s.dns,
    DnsSearch: s.dns_search,
    DnsOptions: s.dns_opt,
    LogConfig: s.logging ? { Type: s.logging.driver ?? 'json-file', Config: s.logging.options ?? {} } : undefined,
    Privileged: s.privileged,
    SecurityOpt: s.security_opt,
    ShmSize: s.shm_size !== undefined ? (typeof s.shm_size === 'number' ? s.shm_size : sizeBytes(String(s.shm_size))) : undefined,
    PidMode: mode('pid') ?? undefined,
    IpcMode: mode('ipc'),
    OomScoreAdj: s.oom_score_adj,
    PidsLimit: limits.pids ?? (s.pids_limit !== undefined ? Number(s.pids_limit) : undefined),
    GroupAdd: s.group_add?.map(String),
    Memory: (limits.memory ?? s.mem_limit) ? sizeBytes(String(limits.memory ?? s.mem_limit)) : undefined,
    NanoCpus: (limits.cpus ?? s.cpus) ? Math.round(Number(limits.cpus ?? s.cpus) * 1e9) : undefined,
    MemoryReservation: bytes(s.deploy?.resources?.reservations?.memory ?? s.mem_reservation),
    MemorySwap: bytes(s.memswap_limit),
    MemorySwappiness: s.mem_swappiness,
    OomKillDisable: s.oom_kill_disable,
    CpuShares: integer(p, ['services', service, 'cpu_shares'], s.cpu_shares),
    CpuQuota: integer(p, ['services', service, 'cpu_quota'], s.cpu_quota),
    CpuPeriod: integer(p, ['services', service, 'cpu_period'], s.cpu_period),
    CpuRealtimePeriod: micros(p, ['services', service, 'cpu_rt_period'], s.cpu_rt_period),
    CpuRealtimeRuntime: micros(p, ['services', service, 'cpu_rt_runtime'], s.cpu_rt_runtime),
    CpuCount: s.cpu_count,
    CpuPercent: s.cpu_percent,
    CpusetCpus: s.cpuset,
    ...blkio(s.blkio_config),
    Devices: s.devices?.map(deviceMapping),
    DeviceCgroupRules: s.device_cgroup_rules,
    CgroupnsMode: s.cgroup,
    CgroupParent: s.cgroup_parent,
    UsernsMode: s.userns_mode,
    UTSMode: s.uts,
    Runtime: s.runtime,
    Isolation: s.isolation,
    StorageOpt: s.storage_opt,
    VolumesFrom: (s.volumes_from as string[] | undefined)?.map((v) => {
      if (v.startsWith('container:')) return v.slice('container:'.length);
      const [other, ...m] = v.split(':');
      return [opts.containerOf!(other, 'volumes_from'), ...m].join(':');
    }),
    Annotations: s.annotations,
    Links: links.length ? links : undefined,
  };
  // docker compose's order (compose-go's NetworksByPriority): the highest `priority` first (0 when
  // unset), ties by name; the first is the NetworkMode, the others are connected after the create in turn.
  const networks = Object.entries((s.networks as Dict) ?? {}).sort(
    ([a, x], [b, y]) => (y?.priority ?? 0) - (x?.priority ?? 0) || (a < b ? -1 : a > b ? 1 : 0),
  );
  const endpoint = (cfg: Dict | null): Dict => {
    const asked = { IPv4Address: cfg?.ipv4_address, IPv6Address: cfg?.ipv6_address, LinkLocalIPs: cfg?.link_local_ips };
    const ipam = Object.fromEntries(Object.entries(asked).filter(([, v]) => v !== undefined));
    // interface_name is the endpoint's ifname driver option, as docker compose sends it.
    const opts = {
      ...(cfg?.driver_opts ?? {}),
      ...(cfg?.interface_name ? { 'com.docker.network.endpoint.ifname': cfg.interface_name } : {}),
    };
    return {
      Aliases: [service, ...(cfg?.aliases ?? [])],
      ...(Object.keys(ipam).length ? { IPAMConfig: ipam } : {}),
      ...(cfg?.mac_address ? { MacAddress: cfg.mac_address } : {}),
      ...(Object.keys(opts).length ? { DriverOpts: opts } : {}),
      ...(cfg?.gw_priority !== undefined ? { GwPriority: cfg.gw_priority } : {}),
    };
  };
  let networking: Dict | undefined;
  if (s.network_mode) {
    host.NetworkMode = mode('network_mode');
  } else if (networks.length) {
    const [key, cfg] = networks[0];
    host.NetworkMode = p.networks[key].name;
    // As Compose v2: the service's mac_address is its first network's (a network's own wins).
    const first = s.mac_address && !cfg?.mac_address ? { ...cfg, mac_address: s.mac_address } : cfg;
    networking = { EndpointsConfig: { [p.networks[key].name]: endpoint(first) } };
  }
  const body: Dict = {
    Image: imageOf(p, service),
    Cmd: s.command ?? undefined,
    Entrypoint: s.entrypoint ?? undefined,
    Env: env.length ? env : undefined,
    Labels: serviceLabels(p, service, n, opts.oneoff),
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    User: s.user,
    WorkingDir: s.working_dir,
    Hostname: s.hostname,
    Domainname: s.domainname,
    Tty: s.tty,
    OpenStdin: s.stdin_open,
    StopSignal: s.stop_signal,
    StopTimeout: s.stop_grace_period !== undefined ? Math.ceil(durationNs(s.stop_grace_period) / 1e9) : undefined,
    Healthcheck: healthcheck(s.healthcheck),
    HostConfig: host,
    NetworkingConfig: networking,
  };
  const extraNetworks = networks.slice(1).map(([key, cfg]) => [p.networks[key].name, { EndpointConfig: endpoint(cfg) }] as [string, Dict]);
  return { body: strip(body), extraNetworks, files };
}

/** The body without its undefined fields (the API refuses none, but inspect and the hash stay clean). */
function strip(v: Dict): Dict {
  const out: Dict = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    out[k] = x && typeof x === 'object' && !Array.isArray(x) && k !== 'Labels' && k !== 'ExposedPorts' ? strip(x) : x;
  }
  return out;
}
