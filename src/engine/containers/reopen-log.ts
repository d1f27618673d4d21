// Reopening a running container's log at its path, for kubelet's rotation of CRI logs (it
// renames the file, then asks through ReopenContainerLog): the container's monitor, its init's
// parent, reopens on SIGUSR1. The parent is checked to be a monitor first: SIGUSR1 ends a
// process that does not handle it.

import { readFile } from 'node:fs/promises';
import { conflict } from '../../errors.js';

export async function reopenLog(id: string, initPid: number): Promise<void> {
  const status = await readFile(`/proc/${initPid}/status`, 'utf8');
  const ppid = Number(/^PPid:\s*(\d+)$/m.exec(status)?.[1]);
  const argv = (await readFile(`/proc/${ppid}/cmdline`, 'utf8')).split('\0');
  if (argv[1] !== 'monitor')
    throw conflict(`container ${id}: its monitor is not its process's parent (pid ${ppid}); the log cannot be reopened`);
  process.kill(ppid, 'SIGUSR1');
}
