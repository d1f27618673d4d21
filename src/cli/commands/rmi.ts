// `berth rmi [-f] [--no-prune] IMAGE...`: DELETE /images/{name}, printing Docker's
// Untagged/Deleted lines; a failure for one image is reported and the others still go.

import type { ApiClient } from '../../api/client.js';
import { BerthError, errorMessage } from '../../errors.js';
import { parseCommand, type CommandSpec } from '../args.js';

const RMI: CommandSpec = {
  path: 'rmi',
  use: '[OPTIONS] IMAGE [IMAGE...]',
  about: 'Remove one or more images',
  aliases: ['berth image rm', 'berth image remove', 'berth rmi'],
  args: { min: 1 },
  flags: {
    force: { short: 'f', type: 'bool', desc: 'Force the removal of the image' },
    'no-prune': { type: 'bool', desc: 'Do not delete untagged parents' },
    platform: { type: 'list', arg: 'strings', desc: 'Remove only this platform variant (not supported by berth)' },
  },
};

export async function rmi(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(RMI, argv);
  if (flags.platform) throw new BerthError('unsupported', 'berth rmi --platform is not supported: berth keeps one platform of an image');
  let failed = false;
  for (const name of args) {
    try {
      const items = await client.json<{ Untagged?: string; Deleted?: string }[]>('DELETE', `/images/${name}`, {
        query: { force: flags.force ? true : undefined, noprune: flags['no-prune'] ? true : undefined },
      });
      for (const i of items) process.stdout.write(i.Untagged ? `Untagged: ${i.Untagged}\n` : `Deleted: ${i.Deleted}\n`);
    } catch (e) {
      process.stderr.write(`Error response from daemon: ${errorMessage(e)}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}
