// `berth images [-a] [-q] [--digests] [--no-trunc] [-f FILTER] [--format F] [REPOSITORY[:TAG]]`:
// GET /images/json as docker's table or --format template, one row per name (`<none>` for a
// dangling image).

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { goTime, humanAgo, humanSize } from '../output.js';
import { formatRows } from '../template.js';
import { filters } from '../filters.js';

interface Summary { Id: string; RepoTags: string[] | null; RepoDigests: string[] | null; Created: number; Size: number; Containers?: number }

const IMAGE_HEADERS: Record<string, string> = {
  Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE', Containers: 'CONTAINERS',
};

export async function images(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, {
    quiet: { short: 'q', type: 'bool' }, all: { short: 'a', type: 'bool' }, digests: { type: 'bool' },
    'no-trunc': { type: 'bool' }, filter: { short: 'f', type: 'list' }, format: { type: 'string' },
  });
  if (args.length > 1) throw new BerthError('invalid', '"berth images" requires at most 1 argument: berth images [OPTIONS] [REPOSITORY[:TAG]]');
  const f = [...((flags.filter as string[] | undefined) ?? []), ...args.map((a) => `reference=${a}`)];
  const list = await client.json<Summary[]>('GET', '/images/json', { query: { all: flags.all ? true : undefined, filters: filters(f) } });
  const id = (s: string) => (flags['no-trunc'] ? s : s.replace(/^sha256:/, '').slice(0, 12));
  if (flags.quiet) {
    process.stdout.write([...new Set(list.map((i) => id(i.Id)))].map((s) => `${s}\n`).join(''));
    return 0;
  }
  const rows = list.flatMap((i) => {
    const digest = (repo: string) => i.RepoDigests?.find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>';
    const names = i.RepoTags?.length ? i.RepoTags.map((t) => [t.slice(0, t.lastIndexOf(':')), t.slice(t.lastIndexOf(':') + 1)])
      : i.RepoDigests?.length ? i.RepoDigests.map((d) => [d.split('@')[0], '<none>']) : [['<none>', '<none>']];
    // The fields docker's --format names for an image.
    return names.map(([repo, tag]) => {
      const r = {
        Containers: i.Containers === undefined || i.Containers < 0 ? 'N/A' : String(i.Containers), CreatedAt: goTime(i.Created),
        CreatedSince: humanAgo(i.Created), Digest: flags.digests ? digest(repo) : '<none>', ID: id(i.Id), Repository: repo,
        SharedSize: 'N/A', Size: humanSize(i.Size), Tag: tag, UniqueSize: 'N/A', VirtualSize: humanSize(i.Size, 4),
      };
      return { ...r, toJSON: () => r };
    });
  });
  const defaultTable = `{{.Repository}}\t{{.Tag}}${flags.digests ? '\t{{.Digest}}' : ''}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`;
  process.stdout.write(formatRows(flags.format as string | undefined, rows, { defaultTable, headers: IMAGE_HEADERS }));
  return 0;
}
