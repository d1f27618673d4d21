// `berth compose pull [SERVICE...]`: each service's image pulled (each image once, in parallel).

import type { ComposeCommand } from '../cli.js';
import { pull as pullImage } from '../resources.js';

export const pull: ComposeCommand = {
  spec: {
    path: 'pull',
    use: '[OPTIONS] [SERVICE...]',
    about: 'Pull service images',
    flags: {
      quiet: { short: 'q', type: 'bool', desc: 'Pull without printing progress information' },
      'ignore-pull-failures': { type: 'bool', desc: 'Pull what it can and ignores images with pull failures' },
    },
  },
  async run(ctx, { flags, args }) {
    const p = await ctx.project(args.length ? args : undefined);
    const log = (m: string) => flags.quiet || ctx.err.write(` ${m}\n`);
    const services = args.length ? args : Object.keys(p.services);
    const images = [...new Set(services.map((s) => p.services[s].image as string).filter(Boolean))];
    await Promise.all(
      images.map(async (image) => {
        log(`Image ${image}  Pulling`);
        try {
          await pullImage(ctx.client, image);
          log(`Image ${image}  Pulled`);
        } catch (e) {
          if (!flags['ignore-pull-failures']) throw e;
          ctx.err.write(` Image ${image}  Error: ${(e as Error).message}\n`);
        }
      }),
    );
    return 0;
  },
};
