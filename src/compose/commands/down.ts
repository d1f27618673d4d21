// `berth compose down`: the project's containers stopped and removed (dependents first), then
// its networks, and with -v its named volumes and the containers' anonymous ones, with --rmi its
// services' images. What belongs to the project is found by Compose's labels, so a project
// whose files are gone comes down by its name (-p). Containers of services the files no longer
// define are orphans: left, with a warning, unless --remove-orphans.

import { DaemonError } from '../../api/client.js';
import type { ComposeCommand } from '../cli.js';
import { deps } from '../converge.js';
import { inDependencyOrder, nameOf, projectContainers, removeContainer, serviceOf, stopContainer } from '../containers.js';
import type { Project } from '../project.js';
import { projectResources } from '../resources.js';

export const down: ComposeCommand = {
  spec: {
    path: 'down',
    use: '[OPTIONS] [SERVICES]',
    about: 'Stop and remove containers, networks',
    flags: {
      volumes: {
        short: 'v',
        type: 'bool',
        desc: 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers',
      },
      rmi: {
        type: 'string',
        desc: 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")',
      },
      'remove-orphans': { type: 'bool', desc: 'Remove containers for services not defined in the Compose file' },
      timeout: { short: 't', type: 'string', arg: 'int', desc: 'Specify a shutdown timeout in seconds' },
    },
  },
  async run(ctx, { flags, args }) {
    const rmi = flags.rmi as string | undefined;
    if (rmi !== undefined && rmi !== 'local' && rmi !== 'all') throw new Error(`invalid --rmi option ${JSON.stringify(rmi)}: local or all`);
    const log = (m: string) => ctx.err.write(` ${m}\n`);
    let p: Project | undefined;
    let name: string;
    try {
      p = await ctx.project();
      name = p.name;
    } catch (e) {
      // No files (or broken ones): the project named by -p or COMPOSE_PROJECT_NAME comes down by its labels.
      if (!ctx.options.projectName && !process.env.COMPOSE_PROJECT_NAME) throw e;
      name = await ctx.projectName();
    }
    const timeout = flags.timeout ? Number(flags.timeout) : undefined;
    const containers = await projectContainers(ctx.client, name, { oneoff: 'any' });
    const known = (s: string) => !p || p.services[s] || p.disabled[s];
    const orphans = containers.filter((c) => !known(serviceOf(c)));
    const mine = containers.filter(
      (c) => (known(serviceOf(c)) || flags['remove-orphans']) && (!args.length || args.includes(serviceOf(c))),
    );
    if (orphans.length && !flags['remove-orphans']) {
      log(
        `Found orphan containers (${orphans.map(nameOf).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
      );
    }
    const services = [...new Set(mine.map(serviceOf))];
    await inDependencyOrder(
      services,
      p ? deps(p) : () => [],
      async (s) => {
        await Promise.all(
          mine
            .filter((c) => serviceOf(c) === s)
            .map(async (c) => {
              if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting')
                await stopContainer(ctx.client, c.Id, nameOf(c), log, timeout);
              await removeContainer(ctx.client, c.Id, nameOf(c), log, !!flags.volumes);
            }),
        );
      },
      true,
    );
    if (args.length) return 0;
    const { networks, volumes } = await projectResources(ctx.client, name);
    for (const n of networks) {
      log(`Network ${n.Name}  Removing`);
      try {
        await ctx.client.json('DELETE', `/networks/${n.Id}`);
        log(`Network ${n.Name}  Removed`);
      } catch (e) {
        if (!(e instanceof DaemonError && e.statusCode === 409)) throw e;
        log(`Network ${n.Name}  Resource is still in use`);
      }
    }
    if (flags.volumes) {
      for (const v of volumes) {
        log(`Volume ${v.Name}  Removing`);
        await ctx.client.json('DELETE', `/volumes/${encodeURIComponent(v.Name)}`);
        log(`Volume ${v.Name}  Removed`);
      }
    }
    if (rmi && p) {
      const images = [
        ...new Set(
          Object.entries(p.services)
            .filter(([, s]) => rmi === 'all' || !s.image)
            .map(([n, s]) => s.image ?? `${p!.name}-${n}`),
        ),
      ];
      for (const image of images) {
        log(`Image ${image}  Removing`);
        try {
          await ctx.client.json('DELETE', `/images/${encodeURIComponent(image)}`);
          log(`Image ${image}  Removed`);
        } catch (e) {
          if (!(e instanceof DaemonError && e.statusCode === 404)) throw e;
        }
      }
    }
    return 0;
  },
};
