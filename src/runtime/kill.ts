// `kill`: a signal to the container's init, or with --all to every process in its cgroup —
// stopped or not, as runc: containerd's shim reaps what a stopped container left (its init gone,
// others sharing a pid namespace still running) with `kill --all`.
import { constants } from 'node:os';
import { conflict } from '../errors.js';
import { openContainer } from './container.js';
import { parseSignal } from './signals.js';

export async function kill(root: string, id: string, signal: string | number = 'SIGTERM', all = false): Promise<void> {
  const c = openContainer(root, id);
  const sig = parseSignal(String(signal));
  if (c.status === 'stopped' && !all) throw conflict('container not running');
  // On cgroup v1 a frozen task does not die of SIGKILL until thawed: a paused container that
  // is killed is thawed after the signal (as runc does), or it would stay paused for ever.
  const thawKilled = c.status === 'paused' && sig === constants.signals.SIGKILL;
  if (!all) {
    process.kill(c.rec.pid, sig);
    if (thawKilled) await c.cgroups.thaw();
    return;
  }
  // Nothing left, or its cgroup already gone: nothing to signal, as runc.
  if (c.status === 'stopped' && c.cgroups.pids().length === 0) return;
  // A frozen cgroup keeps new forks from escaping the loop below; without cgroups (a rootless
  // runtime's where none are delegated) the signal goes out unfrozen, as runc's does there.
  const canFreeze = c.cgroups.layout !== 'none';
  const wasFrozen = c.status === 'paused';
  if (!wasFrozen && canFreeze) await c.cgroups.freeze();
  try {
    for (const pid of c.cgroups.pids()) {
      try {
        process.kill(pid, sig);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; // ESRCH: exited meanwhile
      }
    }
  } finally {
    if (canFreeze && (!wasFrozen || thawKilled)) await c.cgroups.thaw();
  }
}
