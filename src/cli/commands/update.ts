// `berth update [--memory --memory-swap --memory-reservation --kernel-memory --cpus --cpu-shares
// --cpu-quota --cpu-period --cpu-rt-period --cpu-rt-runtime --cpuset-cpus --cpuset-mems
// --blkio-weight --pids-limit --restart] CONTAINER...`: POST /containers/{id}/update.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { int, nanoCpus, ramBytes } from '../flag-values.js';
import { eachContainer } from './each-container.js';
import { RESOURCE_FLAGS } from './run-flags.js';
import { resourceFields } from './run-lifecycle.js';

const UPDATE: CommandSpec = {
  path: 'update',
  use: '[OPTIONS] CONTAINER [CONTAINER...]',
  about: 'Update configuration of one or more containers',
  aliases: ['berth container update', 'berth update'],
  flags: RESOURCE_FLAGS,
  args: { min: 1 },
};

export async function update(client: ApiClient, argv: string[]): Promise<number> {
  const { flags: f, args } = parseCommand(UPDATE, argv);
  const body = {
    Memory: f.memory === undefined ? undefined : ramBytes(f.memory as string),
    KernelMemory: f['kernel-memory'] === undefined ? undefined : ramBytes(f['kernel-memory'] as string),
    NanoCpus: f.cpus === undefined ? undefined : nanoCpus(f.cpus as string),
    PidsLimit: f['pids-limit'] === undefined ? undefined : int(f['pids-limit'] as string),
    ...resourceFields(f),
  };
  if (Object.values(body).every((v) => v === undefined))
    throw new BerthError('invalid', 'you must provide one or more flags when using this command');
  const warnings: string[] = [];
  const rc = await eachContainer(args, async (c) => {
    const r = await client.json<{ Warnings?: string[] | null }>('POST', `/containers/${encodeURIComponent(c)}/update`, { body });
    warnings.push(...(r.Warnings ?? []));
  });
  // As docker's update: the daemon's warnings after the names, on stdout.
  if (warnings.length) process.stdout.write(`${warnings.join('\n')}\n`);
  return rc;
}
