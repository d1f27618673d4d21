// `berth rename CONTAINER NEW_NAME`: POST /containers/{id}/rename?name=.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';

export async function rename(client: ApiClient, argv: string[]): Promise<number> {
  const { args } = parseArgs(argv, {});
  if (args.length !== 2) throw new BerthError('invalid', '"berth rename" requires exactly 2 arguments: berth rename CONTAINER NEW_NAME');
  await client.json('POST', `/containers/${encodeURIComponent(args[0])}/rename`, { query: { name: args[1] } });
  return 0;
}
