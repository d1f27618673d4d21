// `berth port CONTAINER [PRIVATE_PORT[/PROTO]]`: the container's published ports, from its
// NetworkSettings.Ports, printed as docker prints them.

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';

type Bindings = Record<string, { HostIp: string; HostPort: string }[] | null>;

const address = (b: { HostIp: string; HostPort: string }) =>
  `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp || '0.0.0.0'}:${b.HostPort}`;

const PORT: CommandSpec = {
  path: 'port',
  use: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  about: 'List port mappings or a specific mapping for the container',
  aliases: ['berth container port', 'berth port'],
  args: { min: 1, max: 2 },
  flags: {},
};

export async function port(client: ApiClient, argv: string[]): Promise<number> {
  const { args } = parseCommand(PORT, argv);
  const c = await client.json<{ NetworkSettings: { Ports: Bindings | null } }>('GET', `/containers/${encodeURIComponent(args[0])}/json`);
  const ports = c.NetworkSettings.Ports ?? {};
  if (args[1]) {
    const [p, proto = 'tcp'] = args[1].split('/');
    const key = `${p}/${proto}`;
    const list = ports[key];
    if (!list?.length) {
      process.stderr.write(`Error: No public port '${args[1]}' published for ${args[0]}\n`);
      return 1;
    }
    process.stdout.write(list.map((b) => `${address(b)}\n`).join(''));
    return 0;
  }
  const num = (k: string) => Number(k.split('/')[0]);
  for (const k of Object.keys(ports).sort((a, b) => num(a) - num(b) || a.localeCompare(b))) {
    for (const b of ports[k] ?? []) process.stdout.write(`${k} -> ${address(b)}\n`);
  }
  return 0;
}
