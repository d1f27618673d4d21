// `berth volume create|ls|inspect|rm|prune`: the /volumes routes, printed as docker prints them
// (ls through --format with docker's volume fields), each sub-command describing itself for
// --help and its usage errors. Also the groups' shared answer to an unknown sub-command.

import type { ApiClient } from '../../api/client.js';
import { BerthError, errorMessage, unsupported } from '../../errors.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { filters } from '../filters.js';
import { label } from '../flag-values.js';
import { humanSize } from '../output.js';
import { formatRows } from '../template.js';
import { FORMAT_FLAG, inspectEach } from './inspect.js';
import { volumePrune } from './prune.js';

const USAGE = `Usage:  berth volume COMMAND

Manage volumes

Commands:
  create      Create a volume
  inspect     Display detailed information on one or more volumes
  ls          List volumes
  prune       Remove unused local volumes
  rm          Remove one or more volumes

Run 'berth volume COMMAND --help' for more information on a command.
`;

/** `berth GROUP SUB` for a SUB the group lacks: docker's words, exit 1. */
export function unknownSubcommand(group: string, sub: string): number {
  process.stderr.write(
    `berth: unknown command: berth ${group} ${sub}\n\nUsage:  berth ${group}\n\nRun 'berth ${group} --help' for more information\n`,
  );
  return 1;
}

/** `k=v` flags as the docker CLI's map of them: `k` alone is `k: ""`, a later `k` wins, keys in Go's JSON order (sorted). */
const keyValues = (list: string[] | undefined) =>
  Object.fromEntries(
    [...new Map((list ?? []).map((l) => [l.split('=', 1)[0], l.includes('=') ? l.slice(l.indexOf('=') + 1) : ''])).entries()].sort(
      ([a], [b]) => (a < b ? -1 : a > b ? 1 : 0),
    ),
  );

/** docker 28's volume create body: volume.CreateOptions' fields in their order, the empty ones left out (omitempty). */
export function volumeCreateBody(name: string, driver: string, opts: string[] | undefined, labels: string[] | undefined) {
  const o = keyValues(opts);
  const l = keyValues(labels);
  return {
    ...(driver ? { Driver: driver } : {}),
    ...(Object.keys(o).length ? { DriverOpts: o } : {}),
    ...(Object.keys(l).length ? { Labels: l } : {}),
    ...(name ? { Name: name } : {}),
  };
}

const CLUSTER = [
  'availability',
  'group',
  'limit-bytes',
  'required-bytes',
  'scope',
  'secret',
  'sharing',
  'topology-preferred',
  'topology-required',
  'type',
];

const CREATE: CommandSpec = {
  path: 'volume create',
  use: '[OPTIONS] [VOLUME]',
  about: 'Create a volume',
  args: { max: 1 },
  flags: {
    driver: { short: 'd', type: 'string', desc: 'Volume driver name', dflt: '"local"' },
    label: { type: 'list', desc: 'Set metadata on the volume', check: (v) => void label(v) },
    opt: {
      short: 'o',
      type: 'list',
      arg: 'map',
      desc: 'Driver options',
    },
    name: { type: 'string', desc: 'The volume name (or give it as the argument)' },
    ...Object.fromEntries(
      CLUSTER.map((k) => [
        k,
        { type: k.startsWith('topology') || k === 'secret' ? 'list' : 'string', desc: 'Cluster volumes only (swarm; berth has none)' },
      ]),
    ),
  },
};
const LS: CommandSpec = {
  path: 'volume ls',
  use: '[OPTIONS]',
  about: 'List volumes',
  aliases: ['berth volume ls', 'berth volume list'],
  args: { max: 0 },
  flags: {
    cluster: { type: 'bool', desc: 'Display only cluster volumes (swarm; berth has none)' },
    filter: { short: 'f', type: 'list', arg: 'filter', desc: 'Filter the output (e.g. "dangling=true")' },
    format: { type: 'string', desc: "Format the output: 'table', 'table TEMPLATE', 'json' or a Go template" },
    quiet: { short: 'q', type: 'bool', desc: 'Only display volume names' },
  },
};
const INSPECT: CommandSpec = {
  path: 'volume inspect',
  use: '[OPTIONS] VOLUME [VOLUME...]',
  about: 'Display detailed information on one or more volumes',
  args: { min: 1 },
  flags: { format: FORMAT_FLAG },
};
const RM: CommandSpec = {
  path: 'volume rm',
  use: '[OPTIONS] VOLUME [VOLUME...]',
  about: 'Remove one or more volumes',
  aliases: ['berth volume rm', 'berth volume remove'],
  args: { min: 1 },
  flags: { force: { short: 'f', type: 'bool', desc: 'Force the removal of one or more volumes' } },
};

interface Volume {
  Name: string;
  Driver: string;
  Scope?: string;
  Mountpoint?: string;
  Labels?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** One volume as docker's --format sees it (its volumeContext). */
function volumeRow(v: Volume) {
  const r = {
    Availability: 'N/A',
    Driver: v.Driver,
    Group: 'N/A',
    Labels: Object.entries(v.Labels ?? {})
      .sort()
      .map(([k, x]) => `${k}=${x}`)
      .join(','),
    Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A',
    Mountpoint: v.Mountpoint ?? '',
    Name: v.Name,
    Scope: v.Scope ?? 'local',
    Size: v.UsageData && v.UsageData.Size >= 0 ? humanSize(v.UsageData.Size) : 'N/A',
    Status: 'N/A',
  };
  return { ...r, Label: (k: string) => v.Labels?.[k] ?? '', toJSON: () => r };
}
const LS_HEADERS = {
  Name: 'VOLUME NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Label: 'LABEL',
  Links: 'LINKS',
  Size: 'SIZE',
  Availability: 'AVAILABILITY',
  Group: 'GROUP',
  Status: 'STATUS',
};

export async function volume(client: ApiClient, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'create': {
      const { flags, args } = parseCommand(CREATE, rest);
      const cluster = CLUSTER.find((k) => flags[k] !== undefined);
      if (cluster) throw unsupported(`--${cluster} is for cluster volumes, which need swarm mode: berth has no swarm`);
      if (flags.name !== undefined && args[0] !== undefined && flags.name !== args[0])
        throw new BerthError('invalid', `conflicting options: cannot specify a volume-name through both --name and as a positional arg`);
      const v = await client.json<{ Name: string }>('POST', '/volumes/create', {
        body: volumeCreateBody(
          (flags.name as string | undefined) ?? args[0] ?? '',
          (flags.driver as string | undefined) ?? 'local',
          flags.opt as string[] | undefined,
          flags.label as string[] | undefined,
        ),
      });
      process.stdout.write(`${v.Name}\n`);
      return 0;
    }
    case 'ls':
    case 'list': {
      const { flags } = parseCommand(LS, rest);
      if (flags.cluster) throw unsupported('cluster volumes need swarm mode: berth has no swarm');
      const r = await client.json<{ Volumes: Volume[] | null }>('GET', '/volumes', {
        query: { filters: filters(flags.filter as string[]) },
      });
      const format = flags.quiet ? '{{.Name}}' : (flags.format as string | undefined);
      process.stdout.write(
        formatRows(format, (r.Volumes ?? []).map(volumeRow), { defaultTable: '{{.Driver}}\t{{.Name}}', headers: LS_HEADERS }),
      );
      return 0;
    }
    case 'inspect': {
      const { flags, args } = parseCommand(INSPECT, rest);
      return inspectEach(
        args,
        flags.format as string | undefined,
        (n) => client.json('GET', `/volumes/${encodeURIComponent(n)}`),
        (n) => `Error: No such volume: ${n}`,
      );
    }
    case 'rm':
    case 'remove': {
      const { flags, args } = parseCommand(RM, rest);
      let failed = false;
      for (const n of args) {
        try {
          await client.json('DELETE', `/volumes/${encodeURIComponent(n)}`, { query: { force: flags.force ? true : undefined } });
          process.stdout.write(`${n}\n`);
        } catch (e) {
          process.stderr.write(`Error response from daemon: ${errorMessage(e)}\n`);
          failed = true;
        }
      }
      return failed ? 1 : 0;
    }
    case 'prune':
      return volumePrune(client, rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      return unknownSubcommand('volume', sub);
  }
}
