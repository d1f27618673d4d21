// `berth kill [-s SIGNAL] CONTAINER...`: POST /containers/{id}/kill for each (SIGKILL unless -s).

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { eachContainer } from './each-container.js';

export async function kill(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { signal: { short: 's', type: 'string' } });
  if (!args.length) throw new BerthError('invalid', '"berth kill" requires at least 1 argument: berth kill [OPTIONS] CONTAINER [CONTAINER...]');
  return eachContainer(args, (c) => client.json('POST', `/containers/${encodeURIComponent(c)}/kill`, { query: { signal: flags.signal as string | undefined } }));
}
