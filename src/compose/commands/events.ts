// `berth compose events [SERVICE...]`: the project's container events from berthd as they
// happen, one line each as Compose prints them, or --json one object each.

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
      const attrs = e.Actor.Attributes ?? {};
      const service = attrs[L.service] ?? '';
      if (args.length && !args.includes(service)) return;
      const nano = BigInt(e.timeNano ?? e.time * 1e9);
      const iso = new Date(Number(nano / 1_000_000n)).toISOString();
      if (flags.json) {
        ctx.out.write(
          `${JSON.stringify({ time: iso, type: 'container', action: e.Action, id: e.Actor.ID, service, attributes: { name: attrs.name, image: attrs.image } })}\n`,
        );
      } else {
        const when = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(nano % 1_000_000_000n)
          .padStart(9, '0')
          .slice(0, 6)}`;
        ctx.out.write(`${when} container ${e.Action} ${e.Actor.ID} (image=${attrs.image}, name=${attrs.name})\n`);
      }
    });
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    stream.close();
    return 0;
  },
};
