// `berth compose config`: the project as loaded, merged, substituted and checked, in canonical
// YAML (or JSON), or one of its lists (--services, --volumes, --networks, --profiles, --images);
// -q only checks.

import type { ComposeCommand } from '../cli.js';
import { canonicalYaml } from '../project.js';

export const config: ComposeCommand = {
  spec: {
    path: 'config',
    use: '[OPTIONS] [SERVICE...]',
    about: 'Parse, resolve and render compose file in canonical format',
    flags: {
      quiet: { short: 'q', type: 'bool', desc: "Only validate the configuration, don't print anything" },
      services: { type: 'bool', desc: 'Print the service names, one per line' },
      volumes: { type: 'bool', desc: 'Print the volume names, one per line' },
      networks: { type: 'bool', desc: 'Print the network names, one per line' },
      profiles: { type: 'bool', desc: 'Print the profile names, one per line' },
      images: { type: 'bool', desc: 'Print the image names, one per line' },
      format: { type: 'string', desc: 'Format the output. Values: [yaml | json]', dflt: '"yaml"' },
    },
  },
  async run(ctx, { flags, args }) {
    const p = await ctx.project(args.length ? args : undefined);
    if (args.length) for (const n of Object.keys(p.services)) if (!args.includes(n)) delete p.services[n];
    const lines = (xs: string[]) => ctx.out.write(xs.map((x) => `${x}\n`).join(''));
    if (flags.quiet) return 0;
    if (flags.services) lines(Object.keys(p.services));
    else if (flags.volumes) lines(Object.keys(p.volumes));
    else if (flags.networks) lines(Object.keys(p.networks));
    else if (flags.profiles) {
      const all = [...Object.values(p.services), ...Object.values(p.disabled)].flatMap((s) => (s.profiles as string[]) ?? []);
      lines([...new Set(all)].sort());
    } else if (flags.images) lines(Object.entries(p.services).map(([n, s]) => s.image ?? `${p.name}-${n}`));
    else if (flags.format === 'json') {
      const { name, services, networks, volumes, secrets, configs } = p;
      ctx.out.write(`${JSON.stringify({ name, services, networks, volumes, secrets, configs }, null, 2)}\n`);
    } else if (flags.format === undefined || flags.format === 'yaml') ctx.out.write(canonicalYaml(p));
    else throw new Error(`unsupported format ${JSON.stringify(flags.format)}: yaml or json`);
    return 0;
  },
};
