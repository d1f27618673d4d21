// `berth image COMMAND`: docker's `image` management commands, each the top-level command of
// the same job (`image ls` is `images`, `image rm` is `rmi`), plus `image inspect` and `image prune`.

import type { ApiClient } from '../../api/client.js';
import { BerthError, errorMessage } from '../../errors.js';
import { parseArgs } from '../args.js';
import { compile } from '../template.js';
import { humanSize } from '../output.js';
import { history } from './history.js';
import { images } from './images.js';
import { importImage } from './import.js';
import { load } from './load.js';
import { pull } from './pull.js';
import { push } from './push.js';
import { rmi } from './rmi.js';
import { save } from './save.js';
import { tag } from './tag.js';
import { filters } from './volume.js';

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
  history, import: importImage, inspect, load, ls: images, list: images, prune, pull, push, rm: rmi, remove: rmi, save, tag,
};

/** Asks `question` on the terminal; true for y/yes. Without a terminal the answer is no. */
export async function confirm(question: string): Promise<boolean> {
  process.stdout.write(`${question} [y/N] `);
  if (!process.stdin.isTTY) { process.stdout.write('\n'); return false; }
  const line = await new Promise<string>((resolve) => {
    process.stdin.setEncoding('utf8');
    process.stdin.once('data', (d) => { process.stdin.pause(); resolve(String(d)); });
  });
  return /^y(es)?$/i.test(line.trim());
}

/** Prints `image prune`'s answer as docker does. */
export function printImagesDeleted(items: { Untagged?: string; Deleted?: string }[] | null): void {
  if (!items?.length) return;
  process.stdout.write(`Deleted Images:\n${items.map((i) => (i.Untagged ? `untagged: ${i.Untagged}\n` : `deleted: ${i.Deleted}\n`)).join('')}\n`);
}

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

async function prune(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv, { all: { short: 'a', type: 'bool' }, force: { short: 'f', type: 'bool' }, filter: { type: 'list' } });
  const warning = flags.all ? 'WARNING! This will remove all images without at least one container associated to them.'
    : 'WARNING! This will remove all dangling images.';
  if (!flags.force && !(await confirm(`${warning}\nAre you sure you want to continue?`))) return 0;
  const f = [...((flags.filter as string[] | undefined) ?? []), ...(flags.all ? ['dangling=false'] : [])];
  const r = await client.json<{ ImagesDeleted: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed: number }>('POST', '/images/prune', { query: { filters: filters(f) } });
  printImagesDeleted(r.ImagesDeleted);
  process.stdout.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
  return 0;
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
