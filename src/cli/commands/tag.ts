// `berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]`: POST /images/{name}/tag.

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';

const TAG: CommandSpec = {
  path: 'tag',
  use: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  about: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  aliases: ['berth image tag', 'berth tag'],
  args: { min: 2, max: 2 },
  flags: {},
};

export async function tag(client: ApiClient, argv: string[]): Promise<number> {
  const { args } = parseCommand(TAG, argv);
  const target = args[1];
  const colon = target.lastIndexOf(':');
  const [repo, t] = colon > target.lastIndexOf('/') ? [target.slice(0, colon), target.slice(colon + 1)] : [target, 'latest'];
  await client.json('POST', `/images/${args[0]}/tag`, { query: { repo, tag: t } });
  return 0;
}
