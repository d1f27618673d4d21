// `berth save [-o FILE] IMAGE...`: GET /images/get, the tar to a file or to stdout (never to a terminal).

import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';

export async function save(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { output: { short: 'o', type: 'string' }, platform: { type: 'list' } });
  if (!args.length) throw new BerthError('invalid', '"berth save" requires at least 1 argument: berth save [OPTIONS] IMAGE [IMAGE...]');
  const file = flags.output as string | undefined;
  if (!file && process.stdout.isTTY) throw new BerthError('invalid', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const res = await client.stream('GET', '/images/get', { query: { names: args } });
  if (!file) {
    await pipeline(res, process.stdout);
    return 0;
  }
  try {
    await pipeline(res, createWriteStream(file));
  } catch (e) {
    await rm(file, { force: true });
    throw e;
  }
  return 0;
}
