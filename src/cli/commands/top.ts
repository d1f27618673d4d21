// `berth top CONTAINER [ps OPTIONS]`: GET /containers/{id}/top, everything after the container
// given to ps as ps_args, printed as a table.

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { table } from '../output.js';

const TOP: CommandSpec = {
  path: 'top',
  use: 'CONTAINER [ps OPTIONS]',
  about: 'Display the running processes of a container',
  aliases: ['berth container top', 'berth top'],
  args: { min: 1 },
  flags: {},
  stopAtOperand: true,
};

export async function top(client: ApiClient, argv: string[]): Promise<number> {
  const { args } = parseCommand(TOP, argv);
  const r = await client.json<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${encodeURIComponent(args[0])}/top`, {
    query: { ps_args: args.slice(1).join(' ') || undefined },
  });
  process.stdout.write(table([r.Titles, ...r.Processes], 20));
  return 0;
}
