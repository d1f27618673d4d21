// `berth exec`: create an exec instance, start it on a hijacked connection (or detached with
// -d), relay its output and stdin, and exit with its exit code, as `docker exec` drives the API.

import type { ApiClient } from '../../api/client.js';
import { bestEffort } from '../best-effort.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { envVar } from '../flag-values.js';
import { readKeyValueFile } from '../kv-file.js';
import { copyStream, rawTerminal, terminalSize } from '../output.js';

const EXEC: CommandSpec = {
  path: 'exec',
  use: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  about: 'Execute a command in a running container',
  aliases: ['berth container exec', 'berth exec'],
  args: { min: 2 },
  stopAtOperand: true,
  flags: {
    detach: { short: 'd', type: 'bool', desc: 'Detached mode: run the command in the background' },
    'detach-keys': { type: 'string', desc: 'Override the key sequence for detaching from the container' },
    env: {
      short: 'e',
      type: 'list',
      desc: 'Set environment variables',
      check: (s) => {
        envVar(s);
      },
    },
    'env-file': { type: 'list', desc: 'Read environment variables from a file' },
    interactive: { short: 'i', type: 'bool', desc: 'Keep STDIN open even when not attached' },
    privileged: { type: 'bool', desc: 'Give extended privileges to the command' },
    tty: { short: 't', type: 'bool', desc: 'Allocate a pseudo-TTY' },
    user: { short: 'u', type: 'string', desc: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    workdir: { short: 'w', type: 'string', desc: 'Working directory inside the container' },
  },
};

export async function exec(client: ApiClient, argv: string[]): Promise<number> {
  const { flags: f, args } = parseCommand(EXEC, argv);
  const [container, ...cmd] = args;
  const detach = !!f.detach,
    tty = !!f.tty,
    stdin = !!f.interactive && !detach;
  const fromFiles = ((f['env-file'] as string[] | undefined) ?? []).flatMap((p) => readKeyValueFile(p, (k) => process.env[k]));
  const given = ((f.env as string[] | undefined) ?? []).map((e) =>
    e.includes('=') ? e : process.env[e] !== undefined ? `${e}=${process.env[e]}` : e,
  );
  const env = fromFiles.length || given.length ? [...fromFiles, ...given] : undefined;
  const { Id: id } = await client.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(container)}/exec`, {
    body: {
      Cmd: cmd,
      Env: env,
      User: f.user as string | undefined,
      WorkingDir: f.workdir as string | undefined,
      Tty: tty,
      Privileged: !!f.privileged,
      DetachKeys: f['detach-keys'] as string | undefined,
      AttachStdin: stdin,
      AttachStdout: !detach,
      AttachStderr: !detach,
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
