// `berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]`: POST /images/{name}/tag.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';

export async function tag(client: ApiClient, argv: string[]): Promise<number> {
  const { args } = parseArgs(argv, {});
  if (args.length !== 2) throw new BerthError('invalid', '"berth tag" requires exactly 2 arguments: berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]');
  const target = args[1];
  const colon = target.lastIndexOf(':');
  const [repo, t] = colon > target.lastIndexOf('/') ? [target.slice(0, colon), target.slice(colon + 1)] : [target, 'latest'];
  await client.json('POST', `/images/${args[0]}/tag`, { query: { repo, tag: t } });
  return 0;
}
