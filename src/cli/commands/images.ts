// `berth images [-a] [-q] [--digests] [--no-trunc] [-f FILTER] [REPOSITORY[:TAG]]`: GET
// /images/json as docker's table, one row per name (`<none>` for a dangling image).

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { humanAgo, humanSize, table } from '../output.js';
import { filters } from './volume.js';

interface Summary { Id: string; RepoTags: string[] | null; RepoDigests: string[] | null; Created: number; Size: number }

export async function images(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, {
    quiet: { short: 'q', type: 'bool' }, all: { short: 'a', type: 'bool' }, digests: { type: 'bool' },
    'no-trunc': { type: 'bool' }, filter: { short: 'f', type: 'list' }, format: { type: 'string' },
  });
  if (args.length > 1) throw new BerthError('invalid', '"berth images" requires at most 1 argument: berth images [OPTIONS] [REPOSITORY[:TAG]]');
  if (flags.format) throw new BerthError('unsupported', 'berth images --format is not supported');
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
    return names.map(([repo, tag]) => [repo, tag, ...(flags.digests ? [digest(repo)] : []), id(i.Id), humanAgo(i.Created), humanSize(i.Size)]);
  });
  process.stdout.write(table([['REPOSITORY', 'TAG', ...(flags.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'], ...rows]));
  return 0;
}
