// `berth compose exec SERVICE COMMAND...`: `berth exec` in the service's container (--index
// picks a replica), with stdin and a terminal unless -T or -d, as Compose does.

import { exec as cliExec } from '../../cli/commands/exec.js';
import type { ComposeCommand } from '../cli.js';
import { numberOf } from '../containers.js';
import { targets } from './targets.js';

export const exec: ComposeCommand = {
  spec: {
    path: 'exec',
    use: '[OPTIONS] SERVICE COMMAND [ARGS...]',
    about: 'Execute a command in a running container',
    args: { min: 2 },
    stopAtOperand: true,
    flags: {
      detach: { short: 'd', type: 'bool', desc: 'Detached mode: Run command in the background' },
      env: { short: 'e', type: 'list', arg: 'stringArray', desc: 'Set environment variables' },
      index: { type: 'string', arg: 'int', desc: 'Index of the container if service has multiple replicas', dflt: '1' },
      'no-TTY': { short: 'T', type: 'bool', desc: 'Disable pseudo-TTY allocation. By default `compose exec` allocates a TTY' },
      privileged: { type: 'bool', desc: 'Give extended privileges to the process' },
      user: { short: 'u', type: 'string', desc: 'Run the command as this user' },
      workdir: { short: 'w', type: 'string', desc: 'Path to workdir directory for this command' },
    },
  },
  async run(ctx, { flags, args }) {
    const [service, ...cmd] = args;
    const index = Number(flags.index ?? 1);
    const { containers } = await targets(ctx, [service], { running: true });
    const c = containers.find((x) => numberOf(x) === index);
    if (!c) throw new Error(`service "${service}" is not running${index > 1 ? ` container #${index}` : ''}`);
    const tty = !flags['no-TTY'] && !flags.detach && !!process.stdin.isTTY;
    const argv = [
      ...(flags.detach ? ['-d'] : ['-i']),
      ...(tty ? ['-t'] : []),
      ...((flags.env as string[] | undefined) ?? []).flatMap((e) => ['-e', e]),
      ...(flags.user ? ['-u', flags.user as string] : []),
      ...(flags.workdir ? ['-w', flags.workdir as string] : []),
      ...(flags.privileged ? ['--privileged'] : []),
      c.Id,
      ...cmd,
    ];
    return cliExec(ctx.client, argv);
  },
};
