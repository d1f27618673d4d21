// `berth load [-i FILE] [-q]`: POST /images/load with the tar from a file or stdin.

import { createReadStream } from 'node:fs';
import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { showProgress } from '../json-messages.js';

const LOAD: CommandSpec = {
  path: 'load',
  use: '[OPTIONS]',
  about: 'Load an image from a tar archive or STDIN',
  aliases: ['berth image load', 'berth load'],
  args: { max: 0 },
  flags: {
    input: { short: 'i', type: 'string', desc: 'Read from a tar archive file instead of STDIN' },
    platform: { type: 'list', arg: 'string', desc: 'Load only this platform variant (not supported by berth)' },
    quiet: { short: 'q', type: 'bool', desc: 'Suppress the load output' },
  },
};

export async function load(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseCommand(LOAD, argv);
  if (flags.platform !== undefined)
    throw new BerthError('unsupported', 'berth load --platform is not supported: berth keeps one platform of an image');
  const file = flags.input as string | undefined;
  if (!file && process.stdin.isTTY) throw new BerthError('invalid', 'requested load from stdin, but stdin is empty');
  const body = file ? createReadStream(file) : process.stdin;
  const res = await client.stream('POST', '/images/load', {
    query: { quiet: flags.quiet ? true : undefined },
    body,
    headers: { 'Content-Type': 'application/x-tar' },
  });
  await showProgress(res, process.stdout);
  return 0;
}
