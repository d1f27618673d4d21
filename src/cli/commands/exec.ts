// `berth exec`: create an exec instance, start it on a hijacked connection (or detached with
// -d), relay its output and stdin, and exit with its exit code, as `docker exec` drives the API.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { bestEffort } from '../best-effort.js';
import { parseArgs } from '../args.js';
import { copyStream, rawTerminal, terminalSize } from '../output.js';

const FLAGS = {
  detach: { short: 'd', type: 'bool' }, interactive: { short: 'i', type: 'bool' }, tty: { short: 't', type: 'bool' },
  env: { short: 'e', type: 'list' }, user: { short: 'u', type: 'string' }, workdir: { short: 'w', type: 'string' },
  privileged: { type: 'bool' },
} as const;

export async function exec(client: ApiClient, argv: string[]): Promise<number> {
  const { flags: f, args } = parseArgs(argv, FLAGS, { stopAtOperand: true });
  if (args.length < 2) throw new BerthError('invalid', '"berth exec" requires at least 2 arguments: berth exec [OPTIONS] CONTAINER COMMAND [ARG...]');
  const [container, ...cmd] = args;
  const detach = !!f.detach, tty = !!f.tty, stdin = !!f.interactive && !detach;
  const env = (f.env as string[] | undefined)?.map((e) => (e.includes('=') ? e : process.env[e] !== undefined ? `${e}=${process.env[e]}` : e));
  const { Id: id } = await client.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(container)}/exec`, {
    body: {
      Cmd: cmd, Env: env, User: f.user as string | undefined, WorkingDir: f.workdir as string | undefined, Tty: tty,
      Privileged: !!f.privileged, AttachStdin: stdin, AttachStdout: !detach, AttachStderr: !detach,
      ConsoleSize: tty && !detach ? terminalSize() : undefined,
    },
  });
  if (detach) {
    await client.json('POST', `/exec/${id}/start`, { body: { Detach: true, Tty: tty } });
    return 0;
  }
  const socket = await client.hijack(`/exec/${id}/start`, undefined, { Detach: false, Tty: tty });
  const output = copyStream(socket, tty);
  // With a terminal on both ends, ours is raw: the container's pty does the echo and line editing.
  const raw = tty && stdin && process.stdin.isTTY;
  const restore = raw ? rawTerminal() : undefined;
  if (stdin) process.stdin.pipe(socket);
  const resize = () => {
    const size = terminalSize();
    if (size) bestEffort(client.json('POST', `/exec/${id}/resize`, { query: { h: size[0], w: size[1] } }));
  };
  if (tty) process.on('SIGWINCH', resize);
  try {
    await output;
  } finally {
    process.off('SIGWINCH', resize);
    restore?.();
    if (stdin) {
      process.stdin.unpipe(socket);
      process.stdin.pause();
    }
  }
  const info = await client.json<{ ExitCode: number | null; Running: boolean }>('GET', `/exec/${id}/json`);
  return info.ExitCode ?? 0;
}
