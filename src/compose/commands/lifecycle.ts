// `berth compose start|stop|restart [SERVICE...]`: the project's existing containers started in
// dependency order, or stopped (and restarted) dependents first, as Compose does; restarting a
// service restarts those depending on it with restart: true.

import type { ComposeCommand } from '../cli.js';
import { inDependencyOrder, nameOf, serviceOf, startContainer, stopContainer, type Listed } from '../containers.js';
import type { ComposeContext } from '../cli.js';
import type { Dict } from '../normalize.js';
import type { Project } from '../project.js';
import { targets } from './targets.js';

const log = (ctx: ComposeContext) => (m: string) => ctx.err.write(` ${m}\n`);

/** The loaded project, or none where the files cannot be read and -p or COMPOSE_PROJECT_NAME names it. */
async function loaded(ctx: ComposeContext): Promise<Project | undefined> {
  try {
    return await ctx.project();
  } catch (e) {
    if (ctx.options.projectName || process.env.COMPOSE_PROJECT_NAME) return undefined;
    throw e;
  }
}

async function each(p: Project | undefined, containers: Listed[], reverse: boolean, fn: (c: Listed) => Promise<void>): Promise<void> {
  const services = [...new Set(containers.map(serviceOf))];
  await inDependencyOrder(
    services,
    (s) => Object.keys(p?.services[s]?.depends_on ?? {}),
    (s) => Promise.all(containers.filter((c) => serviceOf(c) === s).map(fn)).then(() => undefined),
    reverse,
  );
}

/** `services` and, as Compose v2 restarts them too, the services depending on them with restart: true, and theirs. */
function withRestartDependents(p: Project | undefined, services: string[]): string[] {
  const out = new Set(services);
  for (let grew = !!p && services.length > 0; grew;) {
    grew = false;
    for (const [n, s] of Object.entries(p!.services)) {
      if (out.has(n) || !Object.entries((s.depends_on as Dict) ?? {}).some(([d, c]) => out.has(d) && c.restart)) continue;
      out.add(n);
      grew = true;
    }
  }
  return [...out];
}

const timeoutFlag = { short: 't', type: 'string' as const, arg: 'int', desc: 'Specify a shutdown timeout in seconds' };

export const start: ComposeCommand = {
  spec: { path: 'start', use: '[SERVICE...]', about: 'Start services', flags: {} },
  async run(ctx, { args }) {
    const { containers } = await targets(ctx, args);
    if (!containers.length) throw new Error('service(s) have no container to start: run up first');
    await each(await loaded(ctx), containers, false, async (c) => {
      if (c.State !== 'running') await startContainer(ctx.client, c.Id, nameOf(c), log(ctx));
    });
    return 0;
  },
};

export const stop: ComposeCommand = {
  spec: { path: 'stop', use: '[OPTIONS] [SERVICE...]', about: 'Stop services', flags: { timeout: timeoutFlag } },
  async run(ctx, { flags, args }) {
    const { containers } = await targets(ctx, args, { running: true });
    await each(await loaded(ctx), containers, true, (c) =>
      stopContainer(ctx.client, c.Id, nameOf(c), log(ctx), flags.timeout ? Number(flags.timeout) : undefined),
    );
    return 0;
  },
};

export const restart: ComposeCommand = {
  spec: { path: 'restart', use: '[OPTIONS] [SERVICE...]', about: 'Restart service containers', flags: { timeout: timeoutFlag } },
  async run(ctx, { flags, args }) {
    const p = await loaded(ctx);
    const { containers } = await targets(ctx, withRestartDependents(p, args));
    await each(p, containers, false, async (c) => {
      log(ctx)(`Container ${nameOf(c)}  Restarting`);
      await ctx.client.json('POST', `/containers/${c.Id}/restart`, { query: { t: flags.timeout ? Number(flags.timeout) : undefined } });
      log(ctx)(`Container ${nameOf(c)}  Started`);
    });
    return 0;
  },
};
