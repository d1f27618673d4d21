// `berth history [-H] [--no-trunc] [-q] IMAGE`: GET /images/{name}/history as docker's table.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { humanAgo, humanSize, table } from '../output.js';

interface HistoryItem { Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }

export async function history(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { human: { short: 'H', type: 'bool' }, 'no-trunc': { type: 'bool' }, quiet: { short: 'q', type: 'bool' }, format: { type: 'string' } });
  if (args.length !== 1) throw new BerthError('invalid', '"berth history" requires exactly 1 argument: berth history [OPTIONS] IMAGE');
  if (flags.format) throw new BerthError('unsupported', 'berth history --format is not supported');
  const items = await client.json<HistoryItem[]>('GET', `/images/${args[0]}/history`);
  const full = !!flags['no-trunc'];
  const id = (i: HistoryItem) => (i.Id === '<missing>' || full ? i.Id : i.Id.replace(/^sha256:/, '').slice(0, 12));
  if (flags.quiet) {
    process.stdout.write(items.map((i) => `${id(i)}\n`).join(''));
    return 0;
  }
  const human = flags.human !== false;
  const by = (s: string) => {
    const t = s.replace(/\s+/g, ' ');
    return full || t.length <= 45 ? t : `${t.slice(0, 44)}…`;
  };
  const rows = items.map((i) => [id(i), human ? humanAgo(i.Created) : new Date(i.Created * 1000).toISOString(), by(i.CreatedBy),
    human ? humanSize(i.Size) : String(i.Size), i.Comment]);
  process.stdout.write(table([['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], ...rows]));
  return 0;
}
