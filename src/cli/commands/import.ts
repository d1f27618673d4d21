// `berth import [-c CHANGE]... [-m MESSAGE] [--platform P] FILE|- [REPOSITORY[:TAG]]`:
// POST /images/create?fromSrc=- with the root file system tar as the body.

import { createReadStream } from 'node:fs';
import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { showProgress } from '../json-messages.js';

const IMPORT: CommandSpec = {
  path: 'import',
  use: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  about: 'Import the contents from a tarball to create a filesystem image',
  aliases: ['berth image import', 'berth import'],
  args: { min: 1, max: 2 },
  flags: {
    change: { short: 'c', type: 'list', desc: 'Apply a Dockerfile instruction to the new image' },
    message: { short: 'm', type: 'string', desc: 'Commit message of the imported image' },
    platform: { type: 'string', desc: 'Set the platform of the image' },
  },
};

export async function importImage(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(IMPORT, argv);
  const [src, repo] = args;
  if (/^[a-z]+:\/\//i.test(src))
    throw new BerthError('unsupported', `berth import does not fetch URLs: download ${src} and import the file`);
  const body = src === '-' ? process.stdin : createReadStream(src);
  const res = await client.stream('POST', '/images/create', {
    query: { fromSrc: '-', repo, message: flags.message, platform: flags.platform, changes: flags.change },
    body,
    headers: { 'Content-Type': 'application/x-tar' },
  });
  await showProgress(res, process.stdout);
  return 0;
}
