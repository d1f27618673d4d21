// `berth compose top [SERVICE...]`: each running container's processes (GET /containers/{id}/top),
// under its name.

import { table } from '../../cli/output.js';
import type { ComposeCommand } from '../cli.js';
import { nameOf } from '../containers.js';
import { targets } from './targets.js';

export const top: ComposeCommand = {
  spec: { path: 'top', use: '[SERVICES...]', about: 'Display the running processes', flags: {} },
  async run(ctx, { args }) {
    const { containers } = await targets(ctx, args, { running: true });
    for (const c of containers) {
      const t = await ctx.client.json<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${c.Id}/top`);
      ctx.out.write(`${nameOf(c)}\n${table([t.Titles, ...t.Processes], 3)}\n`);
    }
    return 0;
  },
};
