// `berth image COMMAND`: docker's `image` management commands, each the top-level command of
// the same job (`image ls` is `images`, `image rm` is `rmi`), plus `image inspect` and `image prune`.

import type { ApiClient } from '../../api/client.js';
import { platformJSON } from '../flag-values.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { build } from './build.js';
import { history } from './history.js';
import { images } from './images.js';
import { importImage } from './import.js';
import { FORMAT_FLAG, inspectEach } from './inspect.js';
import { load } from './load.js';
import { imagePrune } from './prune.js';
import { pull } from './pull.js';
import { push } from './push.js';
import { rmi } from './rmi.js';
import { save } from './save.js';
import { tag } from './tag.js';
import { unknownSubcommand } from './volume.js';

const USAGE = `Usage:  berth image COMMAND

Manage images

Commands:
  build       Build an image from a Dockerfile
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

Run 'berth image COMMAND --help' for more information on a command.
`;

type Command = (client: ApiClient, argv: string[]) => Promise<number>;

const SUBCOMMANDS: Record<string, Command> = {
  build,
  history,
  import: importImage,
  inspect,
  load,
  ls: images,
  list: images,
  prune: imagePrune,
  pull,
  push,
  rm: rmi,
  remove: rmi,
  save,
  tag,
};

const INSPECT: CommandSpec = {
  path: 'image inspect',
  use: '[OPTIONS] IMAGE [IMAGE...]',
  about: 'Display detailed information on one or more images',
  args: { min: 1 },
  flags: { format: FORMAT_FLAG, platform: { type: 'string', desc: 'Inspect the variant of this platform (os[/arch[/variant]])' } },
};

async function inspect(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(INSPECT, argv);
  const platform = flags.platform ? platformJSON(flags.platform as string) : undefined;
  return inspectEach(
    args,
    flags.format as string | undefined,
    (n) => client.json('GET', `/images/${n.split('/').map(encodeURIComponent).join('/')}/json`, { query: { platform } }),
    (n) => `Error: No such image: ${n}`,
  );
}

export async function image(client: ApiClient, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  const cmd = SUBCOMMANDS[sub];
  if (!cmd) {
    return unknownSubcommand('image', sub);
  }
  return cmd(client, rest);
}
