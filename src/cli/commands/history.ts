// `berth history [-H] [--no-trunc] [-q] IMAGE`: GET /images/{name}/history as docker's table.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { humanAgo, humanSize, table } from '../output.js';

interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

const HISTORY: CommandSpec = {
  path: 'history',
  use: '[OPTIONS] IMAGE',
  about: 'Show the history of an image',
  aliases: ['berth image history', 'berth history'],
  args: { min: 1, max: 1 },
  flags: {
    format: { type: 'string', desc: 'Format the output with a Go template (not supported by berth)' },
    human: { short: 'H', type: 'bool', desc: 'Print sizes and dates in human-readable form', dflt: 'true' },
    'no-trunc': { type: 'bool', desc: 'Do not truncate the output' },
    platform: { type: 'string', desc: 'Show the history of this platform (not supported by berth)' },
    quiet: { short: 'q', type: 'bool', desc: 'Only show image IDs' },
  },
};

export async function history(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(HISTORY, argv);
  if (flags.platform !== undefined)
    throw new BerthError('unsupported', 'berth history --platform is not supported: berth keeps one platform of an image');
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
  const rows = items.map((i) => [
    id(i),
    human ? humanAgo(i.Created) : new Date(i.Created * 1000).toISOString(),
    by(i.CreatedBy),
    human ? humanSize(i.Size) : String(i.Size),
    i.Comment,
  ]);
  process.stdout.write(table([['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], ...rows]));
  return 0;
}
