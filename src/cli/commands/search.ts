// `berth search [-f FILTER] [--format F] [--limit N] [--no-trunc] TERM`: GET /images/search (the
// index the term names, Docker Hub's by default) as docker 28's table or --format template.

import type { ApiClient } from '../../api/client.js';
import { parseReference, splitSearchTerm } from '../../common/reference.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { registryAuthHeader } from '../credentials.js';
import { filters } from '../filters.js';
import { int } from '../flag-values.js';
import { ellipsis } from '../output.js';
import { formatRows } from '../template.js';

interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
}

/** docker's column headers for the search fields. */
const SEARCH_HEADERS = {
  Name: 'NAME',
  Description: 'DESCRIPTION',
  StarCount: 'STARS',
  IsOfficial: 'OFFICIAL',
};

const SEARCH: CommandSpec = {
  path: 'search',
  use: '[OPTIONS] TERM',
  about: 'Search Docker Hub for images',
  args: { min: 1, max: 1 },
  flags: {
    filter: { short: 'f', type: 'list', arg: 'filter', desc: 'Filter output based on conditions provided' },
    format: { type: 'string', desc: 'Pretty-print search using a Go template' },
    limit: {
      type: 'string',
      arg: 'int',
      desc: 'Max number of search results',
      check: (s) => {
        int(s);
      },
    },
    'no-trunc': { type: 'bool', desc: "Don't truncate output" },
  },
};

export async function search(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(SEARCH, argv);
  const term = args[0];
  const q = new URLSearchParams({ term });
  const limit = flags.limit === undefined ? 0 : int(flags.limit as string);
  if (limit > 0) q.set('limit', String(limit));
  const f = filters(flags.filter as string[] | undefined);
  if (f) q.set('filters', f);
  // The credentials of the index the term names, as docker's CLI sends them; a term that names
  // no valid host has none, and berthd refuses it in dockerd's words.
  const { index } = splitSearchTerm(term);
  const headers = isReference(`${index}/x`) ? await registryAuthHeader(`${index}/x`) : {};
  const results = await client.json<SearchResult[]>('GET', `/images/search?${q}`, { headers });
  const trunc = !flags['no-trunc'];
  const rows = results.map((s) => {
    const desc = s.description.replace(/[\n\r]/g, ' ');
    const r = {
      Name: s.name,
      Description: trunc ? ellipsis(desc, 45) : desc,
      StarCount: String(s.star_count),
      IsOfficial: s.is_official ? '[OK]' : '',
    };
    // docker 28's json of a result: its four columns, the flag as `true`/`false`.
    const json = { Description: r.Description, IsOfficial: String(s.is_official), Name: r.Name, StarCount: r.StarCount };
    return { ...r, toJSON: () => json };
  });
  process.stdout.write(
    formatRows(flags.format as string | undefined, rows, {
      defaultTable: '{{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}',
      headers: SEARCH_HEADERS,
    }),
  );
  return 0;
}

function isReference(s: string): boolean {
  try {
    parseReference(s);
    return true;
  } catch {
    return false;
  }
}
