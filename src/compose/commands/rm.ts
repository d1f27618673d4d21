// `berth compose rm [SERVICE...]`: the project's stopped containers removed, after a
// confirmation unless -f; -s stops them first, -v removes their anonymous volumes.

import { confirm } from '../../cli/prompt.js';
import type { ComposeCommand } from '../cli.js';
import { nameOf, removeContainer, stopContainer } from '../containers.js';
import { targets } from './targets.js';

export const rm: ComposeCommand = {
  spec: {
    path: 'rm',
    use: '[OPTIONS] [SERVICE...]',
    about: 'Removes stopped service containers',
    flags: {
      force: { short: 'f', type: 'bool', desc: "Don't ask to confirm removal" },
      stop: { short: 's', type: 'bool', desc: 'Stop the containers, if required, before removing' },
      volumes: { short: 'v', type: 'bool', desc: 'Remove any anonymous volumes attached to containers' },
    },
  },
  async run(ctx, { flags, args }) {
    const log = (m: string) => ctx.err.write(` ${m}\n`);
    const { containers } = await targets(ctx, args, { oneoff: 'any' });
    if (flags.stop)
      await Promise.all(containers.filter((c) => c.State === 'running').map((c) => stopContainer(ctx.client, c.Id, nameOf(c), log)));
    const stopped = flags.stop ? containers : containers.filter((c) => c.State !== 'running');
    if (!stopped.length) {
      ctx.err.write('No stopped containers\n');
      return 0;
    }
    if (!flags.force && !(await confirm(`Going to remove ${stopped.map(nameOf).join(', ')}\n?`, process.stdin, ctx.err))) return 0;
    await Promise.all(stopped.map((c) => removeContainer(ctx.client, c.Id, nameOf(c), log, !!flags.volumes)));
    return 0;
  },
};
