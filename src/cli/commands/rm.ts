// `berth rm [-f] [-v] CONTAINER...`: DELETE /containers/{id} for each; names each one removed.

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { eachContainer } from './each-container.js';

const RM: CommandSpec = {
  path: 'rm',
  use: '[OPTIONS] CONTAINER [CONTAINER...]',
  about: 'Remove one or more containers',
  aliases: ['berth container rm', 'berth container remove', 'berth rm'],
  args: { min: 1 },
  flags: {
    force: { short: 'f', type: 'bool', desc: 'Force the removal of a running container (with SIGKILL)' },
    link: { short: 'l', type: 'bool', desc: 'Remove the given link' },
    volumes: { short: 'v', type: 'bool', desc: 'Remove the anonymous volumes of the container' },
  },
};

export async function rm(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(RM, argv);
  return eachContainer(args, (c) =>
    client.json('DELETE', `/containers/${encodeURIComponent(c)}`, {
      query: { force: flags.force ? true : undefined, v: flags.volumes ? true : undefined, link: flags.link ? true : undefined },
    }),
  );
}
