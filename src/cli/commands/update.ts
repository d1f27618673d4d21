// `berth update [--memory --memory-swap --cpus --cpu-shares --cpu-quota --cpu-period
// --cpuset-cpus --cpuset-mems --pids-limit --restart] CONTAINER...`: POST /containers/{id}/update.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { bytes } from '../units.js';
import { eachContainer } from './each-container.js';
import { RESOURCE_FLAGS, resourceFields } from './run-lifecycle.js';

export async function update(client: ApiClient, argv: string[]): Promise<number> {
  const { flags: f, args } = parseArgs(argv, {
    memory: { short: 'm', type: 'string' }, cpus: { type: 'string' }, 'pids-limit': { type: 'string' }, ...RESOURCE_FLAGS,
  });
  if (!args.length) throw new BerthError('invalid', '"berth update" requires at least 1 argument: berth update [OPTIONS] CONTAINER [CONTAINER...]');
  const body = {
    Memory: f.memory === undefined ? undefined : bytes(f.memory as string),
    NanoCpus: f.cpus === undefined ? undefined : Math.round(Number(f.cpus) * 1e9),
    PidsLimit: f['pids-limit'] === undefined ? undefined : Number(f['pids-limit']),
    ...resourceFields(f),
  };
  if (Object.values(body).every((v) => v === undefined)) throw new BerthError('invalid', 'you must provide one or more flags when using this command');
  return eachContainer(args, (c) => client.json('POST', `/containers/${encodeURIComponent(c)}/update`, { body }));
}
