// `berth ps [-a] [-q] [-n N] [-l] [-s] [--no-trunc] [-f KEY=VALUE]... [--format F]`:
// GET /containers/json, printed as docker's table or through a --format template with docker's
// placeholders (.ID .Image .Command .CreatedAt .RunningFor .Ports .State .Status .Size .Names
// .Labels .Label "k" .Mounts .LocalVolumes .Networks), and berth's .Pod and .PodName (`--pod`, as podman's).

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { int } from '../flag-values.js';
import { ellipsis, goTime, humanAgo, humanSize } from '../output.js';
import { formatRows } from '../template.js';
import { filters } from '../filters.js';

/** GET /containers/json's items, the fields ps shows. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  Labels: Record<string, string> | null;
  State: string;
  Status: string;
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: { Name?: string; Source: string; Driver?: string }[];
  NetworkSettings?: { Networks?: Record<string, unknown> };
  /** berth's: the ID of the container's pod, when it has one. */
  Pod?: string;
}

export const PS_TABLE = '{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

export const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Label: 'LABEL',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Pod: 'POD ID',
  PodName: 'PODNAME',
};

/** docker's DisplayablePorts, without its grouping of ranges. */
function ports(list: ContainerSummary['Ports']): string {
  return list
    .map((p) =>
      p.PublicPort
        ? `${p.IP ? `${p.IP.includes(':') ? `[${p.IP}]` : p.IP}:` : ''}${p.PublicPort}->${p.PrivatePort}/${p.Type}`
        : `${p.PrivatePort}/${p.Type}`,
    )
    .join(', ');
}

/** One container as docker's --format sees it (its ContainerContext). */
export class ContainerContext {
  constructor(
    private readonly c: ContainerSummary,
    private readonly trunc: boolean,
    private readonly podNames: ReadonlyMap<string, string> = new Map(),
  ) {}

  get Pod(): string {
    const id = this.c.Pod ?? '';
    return this.trunc ? id.slice(0, 12) : id;
  }
  get PodName(): string {
    return this.podNames.get(this.c.Pod ?? '') ?? '';
  }

  get ID(): string {
    return this.trunc ? this.c.Id.slice(0, 12) : this.c.Id;
  }
  get Names(): string {
    const names = this.c.Names.map((n) => n.replace(/^\//, ''));
    // Truncated: the container's own name, not the names links give it (`other/alias`).
    return (this.trunc ? names.filter((n) => !n.includes('/')).slice(0, 1) : names).join(',');
  }
  get Image(): string {
    const img = this.c.Image;
    if (!img) return '<no image>';
    if (!this.trunc) return img;
    if (/^sha256:[0-9a-f]{64}$/.test(img)) return img.slice(7, 19);
    return img.replace(/@sha256:[0-9a-f]{64}$/, '');
  }
  get Command(): string {
    return JSON.stringify(this.trunc ? ellipsis(this.c.Command, 20) : this.c.Command);
  }
  get CreatedAt(): string {
    return goTime(this.c.Created);
  }
  get RunningFor(): string {
    return humanAgo(this.c.Created);
  }
  get Ports(): string {
    return ports(this.c.Ports ?? []);
  }
  get State(): string {
    return this.c.State;
  }
  get Status(): string {
    return this.c.Status;
  }
  get Size(): string {
    const rw = humanSize(this.c.SizeRw ?? 0);
    return this.c.SizeRootFs ? `${rw} (virtual ${humanSize(this.c.SizeRootFs)})` : rw;
  }
  get Labels(): string {
    return Object.entries(this.c.Labels ?? {})
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  }
  Label(name: string): string {
    return this.c.Labels?.[name] ?? '';
  }
  get Mounts(): string {
    return (this.c.Mounts ?? []).map((m) => (this.trunc ? ellipsis(m.Name || m.Source, 15) : m.Name || m.Source)).join(',');
  }
  get LocalVolumes(): string {
    return String((this.c.Mounts ?? []).filter((m) => m.Driver === 'local').length);
  }
  get Networks(): string {
    return Object.keys(this.c.NetworkSettings?.Networks ?? {})
      .sort()
      .join(',');
  }

  /** `{{json .}}`: every placeholder as a string, as docker marshals its context. */
  toJSON(): Record<string, string | null> {
    return {
      Command: this.Command,
      CreatedAt: this.CreatedAt,
      ID: this.ID,
      Image: this.Image,
      Labels: this.Labels,
      LocalVolumes: this.LocalVolumes,
      Mounts: this.Mounts,
      Names: this.Names,
      Networks: this.Networks,
      Platform: null,
      Ports: this.Ports,
      RunningFor: this.RunningFor,
      Size: this.Size,
      State: this.State,
      Status: this.Status,
    };
  }
}

const PS: CommandSpec = {
  path: 'ps',
  use: '[OPTIONS]',
  about: 'List containers',
  aliases: ['berth container ls', 'berth container list', 'berth container ps', 'berth ps'],
  args: { max: 0 },
  flags: {
    all: { short: 'a', type: 'bool', desc: 'Show all containers (only running ones without it)' },
    filter: { short: 'f', type: 'list', arg: 'filter', desc: 'Filter the output by the conditions given' },
    format: { type: 'string', desc: "Format the output: 'table', 'table TEMPLATE', 'json' or a Go template" },
    last: {
      short: 'n',
      type: 'string',
      arg: 'int',
      desc: 'Show the n last created containers, in any state',
      dflt: '-1',
      check: (s) => {
        int(s);
      },
    },
    latest: { short: 'l', type: 'bool', desc: 'Show the latest created container, in any state' },
    'no-trunc': { type: 'bool', desc: 'Do not truncate the output' },
    quiet: { short: 'q', type: 'bool', desc: 'Only display container IDs' },
    size: { short: 's', type: 'bool', desc: 'Display total file sizes' },
    pod: { type: 'bool', desc: "Show the pod of each container, pods' infra containers too (berth's, as podman's)" },
  },
};

export async function ps(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseCommand(PS, argv);
  let format = flags.format as string | undefined;
  if (!format || format === 'table')
    format = flags.quiet ? '{{.ID}}' : `table ${PS_TABLE}${flags.size ? '\t{{.Size}}' : ''}${flags.pod ? '\t{{.Pod}}\t{{.PodName}}' : ''}`;
  const last = flags.latest ? 1 : flags.last === undefined ? -1 : Number(flags.last);
  const list = await client.json<ContainerSummary[]>('GET', '/containers/json', {
    query: {
      all: flags.all ? true : undefined,
      // berth's: a pod's infra containers, which the Docker API lists only when asked.
      infra: flags.pod ? true : undefined,
      limit: last > 0 ? last : undefined,
      size: flags.size || format.includes('.Size') ? true : undefined,
      filters: filters(flags.filter as string[] | undefined),
    },
  });
  const trunc = !flags['no-trunc'];
  const podNames = format.includes('.PodName')
    ? new Map((await client.json<{ Id: string; Name: string }[]>('GET', '/pods/json')).map((p) => [p.Id, p.Name]))
    : undefined;
  process.stdout.write(
    formatRows(
      format,
      list.map((c) => new ContainerContext(c, trunc, podNames)),
      { defaultTable: PS_TABLE, headers: PS_HEADERS },
    ),
  );
  return 0;
}
