// `berth diff CONTAINER`: GET /containers/{id}/changes, one `C|A|D path` line each, as docker.

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';

const DIFF: CommandSpec = {
  path: 'diff',
  use: 'CONTAINER',
  about: "Inspect changes to files or directories on a container's filesystem",
  aliases: ['berth container diff', 'berth diff'],
  args: { min: 1, max: 1 },
  flags: {},
};

export async function diff(client: ApiClient, argv: string[]): Promise<number> {
  const { args } = parseCommand(DIFF, argv);
  const changes = await client.json<{ Path: string; Kind: number }[] | null>('GET', `/containers/${encodeURIComponent(args[0])}/changes`);
  process.stdout.write((changes ?? []).map((c) => `${'CAD'[c.Kind]} ${c.Path}\n`).join(''));
  return 0;
}
