// `berth rmi [-f] [--no-prune] IMAGE...`: DELETE /images/{name}, printing Docker's
// Untagged/Deleted lines; a failure for one image is reported and the others still go.

import type { ApiClient } from '../../api/client.js';
import { BerthError, errorMessage } from '../../errors.js';
import { parseArgs } from '../args.js';

export async function rmi(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { force: { short: 'f', type: 'bool' }, 'no-prune': { type: 'bool' } });
  if (!args.length) throw new BerthError('invalid', '"berth rmi" requires at least 1 argument: berth rmi [OPTIONS] IMAGE [IMAGE...]');
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
