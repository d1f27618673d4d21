// `berth history [-H] [--no-trunc] [-q] [--format F] IMAGE`: GET /images/{name}/history as docker's
// table, or through a Go template of docker's history fields.

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { humanAgo, humanSize, table } from '../output.js';
import { formatRows } from '../template.js';
import { platformJSON } from '../flag-values.js';

interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** docker's column headers for the history fields. */
const HISTORY_HEADERS = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

/** Go's time.RFC3339 of a Unix time in the local zone, as docker's client prints it. */
function goRfc3339(unix: number): string {
  const d = new Date(unix * 1000);
  const off = -d.getTimezoneOffset();
  const pad = (n: number) => String(Math.abs(n)).padStart(2, '0');
  const local = new Date(d.getTime() + off * 60_000).toISOString().slice(0, 19);
  return `${local}${off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`}`;
}

const HISTORY: CommandSpec = {
  path: 'history',
  use: '[OPTIONS] IMAGE',
  about: 'Show the history of an image',
  aliases: ['berth image history', 'berth history'],
  args: { min: 1, max: 1 },
  flags: {
    format: { type: 'string', desc: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or TEMPLATE (Go template)" },
    human: { short: 'H', type: 'bool', desc: 'Print sizes and dates in human-readable form', dflt: 'true' },
    'no-trunc': { type: 'bool', desc: 'Do not truncate the output' },
    platform: { type: 'string', desc: 'Show the history of the image for this platform (os[/arch[/variant]])' },
    quiet: { short: 'q', type: 'bool', desc: 'Only show image IDs' },
  },
};

export async function history(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(HISTORY, argv);
  const platform = flags.platform ? platformJSON(flags.platform as string) : undefined;
  const items = await client.json<HistoryItem[]>('GET', `/images/${args[0]}/history`, { query: { platform } });
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
  if (flags.format !== undefined) {
    // docker's history fields, as its formatter gives them.
    const rows = items.map((i) => {
      // In name order: docker's json prints the fields as a map, sorted.
      const r = {
        Comment: i.Comment,
        CreatedAt: goRfc3339(i.Created),
        CreatedBy: by(i.CreatedBy.replace(/\t/g, ' ')),
        CreatedSince: human ? humanAgo(i.Created) : goRfc3339(i.Created),
        ID: id(i),
        Size: human ? humanSize(i.Size) : String(i.Size),
      };
      return { ...r, toJSON: () => r };
    });
    // Without -H, docker's own table shows the date itself.
    const defaultTable = `{{.ID}}\t${human ? '{{.CreatedSince}}' : '{{.CreatedAt}}'}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}`;
    process.stdout.write(formatRows(flags.format as string, rows, { defaultTable, headers: HISTORY_HEADERS }));
    return 0;
  }
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
