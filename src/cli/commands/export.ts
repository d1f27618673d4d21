// `berth export [-o FILE] CONTAINER`: GET /containers/{id}/export, the tar to FILE or stdout.

import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { ApiClient } from '../../api/client.js';
import { invalid } from '../../errors.js';
import { parseCommand, type CommandSpec } from '../args.js';

const EXPORT: CommandSpec = {
  path: 'export',
  use: '[OPTIONS] CONTAINER',
  about: "Export a container's filesystem as a tar archive",
  aliases: ['berth container export', 'berth export'],
  args: { min: 1, max: 1 },
  flags: { output: { short: 'o', type: 'string', desc: 'Write to a file instead of STDOUT' } },
};

export async function exportContainer(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(EXPORT, argv);
  if (!flags.output && process.stdout.isTTY) throw invalid('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const res = await client.stream('GET', `/containers/${encodeURIComponent(args[0])}/export`);
  await pipeline(res, flags.output ? createWriteStream(flags.output as string) : process.stdout);
  return 0;
}
