// Every prune: `container prune`, `network prune`, `volume prune`, `image prune` and `system
// prune`, each asking docker's question first (unless -f/--force) and printing what the daemon
// deleted as docker does. A `system prune` runs the others in docker's order after one question.

import type { ApiClient } from '../../api/client.js';
import { invalid } from '../../errors.js';
import { parseCommand, type CommandSpec, type FlagSpec } from '../args.js';
import { humanSize } from '../output.js';
import { confirm } from '../prompt.js';
import { filters } from '../filters.js';

type Flags = Record<string, boolean | string | string[] | undefined>;
/** What one prune freed and the lines it prints ('' for nothing deleted). */
interface Pruned {
  space: number;
  output: string;
}

const FORCE = { short: 'f', type: 'bool', desc: 'Do not ask for confirmation' } as const;
const FILTER = { type: 'list', arg: 'filter', desc: 'Filter values (e.g. "until=<timestamp>", "label=<key>=<value>")' } as const;
const spec = (path: string, about: string, flags: Record<string, FlagSpec>): CommandSpec => ({
  path,
  use: '[OPTIONS]',
  about,
  args: { max: 0 },
  flags: { force: FORCE, filter: FILTER, ...flags },
});

const CONTAINER = spec('container prune', 'Remove all stopped containers', {});
const NETWORK = spec('network prune', 'Remove all unused networks', {});
const VOLUME = spec('volume prune', 'Remove unused local volumes', {
  all: { short: 'a', type: 'bool', desc: 'Remove all unused volumes, not only anonymous ones' },
});
const IMAGE = spec('image prune', 'Remove unused images', {
  all: { short: 'a', type: 'bool', desc: 'Remove all unused images, not only dangling ones' },
});
const SYSTEM = spec('system prune', 'Remove unused data', {
  all: { short: 'a', type: 'bool', desc: 'Remove all unused images, not only dangling ones' },
  volumes: { type: 'bool', desc: 'Prune anonymous volumes too' },
});

const list = (title: string, items: string[] | null | undefined) =>
  items?.length ? `${title}:\n${items.map((i) => `${i}\n`).join('')}` : '';
const given = (f: Flags) => (f.filter as string[] | undefined) ?? [];

async function containers(client: ApiClient, filter: string[]): Promise<Pruned> {
  const r = await client.json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', {
    query: { filters: filters(filter) },
  });
  return { space: r.SpaceReclaimed ?? 0, output: list('Deleted Containers', r.ContainersDeleted) };
}

async function networks(client: ApiClient, filter: string[]): Promise<Pruned> {
  const r = await client.json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters: filters(filter) } });
  return { space: 0, output: list('Deleted Networks', r.NetworksDeleted) };
}

async function volumes(client: ApiClient, filter: string[]): Promise<Pruned> {
  const r = await client.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', {
    query: { filters: filters(filter) },
  });
  return { space: r.VolumesDeleted?.length ? (r.SpaceReclaimed ?? 0) : 0, output: list('Deleted Volumes', r.VolumesDeleted) };
}

async function images(client: ApiClient, filter: string[], all: boolean): Promise<Pruned> {
  const r = await client.json<{ ImagesDeleted: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed: number }>(
    'POST',
    '/images/prune',
    {
      query: { filters: filters([...filter, `dangling=${!all}`]) },
    },
  );
  const items = r.ImagesDeleted ?? [];
  return {
    space: items.length ? (r.SpaceReclaimed ?? 0) : 0,
    output: list(
      'Deleted Images',
      items.map((i) => (i.Untagged ? `untagged: ${i.Untagged}` : `deleted: ${i.Deleted}`)),
    ),
  };
}

async function buildCache(client: ApiClient, filter: string[], all: boolean): Promise<Pruned> {
  const r = await client.json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune', {
    query: { all: all || undefined, filters: filters(filter) },
  });
  return { space: r.SpaceReclaimed ?? 0, output: list('Deleted build cache objects', r.CachesDeleted) };
}

/** As docker: what was deleted, a blank line, then (except for networks) the space. */
function report(p: Pruned, total: boolean): number {
  if (p.output) process.stdout.write(`${p.output}\n`);
  if (total) process.stdout.write(`Total reclaimed space: ${humanSize(p.space)}\n`);
  return 0;
}

const ask = (warning: string) => confirm(`WARNING! ${warning}\nAre you sure you want to continue?`);

export async function containerPrune(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseCommand(CONTAINER, argv);
  if (!flags.force && !(await ask('This will remove all stopped containers.'))) return 0;
  return report(await containers(client, given(flags)), true);
}

export async function networkPrune(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseCommand(NETWORK, argv);
  if (!flags.force && !(await ask('This will remove all custom networks not used by at least one container.'))) return 0;
  return report(await networks(client, given(flags)), false);
}

export async function volumePrune(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseCommand(VOLUME, argv);
  const filter = given(flags);
  if (flags.all) {
    if (filter.some((f) => f.startsWith('all='))) throw invalid('conflicting options: cannot specify both --all and --filter all=1');
    filter.push('all=true');
  }
  const warning = flags.all
    ? 'This will remove all local volumes not used by at least one container.'
    : 'This will remove anonymous local volumes not used by at least one container.';
  if (!flags.force && !(await ask(warning))) return 0;
  return report(await volumes(client, filter), true);
}

export async function imagePrune(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseCommand(IMAGE, argv);
  const warning = flags.all
    ? 'This will remove all images without at least one container associated to them.'
    : 'This will remove all dangling images.';
  if (!flags.force && !(await ask(warning))) return 0;
  return report(await images(client, given(flags), !!flags.all), true);
}

/** docker's system prune question: what goes, and the filters that narrow it. */
export function systemPruneWarning(all: boolean, withVolumes: boolean, filter: string[]): string {
  const what = [
    'all stopped containers',
    'all networks not used by at least one container',
    ...(withVolumes ? ['all anonymous volumes not used by at least one container'] : []),
    all ? 'all images without at least one container associated to them' : 'all dangling images',
    all ? 'all build cache' : 'unused build cache',
  ];
  const shown = filter.filter((f) => /^(label|label!|until)=/.test(f)).sort();
  return `This will remove:\n${what.map((w) => `  - ${w}\n`).join('')}${shown.length ? `\n  Items to be pruned will be filtered with:\n${shown.map((f) => `  - ${f}\n`).join('')}` : ''}`;
}

export async function systemPrune(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseCommand(SYSTEM, argv);
  const filter = given(flags),
    all = !!flags.all;
  if (flags.volumes && filter.some((f) => f.startsWith('until=')))
    throw invalid('ERROR: The "until" filter is not supported with "--volumes"');
  if (!flags.force && !(await ask(systemPruneWarning(all, !!flags.volumes, filter)))) return 0;
  let space = 0;
  const steps = [
    () => containers(client, filter),
    () => networks(client, filter),
    ...(flags.volumes ? [() => volumes(client, filter)] : []),
    () => images(client, filter, all),
    () => buildCache(client, filter, all),
  ];
  for (const step of steps) {
    const p = await step();
    space += p.space;
    if (p.output) process.stdout.write(`${p.output}\n`);
  }
  process.stdout.write(`Total reclaimed space: ${humanSize(space)}\n`);
  return 0;
}
