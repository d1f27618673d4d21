// `berth network create|ls|inspect|rm|connect|disconnect|prune`: the /networks routes, printed
// as docker prints them (ls through --format with docker's network fields), each sub-command
// describing itself for --help and its usage errors.

import { BlockList, isIP, isIPv6 } from 'node:net';
import type { ApiClient } from '../../api/client.js';
import { errorMessage, invalid } from '../../errors.js';
import { parseCommand, type CommandSpec, type FlagSpec } from '../args.js';
import { ipAddress, ipAddressOk, keyValue } from '../flag-values.js';
import { goTime } from '../output.js';
import { formatRows } from '../template.js';
import { csvList, csvRecord } from '../csv.js';
import { FORMAT_FLAG, inspectEach } from './inspect.js';
import { networkPrune } from './prune.js';
import { filters } from '../filters.js';
import { unknownSubcommand } from './volume.js';

const USAGE = `Usage:  berth network COMMAND

Manage networks

Commands:
  connect     Connect a container to a network
  create      Create a network
  disconnect  Disconnect a container from a network
  inspect     Display detailed information on one or more networks
  ls          List networks
  prune       Remove all unused networks
  rm          Remove one or more networks

Run 'berth network COMMAND --help' for more information on a command.
`;

const map = (desc: string): FlagSpec => ({
  type: 'list',
  arg: 'map',
  desc,
  check: (s) => {
    keyValue(s, `bad format for key-value pair: ${s}`);
  },
});
const keyValues = (list: string[] | undefined) =>
  Object.fromEntries((list ?? []).map((l) => [l.split('=', 1)[0], l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));

/** strconv.ParseInt(s, 10, 64), in its words. */
function parseInt64(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(n);
}

/** connect's --driver-opt K=V, as docker's CLI reads them: keys and values trimmed, a key required. */
export function driverOpts(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of list) {
    const i = o.indexOf('=');
    const k = o.slice(0, Math.max(i, 0)).trim();
    if (i < 0 || !k) throw invalid('invalid key/value pair format in driver options');
    out[k] = o.slice(i + 1).trim();
  }
  return out;
}

const csvCheck = (s: string) => {
  csvRecord(s);
};

const CREATE: CommandSpec = {
  path: 'network create',
  use: '[OPTIONS] NETWORK',
  about: 'Create a network',
  args: { min: 1, max: 1 },
  flags: {
    attachable: { type: 'bool', desc: 'Let containers attach to the network by hand' },
    'aux-address': map('Auxiliary IPv4 or IPv6 addresses the network driver uses'),
    'config-from': { type: 'string', desc: 'The network to copy the configuration from' },
    'config-only': { type: 'bool', desc: 'Create a configuration-only network' },
    driver: { short: 'd', type: 'string', desc: 'Driver that manages the network', dflt: '"bridge"' },
    gateway: {
      type: 'list',
      arg: 'strings',
      desc: 'IPv4 or IPv6 gateway of a subnet',
      check: (s) => {
        ipAddress(s);
      },
    },
    ingress: { type: 'bool', desc: 'Create a swarm routing-mesh network' },
    internal: { type: 'bool', desc: 'Restrict external access to the network' },
    'ip-range': { type: 'list', arg: 'strings', desc: 'Allocate container addresses from a sub-range' },
    'ipam-driver': { type: 'string', desc: 'IP address management driver', dflt: '"default"' },
    'ipam-opt': map('IPAM driver options'),
    ipv4: { type: 'bool', desc: 'Enable or disable IPv4 address assignment', dflt: 'true' },
    ipv6: { type: 'bool', desc: 'Enable or disable IPv6 address assignment' },
    label: { type: 'list', desc: 'Set metadata on the network' },
    opt: { short: 'o', ...map('Driver options') },
    scope: { type: 'string', desc: "The network's scope" },
    subnet: { type: 'list', arg: 'strings', desc: 'Subnet in CIDR format of a network segment' },
  },
};
const LS: CommandSpec = {
  path: 'network ls',
  use: '[OPTIONS]',
  about: 'List networks',
  aliases: ['berth network ls', 'berth network list'],
  args: { max: 0 },
  flags: {
    filter: { short: 'f', type: 'list', arg: 'filter', desc: 'Filter the output (e.g. "driver=bridge")' },
    format: { type: 'string', desc: "Format the output: 'table', 'table TEMPLATE', 'json' or a Go template" },
    'no-trunc': { type: 'bool', desc: 'Do not truncate the output' },
    quiet: { short: 'q', type: 'bool', desc: 'Only display network IDs' },
  },
};
const INSPECT: CommandSpec = {
  path: 'network inspect',
  use: '[OPTIONS] NETWORK [NETWORK...]',
  about: 'Display detailed information on one or more networks',
  args: { min: 1 },
  flags: { format: FORMAT_FLAG, verbose: { short: 'v', type: 'bool', desc: 'Verbose output for diagnostics' } },
};
const RM: CommandSpec = {
  path: 'network rm',
  use: '[OPTIONS] NETWORK [NETWORK...]',
  about: 'Remove one or more networks',
  aliases: ['berth network rm', 'berth network remove'],
  args: { min: 1 },
  flags: { force: { short: 'f', type: 'bool', desc: 'Do not fail if the network does not exist' } },
};
const CONNECT: CommandSpec = {
  path: 'network connect',
  use: '[OPTIONS] NETWORK CONTAINER',
  about: 'Connect a container to a network',
  args: { min: 2, max: 2 },
  flags: {
    alias: { type: 'list', arg: 'strings', desc: 'Add a network-scoped alias for the container', check: csvCheck },
    'driver-opt': { type: 'list', arg: 'strings', desc: 'Driver options of the endpoint', check: csvCheck },
    'gw-priority': {
      type: 'string',
      arg: 'int',
      desc: 'The highest gw-priority gives the default gateway (negative values allowed)',
      check: (s) => {
        parseInt64(s);
      },
    },
    ip: {
      type: 'string',
      desc: 'IPv4 address (e.g. "172.30.100.104")',
      check: (s) => {
        ipAddress(s);
      },
    },
    ip6: {
      type: 'string',
      desc: 'IPv6 address (e.g. "2001:db8::33")',
      check: (s) => {
        ipAddress(s);
      },
    },
    link: { type: 'list', desc: 'Add a link to another container' },
    'link-local-ip': { type: 'list', arg: 'strings', desc: 'Add a link-local address for the container', check: csvCheck },
  },
};
const DISCONNECT: CommandSpec = {
  path: 'network disconnect',
  use: '[OPTIONS] NETWORK CONTAINER',
  about: 'Disconnect a container from a network',
  args: { min: 2, max: 2 },
  flags: { force: { short: 'f', type: 'bool', desc: 'Force the container to disconnect from the network' } },
};

interface NetworkSummary {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Created?: string;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  Internal?: boolean;
  Labels?: Record<string, string> | null;
}

/** Go's time.String() of an RFC 3339 UTC time: `2006-01-02 15:04:05.999999999 +0000 UTC` (the fraction's zeros dropped). */
function goTimeString(rfc3339: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(rfc3339);
  if (!m) return goTime(Date.parse(rfc3339) / 1000);
  const frac = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${frac === '.' ? '' : frac} +0000 UTC`;
}

/** One network as docker's --format sees it (its networkContext). */
function networkRow(n: NetworkSummary, trunc: boolean) {
  const labels = Object.entries(n.Labels ?? {})
    .sort()
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const r = {
    CreatedAt: n.Created ? goTimeString(n.Created) : '',
    Driver: n.Driver,
    ID: trunc ? n.Id.slice(0, 12) : n.Id,
    IPv4: String(n.EnableIPv4 ?? true),
    IPv6: String(!!n.EnableIPv6),
    Internal: String(!!n.Internal),
    Labels: labels,
    Name: n.Name,
    Scope: n.Scope,
  };
  return { ...r, Label: (k: string) => n.Labels?.[k] ?? '', toJSON: () => r };
}
const LS_TABLE = '{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
const LS_HEADERS = {
  IPv4: 'IPV4',
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  Label: 'LABEL',
  CreatedAt: 'CREATED AT',
};

/** Whether `addr` (an address, or a range's CIDR) falls in `subnet`; false for a subnet or address that does not parse. */
function inSubnet(subnet: string, addr: string): boolean {
  const [net, bits] = subnet.split('/');
  const ip = addr.split('/')[0];
  const family = isIPv6(net) ? 'ipv6' : 'ipv4';
  if (!isIP(net) || !isIP(ip) || !/^\d+$/.test(bits ?? '')) return false;
  const list = new BlockList();
  try {
    list.addSubnet(net, Number(bits), family);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_OUT_OF_RANGE') throw e;
    return false; // a prefix too long: the daemon names the subnet
  }
  return list.check(ip, family);
}

/** IPAM configs: each --subnet with the --gateway and --ip-range that fall in it, as docker's CLI pairs them (IPv4 and IPv6 in one network). */
export function ipamConfig(subnets: string[], gateways: string[], ranges: string[], aux: Record<string, string>) {
  if (gateways.length > subnets.length || ranges.length > subnets.length)
    throw invalid('every ip-range or gateway must have a corresponding subnet');
  const configs = subnets.map((Subnet) => ({ Subnet, Gateway: undefined as string | undefined, IPRange: undefined as string | undefined }));
  const pair = (values: string[], key: 'Gateway' | 'IPRange', what: string) => {
    for (const v of values) {
      const c = configs.find((x) => inSubnet(x.Subnet, v));
      if (!c) throw invalid(`no matching subnet for ${what} ${v}`);
      if (c[key]) throw invalid(`cannot configure multiple ${what}s (${c[key]}, ${v}) on the same subnet (${c.Subnet})`);
      c[key] = v;
    }
  };
  pair(ranges, 'IPRange', 'range');
  pair(gateways, 'Gateway', 'gateway');
  return configs.map((c) => ({ ...c, AuxiliaryAddresses: Object.keys(aux).length ? aux : undefined }));
}

export async function network(client: ApiClient, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'create': {
      const { flags, args } = parseCommand(CREATE, rest);
      const l = (k: string) => (flags[k] as string[] | undefined) ?? [];
      const r = await client.json<{ Id: string }>('POST', '/networks/create', {
        body: {
          Name: args[0],
          Driver: (flags.driver as string | undefined) ?? 'bridge',
          Internal: !!flags.internal,
          Attachable: !!flags.attachable,
          Ingress: !!flags.ingress,
          ConfigOnly: !!flags['config-only'],
          ConfigFrom: flags['config-from'] ? { Network: flags['config-from'] } : undefined,
          Scope: flags.scope as string | undefined,
          EnableIPv4: flags.ipv4 === undefined ? undefined : !!flags.ipv4,
          EnableIPv6: flags.ipv6 === undefined ? undefined : !!flags.ipv6,
          IPAM: {
            Driver: (flags['ipam-driver'] as string | undefined) ?? 'default',
            Options: keyValues(l('ipam-opt')),
            Config: ipamConfig(l('subnet'), l('gateway'), l('ip-range'), keyValues(l('aux-address'))),
          },
          Options: keyValues(l('opt')),
          Labels: keyValues(l('label')),
        },
      });
      process.stdout.write(`${r.Id}\n`);
      return 0;
    }
    case 'ls':
    case 'list': {
      const { flags } = parseCommand(LS, rest);
      const list = await client.json<NetworkSummary[]>('GET', '/networks', { query: { filters: filters(flags.filter as string[]) } });
      const format = flags.quiet ? '{{.ID}}' : (flags.format as string | undefined);
      process.stdout.write(
        formatRows(
          format,
          list.map((n) => networkRow(n, !flags['no-trunc'])),
          { defaultTable: LS_TABLE, headers: LS_HEADERS },
        ),
      );
      return 0;
    }
    case 'inspect': {
      const { flags, args } = parseCommand(INSPECT, rest);
      return inspectEach(
        args,
        flags.format as string | undefined,
        (n) => client.json('GET', `/networks/${encodeURIComponent(n)}`, { query: { verbose: flags.verbose ? true : undefined } }),
        (n) => `Error: No such network: ${n}`,
      );
    }
    case 'rm':
    case 'remove': {
      const { flags, args } = parseCommand(RM, rest);
      let failed = false;
      for (const n of args) {
        try {
          await client.json('DELETE', `/networks/${encodeURIComponent(n)}`);
          process.stdout.write(`${n}\n`);
        } catch (e) {
          if (flags.force && /not found|no such/i.test(errorMessage(e))) continue;
          process.stderr.write(`Error response from daemon: ${errorMessage(e)}\n`);
          failed = true;
        }
      }
      return failed ? 1 : 0;
    }
    case 'connect': {
      const { flags, args } = parseCommand(CONNECT, rest);
      // docker's `strings` flags: each value a CSV record.
      const l = (k: string) => (flags[k] === undefined ? undefined : csvList(flags[k] as string[]));
      const local = l('link-local-ip') ?? [];
      for (const a of local) if (!ipAddressOk(a)) throw invalid(`invalid IP address: ${a}`);
      const prio = flags['gw-priority'] as string | undefined;
      await client.json('POST', `/networks/${encodeURIComponent(args[0])}/connect`, {
        body: {
          Container: args[1],
          EndpointConfig: {
            IPAMConfig:
              flags.ip || flags.ip6 || local.length
                ? { IPv4Address: flags.ip, IPv6Address: flags.ip6, LinkLocalIPs: local.length ? local : undefined }
                : null,
            Aliases: l('alias') ?? null,
            Links: l('link') ?? null,
            DriverOpts: l('driver-opt') ? driverOpts(l('driver-opt')!) : null,
            GwPriority: prio === undefined ? undefined : Number(prio),
          },
        },
      });
      return 0;
    }
    case 'disconnect': {
      const { flags, args } = parseCommand(DISCONNECT, rest);
      await client.json('POST', `/networks/${encodeURIComponent(args[0])}/disconnect`, {
        body: { Container: args[1], Force: !!flags.force },
      });
      return 0;
    }
    case 'prune':
      return networkPrune(client, rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      return unknownSubcommand('network', sub);
  }
}
