// `berth compose ps [SERVICE...]`: the project's containers (running ones unless -a) as
// Compose v2 lists them: NAME, IMAGE, COMMAND, SERVICE, CREATED, STATUS, PORTS; -q their IDs,
// --services the services, --format json one object each.

import { humanAgo, table } from '../../cli/output.js';
import type { ComposeCommand } from '../cli.js';
import { nameOf, serviceOf } from '../containers.js';
import { portsLine, targets } from './targets.js';

export const ps: ComposeCommand = {
  spec: {
    path: 'ps',
    use: '[OPTIONS] [SERVICE...]',
    about: 'List containers',
    flags: {
      all: { short: 'a', type: 'bool', desc: 'Show all stopped containers (including those created by the run command)' },
      quiet: { short: 'q', type: 'bool', desc: 'Only display IDs' },
      services: { type: 'bool', desc: 'Display services' },
      format: { type: 'string', desc: 'Format the output. Values: [table | json]', dflt: '"table"' },
    },
  },
  async run(ctx, { flags, args }) {
    const { containers } = await targets(ctx, args, { running: !flags.all, oneoff: flags.all ? 'any' : false });
    if (flags.quiet) ctx.out.write(containers.map((c) => `${c.Id}\n`).join(''));
    else if (flags.services) ctx.out.write([...new Set(containers.map(serviceOf))].map((s) => `${s}\n`).join(''));
    else if (flags.format === 'json') {
      const rows = containers.map((c) => ({
        ID: c.Id,
        Name: nameOf(c),
        Image: c.Image,
        Command: c.Command,
        Project: c.Labels['com.docker.compose.project'],
        Service: serviceOf(c),
        Created: c.Created,
        State: c.State,
        Status: c.Status,
        Publishers: c.Ports.map((p) => ({
          URL: p.IP ?? '',
          TargetPort: p.PrivatePort,
          PublishedPort: p.PublicPort ?? 0,
          Protocol: p.Type,
        })),
      }));
      ctx.out.write(`${JSON.stringify(rows)}\n`);
    } else if (flags.format === undefined || flags.format === 'table') {
      const rows = containers.map((c) => [
        nameOf(c),
        c.Image,
        JSON.stringify(c.Command),
        serviceOf(c),
        humanAgo(c.Created),
        c.Status,
        portsLine(c),
      ]);
      ctx.out.write(table([['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'], ...rows], 3));
    } else throw new Error(`unsupported format ${JSON.stringify(flags.format)}: table or json`);
    return 0;
  },
};
