// `berth compose logs [SERVICE...]`: the services' containers' output, each line after its
// container's name, -f following it until they stop.

import type { ComposeCommand } from '../cli.js';
import { nameOf } from '../containers.js';
import { streamLogs } from '../logs.js';
import { targets } from './targets.js';

export const logs: ComposeCommand = {
  spec: {
    path: 'logs',
    use: '[OPTIONS] [SERVICE...]',
    about: 'View output from containers',
    flags: {
      follow: { short: 'f', type: 'bool', desc: 'Follow log output' },
      tail: { short: 'n', type: 'string', desc: 'Number of lines to show from the end of the logs for each container', dflt: '"all"' },
      timestamps: { short: 't', type: 'bool', desc: 'Show timestamps' },
      since: { type: 'string', desc: 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)' },
      until: { type: 'string', desc: 'Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)' },
      'no-log-prefix': { type: 'bool', desc: "Don't print prefix in logs" },
      'no-color': { type: 'bool', desc: 'Produce monochrome output (berth compose prints no colour)' },
      index: { type: 'string', arg: 'int', desc: 'index of the container if service has multiple replicas' },
    },
  },
  async run(ctx, { flags, args }) {
    let { containers } = await targets(ctx, args, { oneoff: 'any' });
    if (flags.index) containers = containers.filter((c) => c.Labels['com.docker.compose.container-number'] === flags.index);
    const withTty = await Promise.all(
      containers.map(async (c) => ({
        id: c.Id,
        name: nameOf(c),
        tty: !!(await ctx.client.json('GET', `/containers/${c.Id}/json`)).Config.Tty,
      })),
    );
    await streamLogs(
      ctx.client,
      withTty,
      {
        follow: !!flags.follow,
        tail: flags.tail as string | undefined,
        timestamps: !!flags.timestamps,
        since: flags.since as string | undefined,
        until: flags.until as string | undefined,
        noPrefix: !!flags['no-log-prefix'],
      },
      ctx.out,
    );
    return 0;
  },
};
