// `berth stop [-t N] [-s SIGNAL] CONTAINER...`: POST /containers/{id}/stop for each.

import type { ApiClient } from '../../api/client.js';
import { BerthError, errorMessage } from '../../errors.js';
import { parseArgs } from '../args.js';

export async function stop(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { time: { short: 't', type: 'string' }, timeout: { type: 'string' }, signal: { short: 's', type: 'string' } });
  if (!args.length) throw new BerthError('invalid', '"berth stop" requires at least 1 argument: berth stop [OPTIONS] CONTAINER [CONTAINER...]');
  let failed = false;
  const t = (flags.time ?? flags.timeout) as string | undefined;
  for (const c of args) {
    try {
      await client.json('POST', `/containers/${encodeURIComponent(c)}/stop`, { query: { t, signal: flags.signal as string | undefined } });
      process.stdout.write(`${c}\n`);
    } catch (e) {
      process.stderr.write(`Error response from daemon: ${errorMessage(e)}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}
