// `berth save [-o FILE] IMAGE...`: GET /images/get, the tar to a file or to stdout (never to a terminal).

import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { platformJSON } from '../flag-values.js';
import { parseCommand, type CommandSpec } from '../args.js';

const SAVE: CommandSpec = {
  path: 'save',
  use: '[OPTIONS] IMAGE [IMAGE...]',
  about: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  aliases: ['berth image save', 'berth save'],
  args: { min: 1 },
  flags: {
    output: { short: 'o', type: 'string', desc: 'Write to a file instead of STDOUT' },
    platform: { type: 'list', arg: 'string', desc: 'Save the images for this platform (os[/arch[/variant]]); berth keeps one per image' },
  },
};

export async function save(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(SAVE, argv);
  const platform = ((flags.platform as string[] | undefined) ?? []).flatMap((p: string) => p.split(',')).map(platformJSON);
  const file = flags.output as string | undefined;
  if (!file && process.stdout.isTTY)
    throw new BerthError('invalid', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const res = await client.stream('GET', '/images/get', { query: { names: args, platform } });
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
