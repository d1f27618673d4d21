// `berth attach [--no-stdin] [--sig-proxy=false] CONTAINER`: the running container's output
// (and our stdin, when it was created with -i) until it exits; berth exits with its code.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { attachAndWait } from './run-attach.js';

const ATTACH: CommandSpec = {
  path: 'attach',
  use: '[OPTIONS] CONTAINER',
  about: 'Attach local standard input, output, and error streams to a running container',
  aliases: ['berth container attach', 'berth attach'],
  args: { min: 1, max: 1 },
  flags: {
    'detach-keys': { type: 'string', desc: 'Override the key sequence for detaching from the container' },
    'no-stdin': { type: 'bool', desc: 'Do not attach STDIN' },
    'sig-proxy': { type: 'bool', desc: 'Proxy the signals berth receives to the process', dflt: 'true' },
  },
};

export async function attach(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(ATTACH, argv);
  const c = await client.json<{
    Id: string;
    State: { Running: boolean; Paused: boolean; Restarting: boolean };
    Config: { Tty: boolean; OpenStdin: boolean };
    HostConfig: { AutoRemove?: boolean };
  }>('GET', `/containers/${encodeURIComponent(args[0])}/json`);
  if (!c.State.Running) throw new BerthError('invalid', 'You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new BerthError('invalid', 'You cannot attach to a paused container, unpause it first');
  if (c.State.Restarting) throw new BerthError('invalid', 'You cannot attach to a restarting container, wait until it is running');
  return attachAndWait(client, c.Id, {
    tty: c.Config.Tty,
    stdin: c.Config.OpenStdin && !flags['no-stdin'],
    sigProxy: flags['sig-proxy'] !== false,
    autoRemove: !!c.HostConfig.AutoRemove,
    start: false,
    detachKeys: flags['detach-keys'] as string | undefined,
  });
}
