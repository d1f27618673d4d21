// `berth compose build [SERVICE...]`: the images of the services named (all when none) that have
// a build section, built one after another through berthd's POST /build (service-build.ts), as
// Compose v2's `build` with its classic-builder flags.

import type { ComposeCommand } from '../cli.js';
import { buildable, buildService, refuseBuild } from '../service-build.js';

export const build: ComposeCommand = {
  spec: {
    path: 'build',
    use: '[OPTIONS] [SERVICE...]',
    about: 'Build or rebuild services',
    flags: {
      'build-arg': { type: 'list', arg: 'stringArray', desc: 'Set build-time variables for services' },
      'no-cache': { type: 'bool', desc: 'Do not use cache when building the image' },
      pull: { type: 'bool', desc: 'Always attempt to pull a newer version of the image' },
      quiet: { short: 'q', type: 'bool', desc: "Don't print anything to STDOUT" },
    },
  },
  async run(ctx, { flags, args }) {
    const p = await ctx.project(args.length ? args : undefined);
    for (const s of args) if (!p.services[s]) throw new Error(`no such service: ${s}`);
    const services = buildable(p, args.length ? args : Object.keys(p.services));
    for (const s of services) refuseBuild(p, s);
    const quiet = !!flags.quiet;
    const log = (m: string) => quiet || ctx.err.write(` ${m}\n`);
    for (const s of services) {
      await buildService(
        ctx.client,
        p,
        s,
        { noCache: !!flags['no-cache'], pull: !!flags.pull, buildArgs: flags['build-arg'] as string[] | undefined, quiet },
        log,
        ctx.err,
      );
    }
    return 0;
  },
};
