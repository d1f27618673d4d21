// `berth compose start|stop|restart [SERVICE...]`: the project's existing containers started in
// dependency order, or stopped (and restarted) dependents first, as Compose does.

import type { ComposeCommand } from '../cli.js';
import { inDependencyOrder, nameOf, serviceOf, startContainer, stopContainer, type Listed } from '../containers.js';
import type { ComposeContext } from '../cli.js';
import { targets } from './targets.js';

const log = (ctx: ComposeContext) => (m: string) => ctx.err.write(` ${m}\n`);

/** depends_on of the loaded project, or none where the files cannot be read (the project by name). */
async function dependencies(ctx: ComposeContext): Promise<(s: string) => string[]> {
  try {
    const p = await ctx.project();
    return (s) => Object.keys(p.services[s]?.depends_on ?? {});
  } catch (e) {
    if (ctx.options.projectName || process.env.COMPOSE_PROJECT_NAME) return () => [];
    throw e;
  }
}

async function each(ctx: ComposeContext, containers: Listed[], reverse: boolean, fn: (c: Listed) => Promise<void>): Promise<void> {
  const deps = await dependencies(ctx);
  const services = [...new Set(containers.map(serviceOf))];
  await inDependencyOrder(
    services,
    deps,
    (s) => Promise.all(containers.filter((c) => serviceOf(c) === s).map(fn)).then(() => undefined),
    reverse,
  );
}

const timeoutFlag = { short: 't', type: 'string' as const, arg: 'int', desc: 'Specify a shutdown timeout in seconds' };

export const start: ComposeCommand = {
  spec: { path: 'start', use: '[SERVICE...]', about: 'Start services', flags: {} },
  async run(ctx, { args }) {
    const { containers } = await targets(ctx, args);
    if (!containers.length) throw new Error('service(s) have no container to start: run up first');
    await each(ctx, containers, false, async (c) => {
      if (c.State !== 'running') await startContainer(ctx.client, c.Id, nameOf(c), log(ctx));
    });
    return 0;
  },
};

export const stop: ComposeCommand = {
  spec: { path: 'stop', use: '[OPTIONS] [SERVICE...]', about: 'Stop services', flags: { timeout: timeoutFlag } },
  async run(ctx, { flags, args }) {
    const { containers } = await targets(ctx, args, { running: true });
    await each(ctx, containers, true, (c) =>
      stopContainer(ctx.client, c.Id, nameOf(c), log(ctx), flags.timeout ? Number(flags.timeout) : undefined),
    );
    return 0;
  },
};

export const restart: ComposeCommand = {
  spec: { path: 'restart', use: '[OPTIONS] [SERVICE...]', about: 'Restart service containers', flags: { timeout: timeoutFlag } },
  async run(ctx, { flags, args }) {
    const { containers } = await targets(ctx, args);
    await each(ctx, containers, false, async (c) => {
      log(ctx)(`Container ${nameOf(c)}  Restarting`);
      await ctx.client.json('POST', `/containers/${c.Id}/restart`, { query: { t: flags.timeout ? Number(flags.timeout) : undefined } });
      log(ctx)(`Container ${nameOf(c)}  Started`);
    });
    return 0;
  },
};
