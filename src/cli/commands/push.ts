// `berth push [-a] [-q] NAME[:TAG]`: POST /images/{name}/push with the registry's credentials
// (berth login) as X-Registry-Auth, showing Docker's progress.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { platformJSON } from '../flag-values.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { registryAuthHeader } from '../credentials.js';
import { showProgress } from '../json-messages.js';

const PUSH: CommandSpec = {
  path: 'push',
  use: '[OPTIONS] NAME[:TAG]',
  about: 'Upload an image to a registry',
  aliases: ['berth image push', 'berth push'],
  args: { min: 1, max: 1 },
  flags: {
    'all-tags': { short: 'a', type: 'bool', desc: 'Push every tag of the image to the repository' },
    'disable-content-trust': { type: 'bool', desc: 'Skip image signing (berth has none to do)', dflt: 'true' },
    platform: { type: 'string', desc: 'Push the image only if it is of this platform (os[/arch[/variant]]); berth keeps one per image' },
    quiet: { short: 'q', type: 'bool', desc: 'Suppress the progress output' },
  },
};

export async function push(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(PUSH, argv);
  if (flags['disable-content-trust'] === false)
    throw new BerthError('unsupported', 'berth does not sign images: --disable-content-trust=false is not supported');
  const image = args[0];
  const tagged = /:[^/]+$/.test(image.split('@')[0]);
  if (flags['all-tags'] && tagged) throw new BerthError('invalid', "tag can't be used with --all-tags/-a");
  const [name, tag] = image.includes('@')
    ? [image, undefined]
    : tagged
      ? [image.slice(0, image.lastIndexOf(':')), image.slice(image.lastIndexOf(':') + 1)]
      : [image, flags['all-tags'] ? undefined : 'latest'];
  const res = await client.stream('POST', `/images/${name}/push`, {
    query: { tag, platform: flags.platform ? platformJSON(flags.platform as string) : undefined },
    headers: await registryAuthHeader(image),
  });
  await showProgress(res, process.stdout, !!flags.quiet);
  if (flags.quiet) process.stdout.write(`${image}\n`);
  return 0;
}
