// `berth pause CONTAINER...` and `berth unpause CONTAINER...`: POST /containers/{id}/pause|unpause.

import type { ApiClient } from '../../api/client.js';
import { parseCommand } from '../args.js';
import { eachContainer } from './each-container.js';

function verb(action: 'pause' | 'unpause') {
  return (client: ApiClient, argv: string[]): Promise<number> => {
    const { args } = parseCommand(
      {
        path: action,
        use: 'CONTAINER [CONTAINER...]',
        about: `${action === 'pause' ? 'Pause' : 'Unpause'} all processes within one or more containers`,
        aliases: [`berth container ${action}`, `berth ${action}`],
        args: { min: 1 },
        flags: {},
      },
      argv,
    );
    return eachContainer(args, (c) => client.json('POST', `/containers/${encodeURIComponent(c)}/${action}`));
  };
}

export const pause = verb('pause');
export const unpause = verb('unpause');
