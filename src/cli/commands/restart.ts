// `berth restart [-t N] [-s SIGNAL] CONTAINER...`: POST /containers/{id}/restart for each.

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { int } from '../flag-values.js';
import { eachContainer } from './each-container.js';

const RESTART: CommandSpec = {
  path: 'restart',
  use: '[OPTIONS] CONTAINER [CONTAINER...]',
  about: 'Restart one or more containers',
  aliases: ['berth container restart', 'berth restart'],
  args: { min: 1 },
  flags: {
    signal: { short: 's', type: 'string', desc: 'Signal to send to the container' },
    timeout: {
      short: 't',
      type: 'string',
      arg: 'int',
      desc: 'Seconds to wait before killing the container',
      check: (s) => {
        int(s);
      },
    },
    time: {
      type: 'string',
      arg: 'int',
      desc: 'Seconds to wait before killing the container (an old name of --timeout)',
      check: (s) => {
        int(s);
      },
    },
  },
};

export async function restart(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(RESTART, argv);
  const t = (flags.time ?? flags.timeout) as string | undefined;
  return eachContainer(args, (c) =>
    client.json('POST', `/containers/${encodeURIComponent(c)}/restart`, { query: { t, signal: flags.signal as string | undefined } }),
  );
}
