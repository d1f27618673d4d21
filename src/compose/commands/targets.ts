// What the commands that act on existing containers share: the project's containers of the
// services named (all when none), found by Compose's labels under the project's name, and the
// line a container's published ports print as.

import type { ComposeContext } from '../cli.js';
import { projectContainers, type Listed } from '../containers.js';

/** The project's name and its (non one-off) containers of `services` (all services when empty). */
export async function targets(
  ctx: ComposeContext,
  services: string[],
  opts: { running?: boolean; oneoff?: boolean | 'any' } = {},
): Promise<{ project: string; containers: Listed[] }> {
  const project = await ctx.projectName();
  const containers = await projectContainers(ctx.client, project, { services, running: opts.running, oneoff: opts.oneoff ?? false });
  return { project, containers };
}

/** `127.0.0.1:8080->80/tcp, 443/tcp`, as ps prints a container's ports. */
export function portsLine(c: Listed): string {
  return c.Ports.map((p) =>
    p.PublicPort ? `${p.IP ? `${p.IP}:` : ''}${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`,
  ).join(', ');
}
