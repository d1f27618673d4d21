// `berth push [-a] [-q] NAME[:TAG]`: POST /images/{name}/push with the registry's credentials
// (berth login) as X-Registry-Auth, showing Docker's progress.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { registryAuthHeader } from '../credentials.js';
import { showProgress } from '../json-messages.js';

export async function push(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { 'all-tags': { short: 'a', type: 'bool' }, quiet: { short: 'q', type: 'bool' }, platform: { type: 'string' } });
  if (args.length !== 1) throw new BerthError('invalid', '"berth push" requires exactly 1 argument: berth push NAME[:TAG]');
  const image = args[0];
  const tagged = /:[^/]+$/.test(image.split('@')[0]);
  if (flags['all-tags'] && tagged) throw new BerthError('invalid', 'tag can\'t be used with --all-tags/-a');
  const [name, tag] = image.includes('@') ? [image, undefined]
    : tagged ? [image.slice(0, image.lastIndexOf(':')), image.slice(image.lastIndexOf(':') + 1)]
    : [image, flags['all-tags'] ? undefined : 'latest'];
  const res = await client.stream('POST', `/images/${name}/push`, { query: { tag }, headers: await registryAuthHeader(image) });
  await showProgress(res, process.stdout, !!flags.quiet);
  if (flags.quiet) process.stdout.write(`${image}\n`);
  return 0;
}
