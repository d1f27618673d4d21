// `berth export [-o FILE] CONTAINER`: GET /containers/{id}/export, the tar to FILE or stdout.

import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { ApiClient } from '../../api/client.js';
import { invalid } from '../../errors.js';
import { parseArgs } from '../args.js';

export async function exportContainer(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { output: { short: 'o', type: 'string' } });
  if (args.length !== 1) throw invalid('"berth export" requires exactly 1 argument: berth export [OPTIONS] CONTAINER');
  if (!flags.output && process.stdout.isTTY) throw invalid('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const res = await client.stream('GET', `/containers/${encodeURIComponent(args[0])}/export`);
  await pipeline(res, flags.output ? createWriteStream(flags.output as string) : process.stdout);
  return 0;
}
