// `berth pod create|ls|ps|inspect|start|stop|restart|kill|rm|top`: berth's pod routes
// (/pods/…, after podman's libpod API), printed as podman prints them. A container joins a pod
// with `berth run|create --pod POD`.

import type { ApiClient } from '../../api/client.js';
import type { PodCreateBody, PodListReport } from '../../api/pod-types.js';
import { errorMessage, invalid } from '../../errors.js';
import { parseCommand, type CommandSpec, type FlagSpec } from '../args.js';
import { filters } from '../filters.js';
import { ipAddress, label as checkLabel } from '../flag-values.js';
import { humanAgo, table } from '../output.js';
import { confirm } from '../prompt.js';
import { formatRows } from '../template.js';
import { FORMAT_FLAG, inspectEach } from './inspect.js';
import { ports } from './run-options.js';
import { unknownSubcommand } from './volume.js';

const USAGE = `Usage:  berth pod COMMAND

Manage pods: containers that share an infra container's network, IPC and UTS namespaces (and PID, when asked)

Commands:
  create      Create a new empty pod
  inspect     Display detailed information on one or more pods
  kill        Send a signal to the containers of one or more pods
  ls          List pods
  prune       Remove every pod none of whose containers runs
  restart     Restart one or more pods
  rm          Remove one or more pods and their containers
  start       Start one or more pods
  stop        Stop one or more pods
  top         Display the running processes of a pod's containers

Run 'berth pod COMMAND --help' for more information on a command.
`;

const list = (desc: string, more: Partial<FlagSpec> = {}): FlagSpec => ({ type: 'list', desc, ...more });
const int: FlagSpec = {
  type: 'string',
  arg: 'int',
  desc: 'Seconds to wait before killing the containers',
  check: (s) => {
    if (!/^-?\d+$/.test(s)) throw invalid(`strconv.ParseInt: parsing "${s}": invalid syntax`);
  },
};

const CREATE: CommandSpec = {
  path: 'pod create',
  use: '[OPTIONS] [NAME]',
  about: 'Create a new empty pod',
  args: { max: 1 },
  flags: {
    'add-host': list('Add a custom host-to-IP mapping (host:ip) to the pod'),
    'cgroup-parent': { type: 'string', desc: "Cgroup the pod's containers go below (an absolute cgroupfs path)" },
    dns: list('Set custom DNS servers', { check: (s) => void ipAddress(s) }),
    'dns-option': list('Set DNS options'),
    'dns-search': list('Set custom DNS search domains'),
    hostname: { type: 'string', desc: "The pod's hostname (default: its name)" },
    label: { short: 'l', ...list('Set metadata on the pod', { check: (s) => void checkLabel(s) }) },
    name: { short: 'n', type: 'string', desc: 'Assign a name to the pod' },
    'network-alias': list('Add a DNS name of the pod on its user-defined network (beside its name)'),
    network: { type: 'string', desc: 'Connect the pod to a network: bridge, a network name, host or none', arg: 'network' },
    publish: { short: 'p', ...list("Publish a port of the pod's containers to the host") },
    share: { type: 'string', desc: 'Namespaces to share: net, ipc, uts, pid; +pid adds to the default', dflt: '"ipc,net,uts"' },
  },
};
const LS: CommandSpec = {
  path: 'pod ls',
  use: '[OPTIONS]',
  about: 'List pods',
  aliases: ['berth pod ls', 'berth pod ps', 'berth pod list'],
  args: { max: 0 },
  flags: {
    filter: { short: 'f', type: 'list', arg: 'filter', desc: 'Filter the output (id, name, label, status, network, ctr-names, ctr-ids)' },
    format: { type: 'string', desc: "Format the output: 'table', 'table TEMPLATE', 'json' or a Go template" },
    'no-trunc': { type: 'bool', desc: 'Do not truncate the output' },
    quiet: { short: 'q', type: 'bool', desc: 'Only display pod IDs' },
  },
};
const INSPECT: CommandSpec = {
  path: 'pod inspect',
  use: '[OPTIONS] POD [POD...]',
  about: 'Display detailed information on one or more pods',
  args: { min: 1 },
  flags: { format: FORMAT_FLAG },
};
const each = (verb: string, about: string, flags: CommandSpec['flags'] = {}): CommandSpec => ({
  path: `pod ${verb}`,
  use: '[OPTIONS] POD [POD...]',
  about,
  args: { min: 1 },
  flags,
});
const START = each('start', 'Start one or more pods');
const STOP = each('stop', 'Stop one or more pods', { time: { short: 't', ...int } });
const RESTART = each('restart', 'Restart one or more pods', { time: { short: 't', ...int } });
const KILL = each('kill', 'Send a signal to the containers of one or more pods', {
  signal: { short: 's', type: 'string', desc: 'Signal to send to the containers', dflt: '"KILL"' },
});
const RM = each('rm', 'Remove one or more pods and their containers', {
  force: { short: 'f', type: 'bool', desc: 'Stop and remove running containers too' },
});
const PRUNE: CommandSpec = {
  path: 'pod prune',
  use: '[OPTIONS]',
  about: 'Remove every pod none of whose containers runs',
  args: { max: 0 },
  flags: { force: { short: 'f', type: 'bool', desc: 'Do not prompt for confirmation' } },
};
const TOP: CommandSpec = {
  path: 'pod top',
  use: 'POD [ps OPTIONS]',
  about: "Display the running processes of a pod's containers",
  args: { min: 1 },
  flags: {},
  stopAtOperand: true,
};

/** One pod as --format sees it (podman's pod ps fields). */
function podRow(p: PodListReport, trunc: boolean) {
  const id = (s: string) => (trunc ? s.slice(0, 12) : s);
  const r = {
    ID: id(p.Id),
    Name: p.Name,
    Status: p.Status,
    Created: humanAgo(Date.parse(p.Created) / 1000),
    InfraID: id(p.InfraId),
    NumberOfContainers: String(p.Containers.length),
    Networks: p.Networks.join(','),
    Cgroup: p.Cgroup,
    Labels: Object.entries(p.Labels ?? {})
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    ContainerNames: p.Containers.map((c) => c.Names).join(','),
  };
  return { ...r, Label: (k: string) => p.Labels?.[k] ?? '', toJSON: () => p };
}
const LS_TABLE = '{{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}\t{{.NumberOfContainers}}';
const LS_HEADERS = {
  ID: 'POD ID',
  Name: 'NAME',
  Status: 'STATUS',
  Created: 'CREATED',
  InfraID: 'INFRA ID',
  NumberOfContainers: '# OF CONTAINERS',
  Networks: 'NETWORKS',
  Cgroup: 'CGROUP',
  Labels: 'LABELS',
  Label: 'LABEL',
  ContainerNames: 'NAMES',
};

/** `-p` as docker's run parses it, sent as podman's portmappings. */
function portMappings(publish: string[]): PodCreateBody['portmappings'] {
  const bindings = ports({ publish }).PortBindings ?? {};
  return Object.entries(bindings).flatMap(([key, list]) => {
    const [port, protocol] = key.split('/');
    return list.map((b) => ({
      container_port: Number(port),
      host_port: b.HostPort ? Number(b.HostPort) : undefined,
      host_ip: b.HostIp || undefined,
      protocol,
    }));
  });
}

function createBody(flags: Record<string, unknown>, args: string[]): PodCreateBody {
  const l = (k: string) => (flags[k] as string[] | undefined) ?? [];
  const s = (k: string) => (flags[k] as string | undefined) || undefined;
  if (args[0] && flags.name && args[0] !== flags.name) throw invalid('cannot specify --name and a NAME argument that differ');
  const network = s('network');
  const own = network === 'host' || network === 'none' || network === 'bridge';
  if (l('network-alias').length && (!network || own)) throw invalid('--network-alias needs a user-defined --network');
  return {
    name: args[0] ?? s('name'),
    hostname: s('hostname'),
    labels: Object.fromEntries(l('label').map((x) => [x.split('=', 1)[0], x.includes('=') ? x.slice(x.indexOf('=') + 1) : ''])),
    share: flags.share === undefined ? undefined : (flags.share as string).split(','),
    cgroup_parent: s('cgroup-parent'),
    portmappings: portMappings(l('publish')),
    ...(own
      ? { netns: { nsmode: network } }
      : network
        ? { Networks: { [network]: l('network-alias').length ? { aliases: l('network-alias') } : {} } }
        : {}),
    dns_server: l('dns').length ? l('dns') : undefined,
    dns_search: l('dns-search').length ? l('dns-search') : undefined,
    dns_option: l('dns-option').length ? l('dns-option') : undefined,
    hostadd: l('add-host').length ? l('add-host') : undefined,
  };
}

/** Runs `fn` for each pod, printing its ID (as podman) or the daemon's error; 1 if any failed. */
async function forEach(names: string[], fn: (name: string) => Promise<{ Id: string }>): Promise<number> {
  let failed = false;
  for (const n of names) {
    try {
      process.stdout.write(`${(await fn(n)).Id}\n`);
    } catch (e) {
      process.stderr.write(`Error response from daemon: ${errorMessage(e)}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

export async function pod(client: ApiClient, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const at = (name: string, verb = '') => `/pods/${encodeURIComponent(name)}${verb}`;
  switch (sub) {
    case 'create': {
      const { flags, args } = parseCommand(CREATE, rest);
      const r = await client.json<{ Id: string }>('POST', '/pods/create', { body: createBody(flags, args) });
      process.stdout.write(`${r.Id}\n`);
      return 0;
    }
    case 'ls':
    case 'ps':
    case 'list': {
      const { flags } = parseCommand(LS, rest);
      const pods = await client.json<PodListReport[]>('GET', '/pods/json', { query: { filters: filters(flags.filter as string[]) } });
      const format = flags.quiet ? '{{.ID}}' : (flags.format as string | undefined);
      const rows = pods.map((p) => podRow(p, !flags['no-trunc']));
      process.stdout.write(formatRows(format, rows, { defaultTable: LS_TABLE, headers: LS_HEADERS }));
      return 0;
    }
    case 'inspect': {
      const { flags, args } = parseCommand(INSPECT, rest);
      return inspectEach(
        args,
        flags.format as string | undefined,
        (n) => client.json('GET', at(n, '/json')),
        (n) => `Error: no such pod: ${n}`,
      );
    }
    case 'start': {
      const { args } = parseCommand(START, rest);
      return forEach(args, (n) => client.json('POST', at(n, '/start')));
    }
    case 'stop':
    case 'restart': {
      const { flags, args } = parseCommand(sub === 'stop' ? STOP : RESTART, rest);
      return forEach(args, (n) => client.json('POST', at(n, `/${sub}`), { query: { t: flags.time as string | undefined } }));
    }
    case 'kill': {
      const { flags, args } = parseCommand(KILL, rest);
      return forEach(args, (n) => client.json('POST', at(n, '/kill'), { query: { signal: flags.signal as string | undefined } }));
    }
    case 'rm':
    case 'remove': {
      const { flags, args } = parseCommand(RM, rest);
      return forEach(args, (n) => client.json('DELETE', at(n), { query: { force: flags.force ? true : undefined } }));
    }
    case 'prune': {
      const { flags } = parseCommand(PRUNE, rest);
      if (!flags.force && !(await confirm('WARNING! This will remove all stopped/exited pods.\nAre you sure you want to continue?')))
        return 0;
      for (const r of await client.json<{ Id: string }[]>('POST', '/pods/prune')) process.stdout.write(`${r.Id}\n`);
      return 0;
    }
    case 'top': {
      const { args } = parseCommand(TOP, rest);
      const r = await client.json<{ Titles: string[]; Processes: string[][] }>('GET', at(args[0], '/top'), {
        query: { ps_args: args.slice(1).join(' ') || undefined },
      });
      process.stdout.write(table([r.Titles, ...r.Processes], 20));
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      return unknownSubcommand('pod', sub);
  }
}
