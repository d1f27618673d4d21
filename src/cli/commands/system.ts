// `berth system df|prune|info`: disk use (GET /system/df) as docker's summary table; prune is
// prune.ts's, info is info.ts's.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseCommand } from '../args.js';
import { humanSize, table } from '../output.js';
import { info } from './info.js';
import { systemPrune } from './prune.js';
import { unknownSubcommand } from './volume.js';

const USAGE = `Usage:  berth system COMMAND

Manage berth

Commands:
  df          Show berth disk usage
  info        Display system-wide information
  prune       Remove unused data

Run 'berth system COMMAND --help' for more information on a command.
`;

interface DiskUsage {
  LayersSize: number;
  Images: { Id: string; RepoTags: string[]; Size: number; SharedSize: number; Containers: number }[] | null;
  Containers: { Id: string; Names: string[]; Image: string; State: string; SizeRw: number }[] | null;
  Volumes: { Name: string; UsageData: { Size: number; RefCount: number } }[] | null;
}

const percent = (part: number, whole: number) => (whole > 0 ? ` (${Math.round((part * 100) / whole)}%)` : '');

async function df(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseCommand(
    {
      path: 'system df',
      use: '[OPTIONS]',
      about: 'Show berth disk usage',
      args: { max: 0 },
      flags: {
        format: { type: 'string', desc: 'Format the output with a Go template (not supported by berth)' },
        verbose: { short: 'v', type: 'bool', desc: 'Show the space each object uses' },
      },
    },
    argv,
  );
  if (flags.format) throw new BerthError('unsupported', 'berth system df --format is not supported');
  const d = await client.json<DiskUsage>('GET', '/system/df');
  const images = d.Images ?? [],
    containers = d.Containers ?? [],
    volumes = d.Volumes ?? [];
  const activeImages = images.filter((i) => i.Containers > 0);
  // As docker: the bytes of images no container uses, counting shared bytes once.
  const imagesReclaim = Math.max(0, d.LayersSize - activeImages.reduce((a, i) => a + i.Size, 0));
  const cSize = containers.reduce((a, c) => a + c.SizeRw, 0);
  const cReclaim = containers.filter((c) => c.State !== 'running').reduce((a, c) => a + c.SizeRw, 0);
  const vSize = volumes.reduce((a, v) => a + v.UsageData.Size, 0);
  const vReclaim = volumes.filter((v) => v.UsageData.RefCount === 0).reduce((a, v) => a + v.UsageData.Size, 0);
  process.stdout.write(
    table([
      ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
      [
        'Images',
        String(images.length),
        String(activeImages.length),
        humanSize(d.LayersSize),
        `${humanSize(imagesReclaim)}${percent(imagesReclaim, d.LayersSize)}`,
      ],
      [
        'Containers',
        String(containers.length),
        String(containers.filter((c) => c.State === 'running').length),
        humanSize(cSize),
        `${humanSize(cReclaim)}${percent(cReclaim, cSize)}`,
      ],
      [
        'Local Volumes',
        String(volumes.length),
        String(volumes.filter((v) => v.UsageData.RefCount > 0).length),
        humanSize(vSize),
        `${humanSize(vReclaim)}${percent(vReclaim, vSize)}`,
      ],
      ['Build Cache', '0', '0', '0B', '0B'],
    ]),
  );
  if (flags.verbose) {
    process.stdout.write(
      `\nImages space usage:\n\n${table([
        ['REPOSITORY:TAG', 'IMAGE ID', 'SIZE', 'SHARED SIZE', 'CONTAINERS'],
        ...images.map((i) => [
          i.RepoTags[0] ?? '<none>:<none>',
          i.Id.slice(7, 19),
          humanSize(i.Size),
          humanSize(i.SharedSize),
          String(i.Containers),
        ]),
      ])}`,
    );
    process.stdout.write(
      `\nContainers space usage:\n\n${table([
        ['CONTAINER ID', 'IMAGE', 'SIZE', 'STATUS', 'NAMES'],
        ...containers.map((c) => [c.Id.slice(0, 12), c.Image, humanSize(c.SizeRw), c.State, c.Names[0]?.replace(/^\//, '') ?? '']),
      ])}`,
    );
    process.stdout.write(
      `\nLocal Volumes space usage:\n\n${table([
        ['VOLUME NAME', 'LINKS', 'SIZE'],
        ...volumes.map((v) => [v.Name, String(v.UsageData.RefCount), humanSize(v.UsageData.Size)]),
      ])}`,
    );
  }
  return 0;
}

export async function system(client: ApiClient, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'df':
      return df(client, rest);
    case 'prune':
      return systemPrune(client, rest);
    case 'info':
      return info(client, rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      return unknownSubcommand('system', sub);
  }
}
