// `berth import [-c CHANGE]... [-m MESSAGE] [--platform P] FILE|- [REPOSITORY[:TAG]]`:
// POST /images/create?fromSrc=- with the root file system tar as the body.

import { createReadStream } from 'node:fs';
import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { showProgress } from '../json-messages.js';

export async function importImage(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { change: { short: 'c', type: 'list' }, message: { short: 'm', type: 'string' }, platform: { type: 'string' } });
  if (args.length < 1 || args.length > 2) throw new BerthError('invalid', '"berth import" requires 1 or 2 arguments: berth import [OPTIONS] file|- [REPOSITORY[:TAG]]');
  const [src, repo] = args;
  if (/^[a-z]+:\/\//i.test(src)) throw new BerthError('unsupported', `berth import does not fetch URLs: download ${src} and import the file`);
  const body = src === '-' ? process.stdin : createReadStream(src);
  const res = await client.stream('POST', '/images/create', {
    query: { fromSrc: '-', repo, message: flags.message, platform: flags.platform, changes: flags.change },
    body, headers: { 'Content-Type': 'application/x-tar' },
  });
  await showProgress(res, process.stdout);
  return 0;
}
