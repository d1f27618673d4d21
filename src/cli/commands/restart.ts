// `berth restart [-t N] [-s SIGNAL] CONTAINER...`: POST /containers/{id}/restart for each.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { eachContainer } from './each-container.js';

export async function restart(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { time: { short: 't', type: 'string' }, timeout: { type: 'string' }, signal: { short: 's', type: 'string' } });
  if (!args.length) throw new BerthError('invalid', '"berth restart" requires at least 1 argument: berth restart [OPTIONS] CONTAINER [CONTAINER...]');
  const t = (flags.time ?? flags.timeout) as string | undefined;
  return eachContainer(args, (c) => client.json('POST', `/containers/${encodeURIComponent(c)}/restart`, { query: { t, signal: flags.signal as string | undefined } }));
}
