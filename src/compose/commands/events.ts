// `berth compose events [SERVICE...]`: the project's container events from berthd as they
// happen, one line each as Compose v2 prints them (with the attributes but Compose's labels), or
// --json one object each.

import type { ComposeCommand } from '../cli.js';
import { ProjectEvents } from '../events.js';
import { L } from '../labels.js';

export const events: ComposeCommand = {
  spec: {
    path: 'events',
    use: '[OPTIONS] [SERVICE...]',
    about: 'Receive real time events from containers',
    flags: { json: { type: 'bool', desc: 'Output events as a stream of json objects' } },
  },
  async run(ctx, { flags, args }) {
    const project = await ctx.projectName();
    const stream = await ProjectEvents.open(ctx.client, project, { type: ['container'] });
    stream.each((e) => {
      const service = e.Actor.Attributes?.[L.service] ?? '';
      // As Compose v2: every attribute but Compose's own labels (in key order here; Go's map order is random).
      const attributes = Object.fromEntries(
        Object.entries(e.Actor.Attributes ?? {})
          .filter(([k]) => !k.startsWith('com.docker.compose.'))
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
      if (args.length && !args.includes(service)) return;
      const nano = BigInt(e.timeNano ?? e.time * 1e9);
      const iso = new Date(Number(nano / 1_000_000n)).toISOString();
      if (flags.json) {
        ctx.out.write(`${JSON.stringify({ time: iso, type: 'container', action: e.Action, id: e.Actor.ID, service, attributes })}\n`);
      } else {
        const when = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(nano % 1_000_000_000n)
          .padStart(9, '0')
          .slice(0, 6)}`;
        const attrs = Object.entries(attributes).map(([k, v]) => `${k}=${v}`);
        ctx.out.write(`${when} container ${e.Action} ${e.Actor.ID} (${attrs.join(', ')})\n`);
      }
    });
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    stream.close();
    return 0;
  },
};
