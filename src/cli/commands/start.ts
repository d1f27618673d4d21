// `berth start [-a] [-i] CONTAINER...`: POST /containers/{id}/start for each; with -a (and -i)
// one container, attached as `run` is, and berth exits with its exit code.

import type { ApiClient } from '../../api/client.js';
import { BerthError, errorMessage } from '../../errors.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { attachAndWait } from './run-attach.js';

const START: CommandSpec = {
  path: 'start',
  use: '[OPTIONS] CONTAINER [CONTAINER...]',
  about: 'Start one or more stopped containers',
  aliases: ['berth container start', 'berth start'],
  args: { min: 1 },
  flags: {
    attach: { short: 'a', type: 'bool', desc: 'Attach STDOUT/STDERR and forward signals' },
    checkpoint: { type: 'string', desc: 'Restore from this checkpoint (not supported by berth)' },
    'checkpoint-dir': { type: 'string', desc: 'A checkpoint folder of your own (not supported by berth)' },
    'detach-keys': { type: 'string', desc: 'Override the key sequence for detaching from the container' },
    interactive: { short: 'i', type: 'bool', desc: "Attach the container's STDIN" },
    'sig-proxy': { type: 'bool', desc: 'Proxy the signals berth receives to the process (with --attach)', dflt: 'true' },
  },
};

export async function start(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(START, argv);
  if (flags.checkpoint !== undefined || flags['checkpoint-dir'] !== undefined)
    throw new BerthError('unsupported', 'berth start --checkpoint is not supported: berth does not restore checkpoints through the API');
  if (flags.attach || flags.interactive) {
    if (args.length > 1) throw new BerthError('invalid', 'you cannot start and attach multiple containers at once');
    const c = await client.json<{ Id: string; Config: { Tty: boolean; OpenStdin: boolean }; HostConfig: { AutoRemove?: boolean } }>(
      'GET',
      `/containers/${encodeURIComponent(args[0])}/json`,
    );
    return attachAndWait(client, c.Id, {
      tty: c.Config.Tty,
      stdin: !!flags.interactive && c.Config.OpenStdin,
      sigProxy: flags['sig-proxy'] !== false,
      autoRemove: !!c.HostConfig.AutoRemove,
      start: true,
      detachKeys: flags['detach-keys'] as string | undefined,
    });
  }
  const failed: string[] = [];
  for (const n of args) {
    try {
      await client.json('POST', `/containers/${encodeURIComponent(n)}/start`);
      process.stdout.write(`${n}\n`);
    } catch (e) {
      process.stderr.write(`Error response from daemon: ${errorMessage(e)}\n`);
      failed.push(n);
    }
  }
  if (failed.length) process.stderr.write(`Error: failed to start containers: ${failed.join(', ')}\n`);
  return failed.length ? 1 : 0;
}
