// `berth run` and `berth create`: the POST /containers/create body their flags make (the API's
// Config, HostConfig and NetworkingConfig fields, as docker's CLI fills them) and the create
// itself, pulling the image as --pull says (a missing one by default). Every flag of docker 28's
// (run-flags.ts) goes into the body or is refused here; the daemon checks the values it gets.

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ApiClient } from '../../api/client.js';
import { BerthError, invalid, unsupported } from '../../errors.js';
import { parseCommand, type CommandSpec } from '../args.js';
import * as v from '../flag-values.js';
import { readKeyValueFile } from '../kv-file.js';
import { terminalSize } from '../output.js';
import { pullImage } from './pull.js';
import { CREATE_FLAGS, RUN_ONLY } from './run-flags.js';
import { lifecycleConfig, resourceFields } from './run-lifecycle.js';
import { mountFields } from './run-mounts.js';
import { emptyEndpoint, networkFields } from './run-network.js';
import { securityFields } from './run-security.js';

export const CREATE: CommandSpec = {
  path: 'create',
  use: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  about: 'Create a new container',
  aliases: ['berth container create', 'berth create'],
  flags: CREATE_FLAGS,
  args: { min: 1 },
  stopAtOperand: true,
};
export const RUN: CommandSpec = {
  path: 'run',
  use: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  about: 'Create and run a new container from an image',
  aliases: ['berth container run', 'berth run'],
  flags: { ...CREATE_FLAGS, ...RUN_ONLY },
  args: { min: 1 },
  stopAtOperand: true,
};

type Flags = Record<string, boolean | string | string[] | undefined>;
const listOf = (f: Flags, k: string) => (f[k] as string[] | undefined) ?? [];
const given = (f: Flags, k: string) => f[k] as string | undefined;

/** `VAR=value` as given; a bare `VAR` takes the value it has here, as docker does. */
function envList(f: Flags): string[] | undefined {
  const fromFiles = listOf(f, 'env-file').flatMap((p) => readKeyValueFile(p, (k) => process.env[k]));
  const all = [
    ...fromFiles,
    ...listOf(f, 'env').map((e) => (e.includes('=') || process.env[e] === undefined ? e : `${e}=${process.env[e]}`)),
  ];
  return all.length ? all : undefined;
}

function labels(f: Flags): Record<string, string> {
  const list = [...listOf(f, 'label-file').flatMap((p) => readKeyValueFile(p, () => undefined)), ...listOf(f, 'label')];
  return sortedKeys(
    Object.fromEntries(
      list.map((l) => {
        const i = l.indexOf('=');
        return i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i + 1)];
      }),
    ),
  );
}

/** The map with its keys in order, as Go's JSON encoder sends a map (and docker's CLI with it). */
function sortedKeys(m: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const keyValues = (list: string[], parse: (s: string) => [string, string]) =>
  list.length ? sortedKeys(Object.fromEntries(list.map(parse))) : undefined;

/** nat.ParsePortRange: `80` or `8000-8010`. */
function portRange(s: string): [number, number] {
  const [a, b = a, ...rest] = s.split('-');
  const n = (x: string) => {
    if (!/^\d+$/.test(x) || Number(x) > 65535) throw new Error(`strconv.ParseUint: parsing "${x}": invalid syntax`);
    return Number(x);
  };
  if (rest.length) throw new Error(`invalid range specified for port: ${s}`);
  const [start, end] = [n(a), n(b)];
  if (end < start) throw new Error(`invalid range specified for port: ${s}`);
  return [start, end];
}

type Binding = { HostIp: string; HostPort: string };

/** `-p [ip:][hostPort[-end]:]containerPort[-end][/proto]` and `--expose port[-end][/proto]`, as docker's nat.ParsePortSpec. */
export function ports(f: Flags): { ExposedPorts?: Record<string, object>; PortBindings?: Record<string, Binding[]> } {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Binding[]> = {};
  for (const e of listOf(f, 'expose')) {
    const [p, proto = 'tcp'] = e.split('/');
    let range: [number, number];
    try {
      range = portRange(p);
    } catch (err) {
      throw invalid(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let port = range[0]; port <= range[1]; port++) exposed[`${port}/${proto.toLowerCase()}`] = {};
  }
  for (const spec of listOf(f, 'publish')) {
    const slash = spec.lastIndexOf('/');
    const [rest, proto] = slash < 0 ? [spec, 'tcp'] : [spec.slice(0, slash), spec.slice(slash + 1).toLowerCase() || 'tcp'];
    const parts = rest.split(':');
    const container = parts[parts.length - 1];
    const host = parts.length > 1 ? parts[parts.length - 2] : '';
    let ip = parts.length > 2 ? parts.slice(0, -2).join(':') : '';
    if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (ip && !v.ipAddressOk(ip)) throw invalid(`invalid IP address: ${ip}`);
    if (!container) throw invalid(`no port specified: ${spec}<empty>`);
    let c: [number, number],
      h: [number, number] = [0, 0];
    try {
      c = portRange(container);
    } catch {
      throw invalid(`invalid containerPort: ${container}`);
    }
    if (host)
      try {
        h = portRange(host);
      } catch {
        throw invalid(`invalid hostPort: ${host}`);
      }
    const same = host !== '' && c[1] - c[0] === h[1] - h[0];
    if (host && !same && c[0] !== c[1]) throw invalid(`invalid ranges specified for container and host Ports: ${container} and ${host}`);
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw invalid(`invalid proto: ${proto}`);
    for (let i = 0; i <= c[1] - c[0]; i++) {
      const key = `${c[0] + i}/${proto}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostIp: ip, HostPort: same ? String(h[0] + i) : host });
    }
  }
  return {
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    ...(Object.keys(bindings).length ? { PortBindings: bindings } : {}),
  };
}

/** `-v`: a source (a path: `/`, `.` or `~` first; or a volume name) makes a bind, with `./rel` made absolute from here as docker 28 does; a lone path an anonymous volume. */
export function volumes(f: Flags, cwd = process.cwd()): { Binds?: string[]; Volumes?: Record<string, object> } {
  const binds: string[] = [],
    anon: Record<string, object> = {};
  for (const spec of listOf(f, 'volume')) {
    const i = spec.indexOf(':');
    if (i < 0) {
      anon[spec] = {};
      continue;
    }
    const src = spec.slice(0, i);
    binds.push(src.startsWith('.') ? `${resolve(cwd, src)}${spec.slice(i)}` : spec);
  }
  return { Binds: binds.length ? binds : undefined, Volumes: Object.keys(anon).length ? anon : undefined };
}

/** Streams of `-a` (run: those attached; create: those the container is made for). */
function attachStreams(f: Flags, detach: boolean): { stdin: boolean; stdout: boolean; stderr: boolean } {
  const a = listOf(f, 'attach').map((s) => s.toLowerCase());
  if (a.length) {
    if (detach) throw invalid('conflicting options: cannot specify both --attach and --detach');
    return { stdin: a.includes('stdin'), stdout: a.includes('stdout'), stderr: a.includes('stderr') };
  }
  return { stdin: !!f.interactive && !detach, stdout: !detach, stderr: !detach };
}

/** Flags berth refuses rather than ignores: no content trust, no API socket in containers. */
function refused(f: Flags): void {
  if (f['disable-content-trust'] === false)
    throw unsupported('berth does not verify image signatures: --disable-content-trust=false is not supported');
  if (f['use-api-socket']) throw unsupported("--use-api-socket is not supported by berth: bind-mount the daemon's socket with -v instead");
}

/** The create body for `image` and its command, from the flags. `detach`: no streams attached. */
export function createBody(f: Flags, image: string, cmd: string[], detach: boolean): Record<string, unknown> {
  refused(f);
  const tty = !!f.tty;
  const streams = attachStreams(f, detach);
  const logOpts = listOf(f, 'log-opt');
  const p = ports(f);
  const vols = volumes(f);
  const swappiness = f['memory-swappiness'] === undefined ? -1 : v.int(given(f, 'memory-swappiness')!);
  // The docker CLI's own check, before any request.
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100))
    throw invalid(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);
  const net = networks(f);
  const devices = (k: string, iops: boolean) => (listOf(f, k).length ? listOf(f, k).map((d) => v.throttleDevice(d, iops)) : undefined);
  return {
    Image: image,
    Cmd: cmd.length ? cmd : undefined,
    Entrypoint: f.entrypoint === undefined ? undefined : f.entrypoint === '' ? [''] : [f.entrypoint as string],
    Hostname: given(f, 'hostname'),
    Domainname: given(f, 'domainname'),
    Env: envList(f),
    WorkingDir: given(f, 'workdir'),
    User: given(f, 'user'),
    Labels: labels(f),
    Tty: tty,
    OpenStdin: !!f.interactive,
    StdinOnce: !!f.interactive && streams.stdin,
    AttachStdin: streams.stdin,
    AttachStdout: streams.stdout,
    AttachStderr: streams.stderr,
    ...lifecycleConfig(f),
    ExposedPorts: p.ExposedPorts,
    Volumes: vols.Volumes,
    HostConfig: {
      // The terminal's size from the first byte on, as docker sends it (a resize follows the start).
      ConsoleSize: tty && !detach ? terminalSize() : undefined,
      AutoRemove: !!f.rm,
      Memory: f.memory ? v.ramBytes(f.memory as string) : 0,
      NanoCpus: f.cpus ? v.nanoCpus(f.cpus as string) : 0,
      PidsLimit: f['pids-limit'] ? v.int(f['pids-limit'] as string) : undefined,
      ...resourceFields(f),
      KernelMemory: f['kernel-memory'] ? v.ramBytes(f['kernel-memory'] as string) : undefined,
      MemorySwappiness: swappiness === -1 ? undefined : swappiness,
      OomKillDisable: f['oom-kill-disable'] ? true : undefined,
      OomScoreAdj: f['oom-score-adj'] === undefined ? undefined : v.int(given(f, 'oom-score-adj')!),
      ShmSize: f['shm-size'] ? v.ramBytes(f['shm-size'] as string) : undefined,
      CpuCount: f['cpu-count'] === undefined ? undefined : v.int(given(f, 'cpu-count')!),
      CpuPercent: f['cpu-percent'] === undefined ? undefined : v.int(given(f, 'cpu-percent')!),
      IOMaximumBandwidth: f['io-maxbandwidth'] ? v.ramBytes(f['io-maxbandwidth'] as string) : undefined,
      IOMaximumIOps: f['io-maxiops'] === undefined ? undefined : v.uint(given(f, 'io-maxiops')!),
      BlkioWeightDevice: listOf(f, 'blkio-weight-device').length ? listOf(f, 'blkio-weight-device').map(v.weightDevice) : undefined,
      BlkioDeviceReadBps: devices('device-read-bps', false),
      BlkioDeviceWriteBps: devices('device-write-bps', false),
      BlkioDeviceReadIOps: devices('device-read-iops', true),
      BlkioDeviceWriteIOps: devices('device-write-iops', true),
      Devices: listOf(f, 'device').length ? listOf(f, 'device').map(v.device) : undefined,
      DeviceCgroupRules: listOf(f, 'device-cgroup-rule').length ? listOf(f, 'device-cgroup-rule') : undefined,
      DeviceRequests: f.gpus ? [v.gpus(f.gpus as string)] : undefined,
      Ulimits: listOf(f, 'ulimit').length ? listOf(f, 'ulimit').map(v.ulimit) : undefined,
      Sysctls: keyValues(listOf(f, 'sysctl'), v.sysctl),
      Annotations: keyValues(listOf(f, 'annotation'), (s) => v.keyValue(s, `bad format for annotation: ${s}`)),
      StorageOpt: keyValues(listOf(f, 'storage-opt'), (s) => {
        try {
          return v.keyValue(s, 'invalid storage option');
        } catch (e) {
          throw invalid((e as Error).message);
        }
      }),
      GroupAdd: listOf(f, 'group-add').length ? listOf(f, 'group-add') : undefined,
      Links: listOf(f, 'link').length ? listOf(f, 'link') : undefined,
      CgroupParent: given(f, 'cgroup-parent'),
      CgroupnsMode: given(f, 'cgroupns'),
      PidMode: given(f, 'pid'),
      IpcMode: given(f, 'ipc'),
      UTSMode: given(f, 'uts'),
      UsernsMode: given(f, 'userns'),
      Isolation: given(f, 'isolation'),
      Runtime: given(f, 'runtime'),
      VolumeDriver: given(f, 'volume-driver'),
      LogConfig:
        logOpts.length || f['log-driver']
          ? {
              Type: given(f, 'log-driver') ?? '',
              Config: sortedKeys(
                Object.fromEntries(
                  logOpts.map((o) => {
                    const i = o.indexOf('=');
                    if (i < 1) throw invalid(`invalid key value pair format in --log-opt: ${o}`);
                    return [o.slice(0, i), o.slice(i + 1)];
                  }),
                ),
              ),
            }
          : undefined,
      PortBindings: p.PortBindings,
      PublishAllPorts: f['publish-all'] ? true : undefined,
      NetworkMode: net?.NetworkMode,
      ...mountFields(f),
      Binds: vols.Binds,
      ExtraHosts: listOf(f, 'add-host').length ? listOf(f, 'add-host').map(v.extraHost) : undefined,
      ...securityFields(f),
    },
    NetworkingConfig: net?.NetworkingConfig,
    // berth's extension of the create body (api/server/containers.ts).
    Pod: given(f, 'pod'),
  };
}

/**
 * NetworkMode and the endpoints, as docker's CLI sends them; with --pod and no network flag none
 * (a pod's member takes the pod's network, and berthd refuses a network of its own beside it).
 */
function networks(f: Flags) {
  const fields = networkFields(listOf(f, 'network'), {
    aliases: listOf(f, 'network-alias'),
    links: listOf(f, 'link'),
    ip: given(f, 'ip'),
    ip6: given(f, 'ip6'),
    mac: given(f, 'mac-address'),
    linkLocalIPs: listOf(f, 'link-local-ip'),
  });
  const eps = Object.values(fields.NetworkingConfig.EndpointsConfig);
  if (given(f, 'pod') && !listOf(f, 'network').length && eps.every(emptyEndpoint)) return undefined;
  return fields;
}

/** Parses run/create's arguments: the flags, the image, the command. */
export function parseCreate(verb: 'run' | 'create', argv: string[]) {
  const { flags, args } = parseCommand(verb === 'run' ? RUN : CREATE, argv);
  if (flags.rm && flags.restart && flags.restart !== 'no') throw invalid('conflicting options: cannot specify both --restart and --rm');
  const [image, ...cmd] = args;
  return { flags, image, cmd };
}

/** POST /containers/create (with --platform), pulling the image first as --pull says; writes --cidfile. */
export async function createContainer(client: ApiClient, f: Flags, image: string, body: Record<string, unknown>): Promise<string> {
  const cidfile = given(f, 'cidfile');
  if (cidfile) {
    try {
      writeFileSync(cidfile, '', { flag: 'wx' });
    } catch (e) {
      throw invalid(
        (e as NodeJS.ErrnoException).code === 'EEXIST'
          ? `container ID file found, make sure the other container isn't running or delete ${cidfile}`
          : `failed to create the container ID file: ${(e as Error).message}`,
      );
    }
  }
  const platform = given(f, 'platform');
  const pull = () => pullImage(client, image, process.stderr, { quiet: !!f.quiet, platform });
  const create = async () => {
    const r = await client.json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', {
      query: { name: given(f, 'name'), platform },
      body,
    });
    for (const w of r.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
    return r.Id;
  };
  let id: string;
  if (f.pull === 'always') await pull();
  try {
    id = await create();
  } catch (e) {
    if (
      !(e instanceof BerthError && e.kind === 'not-found' && /No such image/i.test(e.message)) ||
      f.pull === 'never' ||
      f.pull === 'always'
    )
      throw e;
    if (!f.quiet) process.stderr.write(`Unable to find image '${image}' locally\n`);
    await pull();
    id = await create();
  }
  if (cidfile) writeFileSync(cidfile, id);
  return id;
}
