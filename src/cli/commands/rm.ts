// `berth rm [-f] [-v] CONTAINER...`: DELETE /containers/{id} for each; names each one removed.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { eachContainer } from './each-container.js';

export async function rm(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { force: { short: 'f', type: 'bool' }, volumes: { short: 'v', type: 'bool' } });
  if (!args.length) throw new BerthError('invalid', '"berth rm" requires at least 1 argument: berth rm [OPTIONS] CONTAINER [CONTAINER...]');
  return eachContainer(args, (c) => client.json('DELETE', `/containers/${encodeURIComponent(c)}`, { query: { force: flags.force ? true : undefined, v: flags.volumes ? true : undefined } }));
}
