// `berth pause CONTAINER...` and `berth unpause CONTAINER...`: POST /containers/{id}/pause|unpause.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { eachContainer } from './each-container.js';

function verb(action: 'pause' | 'unpause') {
  return (client: ApiClient, argv: string[]): Promise<number> => {
    const { args } = parseArgs(argv, {});
    if (!args.length) throw new BerthError('invalid', `"berth ${action}" requires at least 1 argument: berth ${action} CONTAINER [CONTAINER...]`);
    return eachContainer(args, (c) => client.json('POST', `/containers/${encodeURIComponent(c)}/${action}`));
  };
}

export const pause = verb('pause');
export const unpause = verb('unpause');
