// `berth compose run SERVICE [COMMAND...]`: a one-off container of the service
// (`project-service-run-<id>`, labelled oneoff=True), its dependencies brought up first unless
// --no-deps, attached unless -d, removed after with --rm; the service's ports are published only
// with --service-ports, as Compose does.

import { randomBytes } from 'node:crypto';
import { attachAndWait } from '../../cli/commands/run-attach.js';
import { buildImages, refuseBuild } from '../service-build.js';
import type { ComposeCommand } from '../cli.js';
import { createBody, refuseUnapplied } from '../convert.js';
import { createContainer, projectContainers, startContainer } from '../containers.js';
import { replicas, sharedContainer, up } from '../converge.js';
import { shellSplit } from '../normalize.js';
import { ensureNetwork, ensureVolume, pullImages, usedNetworks, usedVolumes } from '../resources.js';

export const run: ComposeCommand = {
  spec: {
    path: 'run',
    use: '[OPTIONS] SERVICE [COMMAND] [ARGS...]',
    about: 'Run a one-off command on a service',
    args: { min: 1 },
    stopAtOperand: true,
    flags: {
      detach: { short: 'd', type: 'bool', desc: 'Run container in background and print container ID' },
      rm: { type: 'bool', desc: 'Automatically remove the container when it exits' },
      env: { short: 'e', type: 'list', arg: 'stringArray', desc: 'Set environment variables' },
      entrypoint: { type: 'string', desc: 'Override the entrypoint of the image' },
      name: { type: 'string', desc: 'Assign a name to the container' },
      'no-deps': { type: 'bool', desc: "Don't start linked services" },
      'no-TTY': { short: 'T', type: 'bool', desc: 'Disable pseudo-TTY allocation (default: auto-detected)' },
      'service-ports': { type: 'bool', desc: "Run command with all service's ports enabled and mapped to the host" },
      user: { short: 'u', type: 'string', desc: 'Run as specified username or uid' },
      workdir: { short: 'w', type: 'string', desc: 'Working directory inside the container' },
      label: { short: 'l', type: 'list', arg: 'stringArray', desc: 'Add or override a label' },
    },
  },
  async run(ctx, { flags, args }) {
    const [service, ...cmd] = args;
    const p = await ctx.project([service]);
    const log = (m: string) => ctx.err.write(` ${m}\n`);
    const svc = { ...p.services[service] };
    if (cmd.length) svc.command = cmd;
    if (flags.entrypoint !== undefined)
      svc.entrypoint = shellSplit(flags.entrypoint as string, ['--entrypoint'], (_p, what) => {
        throw new Error(what);
      });
    if (flags.user) svc.user = flags.user;
    if (flags.workdir) svc.working_dir = flags.workdir;
    for (const e of (flags.env as string[] | undefined) ?? []) {
      const i = e.indexOf('=');
      svc.environment = { ...svc.environment, [i < 0 ? e : e.slice(0, i)]: i < 0 ? (process.env[e] ?? null) : e.slice(i + 1) };
    }
    for (const l of (flags.label as string[] | undefined) ?? []) {
      const i = l.indexOf('=');
      svc.labels = { ...svc.labels, [i < 0 ? l : l.slice(0, i)]: i < 0 ? '' : l.slice(i + 1) };
    }
    if (!flags['service-ports']) delete svc.ports;
    svc.restart = undefined;
    const tty = !flags['no-TTY'] && !flags.detach && !!process.stdin.isTTY;
    svc.tty = tty;
    svc.stdin_open = !flags.detach;
    p.services[service] = svc;
    refuseUnapplied(p, service, svc);
    refuseBuild(p, service);
    const deps = Object.keys(svc.depends_on ?? {});
    const started = deps.length && !flags['no-deps'] ? await up(ctx.client, p, { services: deps }, log) : new Map<string, string[]>();
    await Promise.all(usedNetworks(p, [service]).map((n) => ensureNetwork(ctx.client, p, n, log)));
    await Promise.all(usedVolumes(p, [service]).map((v) => ensureVolume(ctx.client, p, v, log)));
    if (svc.build) await buildImages(ctx.client, p, [service], {}, log, ctx.err);
    else await pullImages(ctx.client, p, [service], log);
    const name = (flags.name as string | undefined) ?? `${p.name}-${service}-run-${randomBytes(6).toString('hex')}`;
    const containerOf = sharedContainer(p, service, started, await projectContainers(ctx.client, p.name, { oneoff: false }));
    const { body, extraNetworks, files } = createBody(p, service, 1, { oneoff: true, containerOf, replicas: (o) => replicas(p, o) });
    body.AttachStdin = !flags.detach;
    body.AttachStdout = !flags.detach;
    body.AttachStderr = !flags.detach;
    body.HostConfig.AutoRemove = !!flags.rm;
    const id = await createContainer(ctx.client, name, body, extraNetworks, files, () => undefined);
    if (flags.detach) {
      await startContainer(ctx.client, id, name, () => undefined);
      ctx.out.write(`${name}\n`);
      return 0;
    }
    return attachAndWait(ctx.client, id, { tty, stdin: true, sigProxy: !tty, autoRemove: !!flags.rm, start: true });
  },
};
