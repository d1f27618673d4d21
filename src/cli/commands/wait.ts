// `berth wait CONTAINER...`: blocks until each container stops, printing its exit code.

import type { ApiClient } from '../../api/client.js';
import { BerthError, errorMessage } from '../../errors.js';
import { parseArgs } from '../args.js';

export async function wait(client: ApiClient, argv: string[]): Promise<number> {
  const { args } = parseArgs(argv, {});
  if (!args.length) throw new BerthError('invalid', '"berth wait" requires at least 1 argument: berth wait CONTAINER [CONTAINER...]');
  let failed = false;
  for (const n of args) {
    try {
      const r = await client.json<{ StatusCode: number }>('POST', `/containers/${encodeURIComponent(n)}/wait`);
      process.stdout.write(`${r.StatusCode}\n`);
    } catch (e) {
      process.stderr.write(`Error response from daemon: ${errorMessage(e)}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}
