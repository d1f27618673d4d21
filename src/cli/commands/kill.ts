// `berth kill [-s SIGNAL] CONTAINER...`: POST /containers/{id}/kill for each (SIGKILL unless -s).

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { eachContainer } from './each-container.js';

const KILL: CommandSpec = {
  path: 'kill',
  use: '[OPTIONS] CONTAINER [CONTAINER...]',
  about: 'Kill one or more running containers',
  aliases: ['berth container kill', 'berth kill'],
  args: { min: 1 },
  flags: { signal: { short: 's', type: 'string', desc: 'Signal to send to the container' } },
};

export async function kill(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(KILL, argv);
  return eachContainer(args, (c) =>
    client.json('POST', `/containers/${encodeURIComponent(c)}/kill`, { query: { signal: flags.signal as string | undefined } }),
  );
}
