// `berth run`: create (pulling the image when it is missing), attach, wait, start, relay the
// output, and exit with the container's code, as `docker run` drives the API.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { copyStream } from '../output.js';
import { pullImage } from './pull.js';
import { MOUNT_FLAGS, mountFields } from './run-mounts.js';
import { SECURITY_FLAGS, securityFields } from './run-security.js';
import { CONFIG_FLAGS, lifecycleConfig, RESOURCE_FLAGS, resourceFields } from './run-lifecycle.js';
import { bytes } from '../units.js';

const FLAGS = {
  detach: { short: 'd', type: 'bool' }, rm: { type: 'bool' }, name: { type: 'string' }, env: { short: 'e', type: 'list' },
  workdir: { short: 'w', type: 'string' }, user: { short: 'u', type: 'string' }, entrypoint: { type: 'string' },
  interactive: { short: 'i', type: 'bool' }, tty: { short: 't', type: 'bool' }, label: { short: 'l', type: 'list' },
  memory: { short: 'm', type: 'string' }, cpus: { type: 'string' }, 'pids-limit': { type: 'string' },
  ...MOUNT_FLAGS,
  ...SECURITY_FLAGS,
  ...RESOURCE_FLAGS,
  ...CONFIG_FLAGS,
} as const;

export async function run(client: ApiClient, argv: string[]): Promise<number> {
  const { flags: f, args } = parseArgs(argv, FLAGS, { stopAtOperand: true });
  if (!args.length) throw new BerthError('invalid', '"berth run" requires at least 1 argument: berth run [OPTIONS] IMAGE [COMMAND] [ARG...]');
  const [image, ...cmd] = args;
  const detach = !!f.detach, tty = !!f.tty, stdin = !!f.interactive;
  const env = (f.env as string[] | undefined)?.map((e) => (e.includes('=') ? e : process.env[e] !== undefined ? `${e}=${process.env[e]}` : e));
  const labels = Object.fromEntries(((f.label as string[] | undefined) ?? []).map((l) => [l.split('=', 1)[0], l.slice(l.indexOf('=') + 1)]));
  const body = {
    Image: image, Cmd: cmd.length ? cmd : undefined,
    Entrypoint: f.entrypoint === undefined ? undefined : f.entrypoint === '' ? [''] : [f.entrypoint as string],
    Hostname: f.hostname as string | undefined, Env: env, WorkingDir: f.workdir as string | undefined, User: f.user as string | undefined, Labels: labels,
    Tty: tty, OpenStdin: stdin, StdinOnce: stdin, AttachStdin: stdin, AttachStdout: !detach, AttachStderr: !detach,
    ...lifecycleConfig(f),
    HostConfig: {
      AutoRemove: !!f.rm,
      Memory: f.memory ? bytes(f.memory as string) : 0,
      NanoCpus: f.cpus ? Math.round(Number(f.cpus) * 1e9) : 0,
      PidsLimit: f['pids-limit'] ? Number(f['pids-limit']) : undefined,
      ...mountFields(f),
      ...securityFields(f),
      ...resourceFields(f),
    },
  };
  const create = () => client.json<{ Id: string }>('POST', '/containers/create', { query: { name: f.name as string | undefined }, body });
  let id: string;
  try {
    id = (await create()).Id;
  } catch (e) {
    if (!(e instanceof BerthError && e.kind === 'not-found' && /No such image/i.test(e.message))) throw e;
    process.stderr.write(`Unable to find image '${image}' locally\n`);
    await pullImage(client, image, process.stderr);
    id = (await create()).Id;
  }
  if (detach) {
    await client.json('POST', `/containers/${id}/start`);
    process.stdout.write(`${id}\n`);
    return 0;
  }
  // Attach and wait are both in place before start (no output or exit is missed); they go together.
  const [socket, waitRes] = await Promise.all([
    client.hijack(`/containers/${id}/attach`, { stream: true, stdout: true, stderr: true, stdin: stdin || undefined }),
    client.stream('POST', `/containers/${id}/wait`, { query: { condition: f.rm ? 'removed' : 'next-exit' } }),
  ]);
  const waited = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of waitRes) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString()) as { StatusCode: number };
  })();
  const output = copyStream(socket, tty);
  if (stdin) process.stdin.pipe(socket);
  try {
    await client.json('POST', `/containers/${id}/start`);
  } catch (e) {
    socket.destroy();
    waited.catch(() => {});
    waitRes.destroy();
    // As docker: a command that is missing exits 127, one that cannot run 126.
    const msg = e instanceof Error ? e.message : String(e);
    const code = /executable file not found|no such file or directory/i.test(msg) ? 127 : /permission denied|exec format error/i.test(msg) ? 126 : 0;
    if (!code) throw e;
    process.stderr.write(`berth: ${msg}\n`);
    return code;
  }
  await output;
  const { StatusCode } = await waited;
  if (stdin) process.stdin.unpipe(socket);
  return StatusCode;
}
