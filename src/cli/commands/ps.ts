// `berth ps [-a] [-q]`: GET /containers/json as a table.

import type { ApiClient } from '../../api/client.js';
import { parseArgs } from '../args.js';
import { humanAgo, table } from '../output.js';

export async function ps(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { all: { short: 'a', type: 'bool' }, quiet: { short: 'q', type: 'bool' }, 'no-trunc': { type: 'bool' } });
  const list = await client.json<any[]>('GET', '/containers/json', { query: { all: flags.all ? true : undefined } });
  const id = (s: string) => (flags['no-trunc'] ? s : s.slice(0, 12));
  if (flags.quiet) {
    process.stdout.write(list.map((c) => `${id(c.Id)}\n`).join(''));
    return 0;
  }
  const cmd = (s: string) => JSON.stringify(!flags['no-trunc'] && s.length > 20 ? `${s.slice(0, 19)}…` : s);
  process.stdout.write(table([
    ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
    ...list.map((c) => [id(c.Id), c.Image, cmd(c.Command), humanAgo(c.Created), c.Status, '', c.Names.map((n: string) => n.slice(1)).join(',')]),
  ]));
  return 0;
}
