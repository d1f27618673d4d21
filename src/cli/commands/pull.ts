// `berth pull [-q] [--platform P] IMAGE`: POST /images/create with the registry's credentials
// (berth login) as X-Registry-Auth, showing Docker's progress.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { formatReference, parseReference } from '../../common/reference.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { registryAuthHeader } from '../credentials.js';
import { showProgress } from '../json-messages.js';

/** Pulls `image`, writing progress to `out`; throws the stream's error. */
const PULL: CommandSpec = {
  path: 'pull',
  use: '[OPTIONS] NAME[:TAG|@DIGEST]',
  about: 'Download an image from a registry',
  aliases: ['berth image pull', 'berth pull'],
  args: { min: 1, max: 1 },
  flags: {
    'all-tags': { short: 'a', type: 'bool', desc: 'Download every tag of the repository (not supported by berth)' },
    'disable-content-trust': { type: 'bool', desc: 'Skip image verification (berth has none to do)', dflt: 'true' },
    platform: { type: 'string', desc: 'Set the platform when the server is multi-platform capable' },
    quiet: { short: 'q', type: 'bool', desc: 'Suppress the progress output' },
  },
};

export async function pullImage(
  client: ApiClient,
  image: string,
  out: NodeJS.WritableStream,
  opts: { quiet?: boolean; platform?: string } = {},
): Promise<void> {
  const at = image.lastIndexOf('@');
  const colon = image.lastIndexOf(':');
  const [fromImage, tag] =
    at > 0
      ? [image.slice(0, at), image.slice(at + 1)]
      : colon > image.lastIndexOf('/')
        ? [image.slice(0, colon), image.slice(colon + 1)]
        : [image, 'latest'];
  const res = await client.stream('POST', '/images/create', {
    query: { fromImage, tag, platform: opts.platform },
    headers: await registryAuthHeader(image),
  });
  await showProgress(res, out, opts.quiet);
}

export async function pull(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(PULL, argv);
  if (flags['disable-content-trust'] === false)
    throw new BerthError('unsupported', 'berth does not verify image signatures: --disable-content-trust=false is not supported');
  if (flags['all-tags']) throw new BerthError('unsupported', 'berth pull --all-tags is not supported: pull each tag by name');
  await pullImage(client, args[0], process.stdout, { quiet: !!flags.quiet, platform: flags.platform as string | undefined });
  // As docker: the canonical name last (`docker.io/library/busybox:latest`).
  process.stdout.write(`${formatReference(parseReference(args[0]))}\n`);
  return 0;
}
