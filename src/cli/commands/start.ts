// `berth start [-a] [-i] CONTAINER...`: POST /containers/{id}/start for each; with -a (and -i)
// one container, attached as `run` is, and berth exits with its exit code.

import type { ApiClient } from '../../api/client.js';
import { BerthError, errorMessage } from '../../errors.js';
import { parseArgs } from '../args.js';
import { attachAndWait } from './run-attach.js';

export async function start(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, {
    attach: { short: 'a', type: 'bool' }, interactive: { short: 'i', type: 'bool' }, 'sig-proxy': { type: 'bool' }, 'detach-keys': { type: 'string' },
  });
  if (!args.length) throw new BerthError('invalid', '"berth start" requires at least 1 argument: berth start [OPTIONS] CONTAINER [CONTAINER...]');
  if (flags.attach || flags.interactive) {
    if (args.length > 1) throw new BerthError('invalid', 'you cannot start and attach multiple containers at once');
    const c = await client.json<{ Id: string; Config: { Tty: boolean; OpenStdin: boolean }; HostConfig: { AutoRemove?: boolean } }>('GET', `/containers/${encodeURIComponent(args[0])}/json`);
    return attachAndWait(client, c.Id, {
      tty: c.Config.Tty, stdin: !!flags.interactive && c.Config.OpenStdin, sigProxy: flags['sig-proxy'] !== false, autoRemove: !!c.HostConfig.AutoRemove, start: true,
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
