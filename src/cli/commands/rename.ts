// `berth rename CONTAINER NEW_NAME`: POST /containers/{id}/rename?name=.

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';

const RENAME: CommandSpec = {
  path: 'rename',
  use: 'CONTAINER NEW_NAME',
  about: 'Rename a container',
  aliases: ['berth container rename', 'berth rename'],
  args: { min: 2, max: 2 },
  flags: {},
};

export async function rename(client: ApiClient, argv: string[]): Promise<number> {
  const { args } = parseCommand(RENAME, argv);
  await client.json('POST', `/containers/${encodeURIComponent(args[0])}/rename`, { query: { name: args[1] } });
  return 0;
}
