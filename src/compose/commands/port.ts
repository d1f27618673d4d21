// `berth compose port SERVICE PRIVATE_PORT`: the host address a container port of the service
// is published on (`0.0.0.0:8080`).

import type { ComposeCommand } from '../cli.js';
import { numberOf } from '../containers.js';
import { targets } from './targets.js';

export const port: ComposeCommand = {
  spec: {
    path: 'port',
    use: '[OPTIONS] SERVICE PRIVATE_PORT',
    about: 'Print the public port for a port binding',
    args: { min: 2, max: 2 },
    flags: {
      index: { type: 'string', arg: 'int', desc: 'Index of the container if service has multiple replicas', dflt: '1' },
      protocol: { type: 'string', desc: 'tcp or udp', dflt: '"tcp"' },
    },
  },
  async run(ctx, { flags, args }) {
    const [service, privatePort] = args;
    const index = Number(flags.index ?? 1);
    const proto = (flags.protocol as string | undefined) ?? 'tcp';
    const { containers } = await targets(ctx, [service]);
    const c = containers.find((x) => numberOf(x) === index);
    if (!c) throw new Error(`service "${service}" has no container #${index}`);
    const p = c.Ports.find((x) => String(x.PrivatePort) === privatePort && x.Type === proto && x.PublicPort);
    if (!p) throw new Error(`no port ${privatePort}/${proto} for container ${c.Names[0].slice(1)}: is it published?`);
    ctx.out.write(`${p.IP || '0.0.0.0'}:${p.PublicPort}\n`);
    return 0;
  },
};
