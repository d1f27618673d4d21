// `berth top CONTAINER [ps OPTIONS]`: GET /containers/{id}/top, everything after the container
// given to ps as ps_args, printed as a table.

import type { ApiClient } from '../../api/client.js';
import { invalid } from '../../errors.js';
import { parseArgs } from '../args.js';
import { table } from '../output.js';

export async function top(client: ApiClient, argv: string[]): Promise<number> {
  const { args } = parseArgs(argv, {}, { stopAtOperand: true });
  if (!args.length) throw invalid('"berth top" requires at least 1 argument: berth top CONTAINER [ps OPTIONS]');
  const r = await client.json<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${encodeURIComponent(args[0])}/top`,
    { query: { ps_args: args.slice(1).join(' ') || undefined } });
  process.stdout.write(table([r.Titles, ...r.Processes], 20));
  return 0;
}
