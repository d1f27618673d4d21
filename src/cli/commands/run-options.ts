// `berth run` and `berth create`: their flags (with run-mounts, run-security and run-lifecycle's),
// the POST /containers/create body they make (the API's Config and HostConfig fields), and the
// create itself, pulling a missing image first as docker does. Parsing only: the engine checks
// the values.

import type { ApiClient } from '../../api/client.js';
import { BerthError, invalid } from '../../errors.js';
import { parseArgs, type FlagSpec } from '../args.js';
import { readKeyValueFile } from '../kv-file.js';
import { terminalSize } from '../output.js';
import { bytes } from '../units.js';
import { pullImage } from './pull.js';
import { CONFIG_FLAGS, lifecycleConfig, RESOURCE_FLAGS, resourceFields } from './run-lifecycle.js';
import { MOUNT_FLAGS, mountFields } from './run-mounts.js';
import { SECURITY_FLAGS, securityFields } from './run-security.js';

export const CREATE_FLAGS = {
  name: { type: 'string' }, env: { short: 'e', type: 'list' }, 'env-file': { type: 'list' },
  workdir: { short: 'w', type: 'string' }, user: { short: 'u', type: 'string' }, entrypoint: { type: 'string' },
  interactive: { short: 'i', type: 'bool' }, tty: { short: 't', type: 'bool' }, label: { short: 'l', type: 'list' }, 'label-file': { type: 'list' },
  memory: { short: 'm', type: 'string' }, cpus: { type: 'string' }, 'pids-limit': { type: 'string' }, rm: { type: 'bool' },
  'log-driver': { type: 'string' }, 'log-opt': { type: 'list' }, publish: { short: 'p', type: 'list' }, 'publish-all': { short: 'P', type: 'bool' },
  expose: { type: 'list' }, network: { type: 'string' }, ip: { type: 'string' }, 'network-alias': { type: 'list' }, 'mac-address': { type: 'string' },
  ...MOUNT_FLAGS,
  ...SECURITY_FLAGS,
  ...RESOURCE_FLAGS,
  ...CONFIG_FLAGS,
} as const satisfies Record<string, FlagSpec>;

type Flags = Record<string, boolean | string | string[] | undefined>;

/** `VAR=value` as given; a bare `VAR` takes the value it has here, as docker does. */
function envList(f: Flags): string[] | undefined {
  const fromFiles = ((f['env-file'] as string[] | undefined) ?? []).flatMap((p) => readKeyValueFile(p, (k) => process.env[k]));
  const all = [...fromFiles, ...((f.env as string[] | undefined) ?? []).map((e) => (e.includes('=') || process.env[e] === undefined ? e : `${e}=${process.env[e]}`))];
  return all.length ? all : undefined;
}

function labels(f: Flags): Record<string, string> {
  const list = [...((f['label-file'] as string[] | undefined) ?? []).flatMap((p) => readKeyValueFile(p, () => undefined)), ...((f.label as string[] | undefined) ?? [])];
  return sortedKeys(Object.fromEntries(list.map((l) => { const i = l.indexOf('='); return i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i + 1)]; })));
}

/** The map with its keys in order, as Go's JSON encoder sends a map (and docker's CLI with it). */
function sortedKeys(m: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `-p [ip:][hostPort:]containerPort[/proto]` and `--expose port[/proto]`: ExposedPorts and PortBindings. */
function ports(f: Flags): { ExposedPorts?: Record<string, object>; PortBindings?: Record<string, { HostIp: string; HostPort: string }[]> } {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const e of (f.expose as string[] | undefined) ?? []) {
    const [p, proto = 'tcp'] = e.split('/');
    if (!/^\d+(-\d+)?$/.test(p)) throw invalid(`invalid range format for --expose: ${e}`);
    exposed[`${p}/${proto}`] = {};
  }
  for (const spec of (f.publish as string[] | undefined) ?? []) {
    const [addr, proto = 'tcp'] = spec.split('/');
    // An IPv6 host address comes in brackets: [::1]:8080:80.
    const m = /^(?:(\[[^\]]+\]|[^:]*):)?(?:(\d*(?:-\d+)?):)?(\d+(?:-\d+)?)$/.exec(addr);
    if (!m) throw invalid(`invalid publish opts format (should be name=value but got '${spec}')`);
    let [, ip = '', host = '', container] = m;
    if (m[1] !== undefined && m[2] === undefined) { host = m[1]; ip = ''; }
    const key = `${container}/${proto}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: ip.replace(/^\[|\]$/g, ''), HostPort: host });
  }
  return { ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}), ...(Object.keys(bindings).length ? { PortBindings: bindings } : {}) };
}

/** The create body for `image` and its command, from the flags. `detach`: no streams attached. */
export function createBody(f: Flags, image: string, cmd: string[], detach: boolean): Record<string, unknown> {
  const tty = !!f.tty, stdin = !!f.interactive;
  const logOpts = (f['log-opt'] as string[] | undefined) ?? [];
  const p = ports(f);
  return {
    Image: image, Cmd: cmd.length ? cmd : undefined,
    Entrypoint: f.entrypoint === undefined ? undefined : f.entrypoint === '' ? [''] : [f.entrypoint as string],
    Hostname: f.hostname as string | undefined, Env: envList(f), WorkingDir: f.workdir as string | undefined, User: f.user as string | undefined,
    Labels: labels(f), Tty: tty, OpenStdin: stdin, StdinOnce: stdin && !detach, AttachStdin: stdin && !detach, AttachStdout: !detach, AttachStderr: !detach,
    ...lifecycleConfig(f), ExposedPorts: p.ExposedPorts,
    HostConfig: {
      // The terminal's size from the first byte on, as docker sends it (a resize follows the start).
      ConsoleSize: tty && !detach ? terminalSize() : undefined,
      AutoRemove: !!f.rm,
      Memory: f.memory ? bytes(f.memory as string) : 0,
      NanoCpus: f.cpus ? Math.round(Number(f.cpus) * 1e9) : 0,
      PidsLimit: f['pids-limit'] ? Number(f['pids-limit']) : undefined,
      ...resourceFields(f),
      LogConfig: logOpts.length || f['log-driver'] ? {
        Type: (f['log-driver'] as string | undefined) ?? '',
        Config: sortedKeys(Object.fromEntries(logOpts.map((o) => { const i = o.indexOf('='); if (i < 1) throw invalid(`invalid key value pair format in --log-opt: ${o}`); return [o.slice(0, i), o.slice(i + 1)]; }))),
      } : undefined,
      PortBindings: p.PortBindings, PublishAllPorts: f['publish-all'] ? true : undefined,
      NetworkMode: f.network as string | undefined,
      ...mountFields(f),
      ...securityFields(f),
    },
    NetworkingConfig: endpoint(f),
  };
}

/** `--ip`, `--network-alias` and `--mac-address`: the endpoint on the network of `--network`, as docker's CLI sends them. */
function endpoint(f: Flags): Record<string, unknown> | undefined {
  const ip = f.ip as string | undefined, aliases = f['network-alias'] as string[] | undefined, mac = f['mac-address'] as string | undefined;
  if (!ip && !aliases?.length && !mac) return undefined;
  const net = (f.network as string | undefined) || 'default';
  return { EndpointsConfig: { [net]: { IPAMConfig: ip ? { IPv4Address: ip } : undefined, Aliases: aliases, MacAddress: mac } } };
}

/** Parses run/create's arguments: the flags, the image, the command. */
export function parseCreate(verb: string, argv: string[], extra: Record<string, FlagSpec> = {}) {
  const { flags, args } = parseArgs(argv, { ...CREATE_FLAGS, ...extra }, { stopAtOperand: true });
  if (!args.length) throw new BerthError('invalid', `"berth ${verb}" requires at least 1 argument: berth ${verb} [OPTIONS] IMAGE [COMMAND] [ARG...]`);
  if (flags.rm && flags.restart && flags.restart !== 'no') throw invalid('conflicting options: cannot specify both --restart and --rm');
  const [image, ...cmd] = args;
  return { flags, image, cmd };
}

/** POST /containers/create, pulling the image first when the daemon has none of that name. */
export async function createContainer(client: ApiClient, name: string | undefined, image: string, body: Record<string, unknown>): Promise<string> {
  const create = async () => {
    const r = await client.json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', { query: { name }, body });
    for (const w of r.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
    return r.Id;
  };
  try {
    return await create();
  } catch (e) {
    if (!(e instanceof BerthError && e.kind === 'not-found' && /No such image/i.test(e.message))) throw e;
    process.stderr.write(`Unable to find image '${image}' locally\n`);
    await pullImage(client, image, process.stderr);
    return create();
  }
}
