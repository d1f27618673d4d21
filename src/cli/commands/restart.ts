// `berth restart [-t N] [-s SIGNAL] CONTAINER...`: POST /containers/{id}/restart for each.

import type { ApiClient } from '../../api/client.js';
import type { CommandSpec } from '../args.js';
import { STOP_FLAGS, stopEach } from './stop.js';

const RESTART: CommandSpec = {
  path: 'restart',
  use: '[OPTIONS] CONTAINER [CONTAINER...]',
  about: 'Restart one or more containers',
  aliases: ['berth container restart', 'berth restart'],
  args: { min: 1 },
  flags: STOP_FLAGS,
};

export function restart(client: ApiClient, argv: string[]): Promise<number> {
  return stopEach(client, argv, RESTART, 'restart');
}
