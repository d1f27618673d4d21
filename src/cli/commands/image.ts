// `berth image COMMAND`: docker's `image` management commands, each the top-level command of
// the same job (`image ls` is `images`, `image rm` is `rmi`), plus `image inspect` and `image prune`.

import type { ApiClient } from '../../api/client.js';
import { BerthError, errorMessage } from '../../errors.js';
import { parseArgs } from '../args.js';
import { compile } from '../template.js';
import { history } from './history.js';
import { images } from './images.js';
import { importImage } from './import.js';
import { load } from './load.js';
import { imagePrune } from './prune.js';
import { pull } from './pull.js';
import { push } from './push.js';
import { rmi } from './rmi.js';
import { save } from './save.js';
import { tag } from './tag.js';

const USAGE = `Usage:  berth image COMMAND

Manage images

Commands:
  history     Show the history of an image
  import      Import the contents from a tarball to create a filesystem image
  inspect     Display detailed information on one or more images
  load        Load an image from a tar archive or STDIN
  ls          List images
  prune       Remove unused images
  pull        Download an image from a registry
  push        Upload an image to a registry
  rm          Remove one or more images
  save        Save one or more images to a tar archive (streamed to STDOUT by default)
  tag         Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
`;

type Command = (client: ApiClient, argv: string[]) => Promise<number>;

const SUBCOMMANDS: Record<string, Command> = {
  history, import: importImage, inspect, load, ls: images, list: images, prune: imagePrune, pull, push, rm: rmi, remove: rmi, save, tag,
};

async function inspect(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { format: { short: 'f', type: 'string' }, platform: { type: 'string' } });
  if (!args.length) throw new BerthError('invalid', '"berth image inspect" requires at least 1 argument');
  const template = flags.format ? compile(flags.format as string, { missingKeyError: true }) : undefined;
  const out: unknown[] = [];
  let failed = false;
  for (const n of args) {
    try { out.push(await client.json('GET', `/images/${n}/json`)); } catch (e) { process.stderr.write(`Error response from daemon: ${errorMessage(e)}\n`); failed = true; }
  }
  process.stdout.write(template ? out.map((o) => `${template.render(o)}\n`).join('') : JSON.stringify(out, null, 4) + '\n');
  return failed ? 1 : 0;
}

export async function image(client: ApiClient, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  const cmd = SUBCOMMANDS[sub];
  if (!cmd) {
    process.stderr.write(`berth: 'image ${sub}' is not a berth command.\nSee 'berth image --help'\n`);
    return 125;
  }
  return cmd(client, rest);
}
