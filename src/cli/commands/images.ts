// `berth images [-q]`: GET /images/json as docker's table, one row per name.

import type { ApiClient } from '../../api/client.js';
import { parseArgs } from '../args.js';
import { humanAgo, humanSize, table } from '../output.js';

export async function images(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { quiet: { short: 'q', type: 'bool' }, all: { short: 'a', type: 'bool' } });
  const list = await client.json<any[]>('GET', '/images/json');
  const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
  if (flags.quiet) {
    process.stdout.write([...new Set(list.map((i) => short(i.Id)))].map((s) => `${s}\n`).join(''));
    return 0;
  }
  const rows = list.flatMap((i) => (i.RepoTags?.length ? i.RepoTags : ['<none>:<none>']).map((t: string) => {
    const c = t.lastIndexOf(':');
    return [t.slice(0, c), t.slice(c + 1), short(i.Id), humanAgo(i.Created), humanSize(i.Size)];
  }));
  process.stdout.write(table([['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], ...rows]));
  return 0;
}
