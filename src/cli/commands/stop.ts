// `berth stop [-t N] [-s SIGNAL] CONTAINER...`: POST /containers/{id}/stop for each.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { eachContainer } from './each-container.js';

export async function stop(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { time: { short: 't', type: 'string' }, timeout: { type: 'string' }, signal: { short: 's', type: 'string' } });
  if (!args.length) throw new BerthError('invalid', '"berth stop" requires at least 1 argument: berth stop [OPTIONS] CONTAINER [CONTAINER...]');
  const t = (flags.time ?? flags.timeout) as string | undefined;
  return eachContainer(args, (c) => client.json('POST', `/containers/${encodeURIComponent(c)}/stop`, { query: { t, signal: flags.signal as string | undefined } }));
}
