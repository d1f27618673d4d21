// `berth images [-a] [-q] [--digests] [--no-trunc] [-f FILTER] [--format F] [REPOSITORY[:TAG]]`:
// GET /images/json as docker's table or --format template, one row per name (`<none>` for a
// dangling image).

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { goTime, humanAgo, humanSize } from '../output.js';
import { formatRows } from '../template.js';
import { filters } from '../filters.js';

interface Summary {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  Containers?: number;
}

const IMAGE_HEADERS: Record<string, string> = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  ID: 'IMAGE ID',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
};

const IMAGES: CommandSpec = {
  path: 'images',
  use: '[OPTIONS] [REPOSITORY[:TAG]]',
  about: 'List images',
  aliases: ['berth image ls', 'berth image list', 'berth images'],
  args: { max: 1 },
  flags: {
    all: { short: 'a', type: 'bool', desc: 'Show all images (intermediate ones are hidden without it)' },
    digests: { type: 'bool', desc: 'Show digests' },
    filter: { short: 'f', type: 'list', arg: 'filter', desc: 'Filter the output by the conditions given' },
    format: { type: 'string', desc: "Format the output: 'table', 'table TEMPLATE', 'json' or a Go template" },
    'no-trunc': { type: 'bool', desc: 'Do not truncate the output' },
    quiet: { short: 'q', type: 'bool', desc: 'Only show image IDs' },
    tree: { type: 'bool', desc: 'List multi-platform images as a tree (not supported by berth)' },
  },
};

export async function images(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(IMAGES, argv);
  if (flags.tree) throw new BerthError('unsupported', 'berth images --tree is not supported: berth keeps one platform of an image');
  const f = [...((flags.filter as string[] | undefined) ?? []), ...args.map((a) => `reference=${a}`)];
  const list = await client.json<Summary[]>('GET', '/images/json', { query: { all: flags.all ? true : undefined, filters: filters(f) } });
  const id = (s: string) => (flags['no-trunc'] ? s : s.replace(/^sha256:/, '').slice(0, 12));
  if (flags.quiet) {
    process.stdout.write([...new Set(list.map((i) => id(i.Id)))].map((s) => `${s}\n`).join(''));
    return 0;
  }
  const rows = list.flatMap((i) => {
    const digest = (repo: string) => i.RepoDigests?.find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>';
    const names = i.RepoTags?.length
      ? i.RepoTags.map((t) => [t.slice(0, t.lastIndexOf(':')), t.slice(t.lastIndexOf(':') + 1)])
      : i.RepoDigests?.length
        ? i.RepoDigests.map((d) => [d.split('@')[0], '<none>'])
        : [['<none>', '<none>']];
    // The fields docker's --format names for an image.
    return names.map(([repo, tag]) => {
      const r = {
        Containers: i.Containers === undefined || i.Containers < 0 ? 'N/A' : String(i.Containers),
        CreatedAt: goTime(i.Created),
        CreatedSince: humanAgo(i.Created),
        Digest: flags.digests ? digest(repo) : '<none>',
        ID: id(i.Id),
        Repository: repo,
        SharedSize: 'N/A',
        Size: humanSize(i.Size),
        Tag: tag,
        UniqueSize: 'N/A',
        VirtualSize: humanSize(i.Size, 4),
      };
      return { ...r, toJSON: () => r };
    });
  });
  const defaultTable = `{{.Repository}}\t{{.Tag}}${flags.digests ? '\t{{.Digest}}' : ''}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`;
  process.stdout.write(formatRows(flags.format as string | undefined, rows, { defaultTable, headers: IMAGE_HEADERS }));
  return 0;
}
