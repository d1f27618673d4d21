// `berth compose up [SERVICE...]`: networks, volumes and images first, then the services'
// containers in dependency order (converge.ts); attached, their output follows until they stop
// (an interrupt or SIGTERM stops them; with --abort-on-container-exit, --exit-code-from or
// --abort-on-container-failure the first exit, or failure, stops them and gives the exit
// status), detached (-d) it returns once they run, and --wait until each is running and, where
// it has a healthcheck, healthy.

import type { ComposeCommand } from '../cli.js';
import { containerMet, up as converge } from '../converge.js';
import { nameOf, projectContainers, serviceOf, stopContainer } from '../containers.js';
import { ProjectEvents } from '../events.js';
import { streamLogs, type LogTarget } from '../logs.js';

export const scaleFlag = (list: string[] | undefined): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const s of list ?? []) {
    const m = /^([^=]+)=(\d+)$/.exec(s);
    if (!m) throw new Error(`invalid --scale ${JSON.stringify(s)}: expected SERVICE=NUM`);
    out[m[1]] = Number(m[2]);
  }
  return out;
};

export const up: ComposeCommand = {
  spec: {
    path: 'up',
    use: '[OPTIONS] [SERVICE...]',
    about: 'Create and start containers',
    flags: {
      detach: { short: 'd', type: 'bool', desc: 'Detached mode: Run containers in the background' },
      'force-recreate': { type: 'bool', desc: "Recreate containers even if their configuration and image haven't changed" },
      'no-recreate': { type: 'bool', desc: "If containers already exist, don't recreate them" },
      'no-deps': { type: 'bool', desc: "Don't start linked services" },
      'no-start': { type: 'bool', desc: "Don't start the services after creating them" },
      'no-build': { type: 'bool', desc: "Don't build an image, even if it's policy" },
      build: { type: 'bool', desc: 'Build images before starting containers' },
      wait: { type: 'bool', desc: 'Wait for services to be running|healthy. Implies detached mode' },
      'wait-timeout': { type: 'string', arg: 'int', desc: 'Maximum duration in seconds to wait for the project to be running|healthy' },
      scale: {
        type: 'list',
        arg: 'scale',
        desc: 'Scale SERVICE to NUM instances. Overrides the scale setting in the Compose file if present',
      },
      'remove-orphans': { type: 'bool', desc: 'Remove containers for services not defined in the Compose file' },
      'abort-on-container-exit': { type: 'bool', desc: 'Stops all containers if any container was stopped. Incompatible with -d' },
      'abort-on-container-failure': {
        type: 'bool',
        desc: 'Stops all containers if any container exited with failure. Incompatible with -d',
      },
      'exit-code-from': {
        type: 'string',
        desc: 'Return the exit code of the selected service container. Implies --abort-on-container-exit',
      },
      pull: { type: 'string', desc: 'Pull image before running ("always"|"missing"|"never")', dflt: '"policy"' },
      'quiet-pull': { type: 'bool', desc: 'Pull without printing progress information (berth compose prints none)' },
      timeout: {
        short: 't',
        type: 'string',
        arg: 'int',
        desc: 'Use this timeout in seconds for container shutdown when attached or when containers are already running',
      },
    },
  },
  async run(ctx, { flags, args }) {
    if (flags.build && flags['no-build']) throw new Error('--build and --no-build are incompatible');
    if (flags['force-recreate'] && flags['no-recreate']) throw new Error('--force-recreate and --no-recreate are incompatible');
    const pullPolicy = flags.pull as string | undefined;
    if (pullPolicy && !['always', 'missing', 'never', 'policy'].includes(pullPolicy))
      throw new Error(`invalid --pull option ${JSON.stringify(pullPolicy)}`);
    const exitFrom = flags['exit-code-from'] as string | undefined;
    const cascadeStop = !!flags['abort-on-container-exit'] || !!exitFrom;
    const cascadeFail = !!flags['abort-on-container-failure'];
    if (cascadeStop && cascadeFail) throw new Error('--abort-on-container-failure cannot be combined with --abort-on-container-exit');
    if (flags.wait && cascadeStop) throw new Error('--wait cannot be combined with --abort-on-container-exit');
    if ((flags.detach || flags.wait) && (cascadeStop || cascadeFail))
      throw new Error('--detach cannot be combined with --abort-on-container-exit or --abort-on-container-failure');
    const p = await ctx.project(args.length ? args : undefined);
    if (exitFrom && !p.services[exitFrom]) throw new Error(`no such service: ${exitFrom}`);
    if (pullPolicy === 'never' || pullPolicy === 'missing') for (const s of Object.values(p.services)) s.pull_policy = pullPolicy;
    const log = (m: string) => ctx.err.write(` ${m}\n`);
    // Attached, the output from here on (Compose v2 attaches): not what a container printed in an earlier run.
    const since = (Date.now() / 1000).toFixed(3);
    const ids = await converge(
      ctx.client,
      p,
      {
        services: args,
        noDeps: !!flags['no-deps'],
        forceRecreate: !!flags['force-recreate'],
        noRecreate: !!flags['no-recreate'],
        scale: scaleFlag(flags.scale as string[] | undefined),
        removeOrphans: !!flags['remove-orphans'],
        noStart: !!flags['no-start'],
        pullAlways: pullPolicy === 'always',
        build: flags.build ? 'always' : flags['no-build'] ? 'never' : 'missing',
        buildOutput: ctx.err,
      },
      log,
    );
    const all = [...ids.values()].flat();
    if (flags['no-start']) return 0;
    if (flags.wait) {
      const limit = flags['wait-timeout'] ? Number(flags['wait-timeout']) * 1000 : 0;
      const events = await ProjectEvents.open(ctx.client, p.name, { type: ['container'] });
      let timer: NodeJS.Timeout | undefined;
      try {
        const ready = Promise.all(
          all.map(async (id) => {
            const st = await ctx.client.json('GET', `/containers/${id}/json`);
            const name = String(st.Name).replace(/^\//, '');
            if (st.State.Health) await containerMet(ctx.client, events, id, 'service_healthy');
            else if (!st.State.Running) throw new Error(`container ${name} exited (${st.State.ExitCode})`);
            log(`Container ${name}  ${st.State.Health ? 'Healthy' : 'Running'}`);
          }),
        );
        await (limit
          ? Promise.race([
              ready,
              new Promise((_r, reject) => {
                timer = setTimeout(
                  () => reject(new Error(`timeout waiting for the services to be running|healthy (${limit / 1000}s)`)),
                  limit,
                );
              }),
            ])
          : ready);
      } finally {
        clearTimeout(timer);
        events.close();
      }
      return 0;
    }
    if (flags.detach) return 0;
    // Attached: follow the output until every container stops; an interrupt stops them.
    const listed = (await projectContainers(ctx.client, p.name, {})).filter((c) => all.includes(c.Id));
    const targets = await Promise.all(
      listed.map(async (c) => ({
        id: c.Id,
        name: nameOf(c),
        tty: !!(await ctx.client.json('GET', `/containers/${c.Id}/json`)).Config.Tty,
      })),
    );
    const stopAll = () =>
      void Promise.all(
        listed.map((c) => stopContainer(ctx.client, c.Id, nameOf(c), log, flags.timeout ? Number(flags.timeout) : undefined)),
      ).catch((e: Error) => ctx.err.write(`stopping: ${e.message}\n`));
    let stopping = false;
    let aborting = false;
    let exitCode = 0;
    let codeFrom = exitFrom;
    const serviceOfId = new Map(listed.map((c) => [c.Id, serviceOf(c)]));
    const onInt = () => {
      if (stopping) process.exit(130);
      stopping = true;
      ctx.err.write('Gracefully stopping... (press Ctrl+C again to force)\n');
      stopAll();
    };
    // As Compose v2: the exit status is that of the service named, else of the first to exit (or fail).
    const onEnd = async (t: LogTarget) => {
      const code: number = (await ctx.client.json('GET', `/containers/${t.id}/json`)).State.ExitCode;
      ctx.out.write(`${t.name} exited with code ${code}\n`);
      if (stopping || !(cascadeStop || (cascadeFail && code !== 0))) return;
      if (!aborting) {
        aborting = true;
        codeFrom ??= serviceOfId.get(t.id);
        ctx.err.write('Aborting on container exit...\n');
        stopAll();
      }
      if (serviceOfId.get(t.id) === codeFrom) exitCode = code;
    };
    // SIGTERM too: a supervisor's stop takes the services down as Ctrl-C does.
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onInt);
    try {
      await streamLogs(ctx.client, targets, { follow: true, since, onEnd }, ctx.out);
    } finally {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onInt);
    }
    return stopping ? 130 : exitCode;
  },
};
