// `berth attach [--no-stdin] [--sig-proxy=false] CONTAINER`: the running container's output
// (and our stdin, when it was created with -i) until it exits; berth exits with its code.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { attachAndWait } from './run-attach.js';

export async function attach(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { 'no-stdin': { type: 'bool' }, 'sig-proxy': { type: 'bool' }, 'detach-keys': { type: 'string' } });
  if (args.length !== 1) throw new BerthError('invalid', '"berth attach" requires exactly 1 argument: berth attach [OPTIONS] CONTAINER');
  const c = await client.json<{ Id: string; State: { Running: boolean; Paused: boolean; Restarting: boolean }; Config: { Tty: boolean; OpenStdin: boolean }; HostConfig: { AutoRemove?: boolean } }>(
    'GET', `/containers/${encodeURIComponent(args[0])}/json`);
  if (!c.State.Running) throw new BerthError('invalid', 'You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new BerthError('invalid', 'You cannot attach to a paused container, unpause it first');
  if (c.State.Restarting) throw new BerthError('invalid', 'You cannot attach to a restarting container, wait until it is running');
  return attachAndWait(client, c.Id, {
    tty: c.Config.Tty, stdin: c.Config.OpenStdin && !flags['no-stdin'], sigProxy: flags['sig-proxy'] !== false, autoRemove: !!c.HostConfig.AutoRemove, start: false,
    detachKeys: flags['detach-keys'] as string | undefined,
  });
}
