// `berth stop [-t N] [-s SIGNAL] CONTAINER...`: POST /containers/{id}/stop for each.

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { int } from '../flag-values.js';
import { eachContainer } from './each-container.js';

/** The flags stop and restart share: how long to wait before killing, and the signal sent first. */
export const STOP_FLAGS: CommandSpec['flags'] = {
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
};

const STOP: CommandSpec = {
  path: 'stop',
  use: '[OPTIONS] CONTAINER [CONTAINER...]',
  about: 'Stop one or more running containers',
  aliases: ['berth container stop', 'berth stop'],
  args: { min: 1 },
  flags: STOP_FLAGS,
};

export function stop(client: ApiClient, argv: string[]): Promise<number> {
  return stopEach(client, argv, STOP, 'stop');
}

/** POST /containers/{id}/{action} for each CONTAINER, with the wait and signal of STOP_FLAGS. */
export async function stopEach(client: ApiClient, argv: string[], spec: CommandSpec, action: 'stop' | 'restart'): Promise<number> {
  const { flags, args } = parseCommand(spec, argv);
  const t = (flags.time ?? flags.timeout) as string | undefined;
  return eachContainer(args, (c) =>
    client.json('POST', `/containers/${encodeURIComponent(c)}/${action}`, { query: { t, signal: flags.signal as string | undefined } }),
  );
}
