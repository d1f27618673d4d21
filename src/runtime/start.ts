// `start`: open the exec fifo, which lets the container's process exec; then poststart hooks.
import { closeSync, constants, existsSync, openSync, readSync, rmSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { conflict, systemError } from '../errors.js';
import { openContainer } from './container.js';
import { runPoststart } from './create.js';
import type { RuntimeLogger } from './log.js';
import { alive } from './state.js';

export async function start(root: string, id: string, log: RuntimeLogger): Promise<void> {
  const c = openContainer(root, id);
  if (c.status === 'stopped') throw conflict('cannot start a container that has stopped');
  if (c.status === 'paused') throw conflict('cannot start a container in the paused state');
  if (c.status !== 'created') throw conflict('cannot start an already running container');
  const fifo = c.dirs.fifo(id);
  // Non-blocking: an init that died after create must not hang us on open or read; and the
  // waits between reads are timers, so berthd goes on serving while the init comes to it.
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(1);
    for (let i = 0; ; i++) {
      try {
        if (readSync(fd, buf, 0, 1, null) === 1) break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
      if (!alive(c.rec)) throw systemError('cannot start a container whose process has exited');
      // Another start read the byte and removed the fifo (no lock is taken): it started the container.
      if (!existsSync(fifo)) throw conflict('cannot start an already running container');
      await delay(i < 100 ? 1 : 10);
    }
  } finally {
    closeSync(fd);
  }
  rmSync(fifo, { force: true });
  await runPoststart(c.rec, log);
}
