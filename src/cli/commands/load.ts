// `berth load [-i FILE] [-q]`: POST /images/load with the tar from a file or stdin.

import { createReadStream } from 'node:fs';
import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { showProgress } from '../json-messages.js';

export async function load(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { input: { short: 'i', type: 'string' }, quiet: { short: 'q', type: 'bool' }, platform: { type: 'list' } });
  if (args.length) throw new BerthError('invalid', '"berth load" accepts no arguments: give the file with -i or on stdin');
  const file = flags.input as string | undefined;
  if (!file && process.stdin.isTTY) throw new BerthError('invalid', 'requested load from stdin, but stdin is empty');
  const body = file ? createReadStream(file) : process.stdin;
  const res = await client.stream('POST', '/images/load', { query: { quiet: flags.quiet ? true : undefined }, body, headers: { 'Content-Type': 'application/x-tar' } });
  await showProgress(res, process.stdout);
  return 0;
}
