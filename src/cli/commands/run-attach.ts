// The attached half of `berth run`, `berth start -a` and `berth attach`: attach and wait are in
// place before the start (no output or exit is missed), output goes to stdout/stderr, stdin to
// the container, signals to the container (--sig-proxy), a terminal's size with it, and the
// container's exit code comes back. A start that fails on its command exits 127 or 126.

import type { ApiClient } from '../../api/client.js';
import { DEFAULT_DETACH_KEYS, DetachMatcher, parseDetachKeys } from '../../api/detach-keys.js';
import { copyStream, rawTerminal } from '../output.js';
import { awaitedLater } from '../../common/promises.js';
import { bestEffort } from '../best-effort.js';

export interface AttachOptions {
  tty: boolean;
  /** Send our stdin to the container. */
  stdin: boolean;
  /** The output streams to take (`run -a`); both unless false. */
  stdout?: boolean;
  stderr?: boolean;
  /** Relay the signals berth gets to the container (docker's default without a terminal). */
  sigProxy: boolean;
  /** Wait for the removal (AutoRemove) rather than the exit. */
  autoRemove: boolean;
  /** POST start once attached (run, start -a); attach alone does not. */
  start: boolean;
  /** `--detach-keys` (default ctrl-p,ctrl-q): with a terminal, they detach us and leave the container running. */
  detachKeys?: string;
}

/** The signals docker's CLI forwards that node lets a process catch. */
const PROXIED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM'];

/** 127 for a missing command, 126 for one that cannot run, as docker; 0 for any other failure. */
export function commandExitCode(message: string): number {
  return /executable file not found|no such file or directory/i.test(message)
    ? 127
    : /permission denied|exec format error/i.test(message)
      ? 126
      : 0;
}

export async function attachAndWait(client: ApiClient, id: string, o: AttachOptions): Promise<number> {
  const path = `/containers/${encodeURIComponent(id)}`;
  const [socket, waitRes] = await Promise.all([
    client.hijack(`${path}/attach`, {
      stream: true,
      stdout: o.stdout !== false,
      stderr: o.stderr !== false,
      stdin: o.stdin || undefined,
      detachKeys: o.detachKeys,
    }),
    client.stream('POST', `${path}/wait`, { query: { condition: o.autoRemove ? 'removed' : 'next-exit' } }),
  ]);
  const waited = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of waitRes) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString()) as { StatusCode: number; Error?: { Message?: string } | null };
  })();
  awaitedLater(waited);
  const output = copyStream(socket, o.tty);
  // With a terminal on both ends, ours is raw: the container's pty does the echo and line editing.
  const raw = o.tty && o.stdin && process.stdin.isTTY;
  const restore = raw ? rawTerminal() : undefined;
  // As docker's CLI: the keys are caught here, so we know we detached (and wait for no exit).
  const matcher = o.stdin && o.tty ? new DetachMatcher(parseDetachKeys(o.detachKeys || DEFAULT_DETACH_KEYS)) : undefined;
  let detached = false;
  const typed = (d: Buffer) => {
    const r = matcher!.push(d);
    if (r.forward.length) socket.write(r.forward);
    if (r.detached) {
      detached = true;
      process.stdin.off('data', typed);
      socket.destroy();
    }
  };
  if (matcher) {
    process.stdin.on('data', typed);
    process.stdin.once('end', () => socket.end());
  } else if (o.stdin) process.stdin.pipe(socket);
  const relay = (sig: NodeJS.Signals) => {
    bestEffort(client.json('POST', `${path}/kill`, { query: { signal: sig } }));
  };
  if (o.sigProxy && !o.tty) for (const s of PROXIED) process.on(s, relay);
  const resize = () => {
    if (process.stdout.isTTY)
      bestEffort(client.json('POST', `${path}/resize`, { query: { h: process.stdout.rows, w: process.stdout.columns } }));
  };
  if (o.tty) process.on('SIGWINCH', resize);
  try {
    if (o.start) {
      try {
        await client.json('POST', `${path}/start`);
      } catch (e) {
        socket.destroy();
        waitRes.destroy();
        const code = commandExitCode(e instanceof Error ? e.message : String(e));
        if (!code) throw e;
        process.stderr.write(`berth: ${(e as Error).message}\n`);
        return code;
      }
    }
    if (o.tty) resize();
    await output;
    if (detached) {
      waitRes.destroy();
      return 0;
    }
    const r = await waited;
    if (r.Error?.Message) process.stderr.write(`berth: ${r.Error.Message}\n`);
    return r.StatusCode;
  } finally {
    for (const s of PROXIED) process.off(s, relay);
    process.off('SIGWINCH', resize);
    restore?.();
    if (o.stdin) {
      process.stdin.off('data', typed);
      process.stdin.unpipe(socket);
      process.stdin.pause();
    }
  }
}
