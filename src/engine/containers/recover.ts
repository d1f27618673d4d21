// Recovery at adoption: what a berthd killed in the middle of an operation left is finished or
// rolled back before a user meets it. A container a commit froze is thawed; runtime containers
// (state, cgroups, processes) and snapshots that no running record owns are taken apart, so
// every container `ps -a` shows can be started or removed and nothing is left without an owner.
// Each step is logged; a failure is logged with its container and the others go on.

import { BerthError, errorMessage } from '../../errors.js';
import { snapshotOwner } from '../mounts.js';
import type { ContainerTable, Live } from './table.js';

/** Runs once, after the records are loaded and before berthd serves (Containers.open); never rejects. */
export async function recover(t: ContainerTable): Promise<void> {
  await step(t, 'thaw', () => thawFrozen(t));
  await step(t, 'runtime leftovers', () => deleteUnowned(t));
  await step(t, 'snapshot leftovers', () => removeSnapshots(t));
}

async function step(t: ContainerTable, what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    t.log('error', `recovery (${what}): ${errorMessage(e)}`);
  }
}

const notFound = (e: unknown) => e instanceof BerthError && e.kind === 'not-found';

/**
 * A record that says running whose cgroup is frozen: berthd froze it for a commit (or export)
 * and ended before it thawed it. A user's pause is recorded as `paused` and stays.
 */
async function thawFrozen(t: ContainerTable): Promise<void> {
  for (const live of [...t.byId.values()]) {
    if (live.rec.State.Status !== 'running') continue;
    await t.serial(live, async () => {
      const id = live.rec.Id;
      if (live.rec.State.Status !== 'running') return;
      try {
        if ((await t.runtime.state(id)).status !== 'paused') return;
        await t.runtime.resume(id);
        t.log('warn', `container ${id.slice(0, 12)} was left frozen by a berthd that ended mid-operation: thawed`);
      } catch (e) {
        if (!notFound(e)) t.log('error', `thaw ${id.slice(0, 12)}: ${errorMessage(e)}`);
      }
    });
  }
}

/** Whether the record's runtime container is meant to exist now. */
const ownsRuntime = (live: Live | undefined) =>
  live !== undefined && (live.rec.State.Status === 'running' || live.rec.State.Status === 'paused');

/**
 * Runtime containers no running record owns: one whose record is gone (killed mid-remove),
 * or whose record never got to `running` (killed mid-start: its cgroups, its waiting init and
 * its state would block the next start). Each is checked again in its container's queue, so a
 * start under way now is not undone.
 */
async function deleteUnowned(t: ContainerTable): Promise<void> {
  for (const id of await t.runtime.list()) {
    const live = t.byId.get(id);
    if (ownsRuntime(live)) continue;
    const drop = async () => {
      if (ownsRuntime(t.byId.get(id))) return;
      await t.runtime.delete(id, { force: true });
      t.log('warn', `runtime container ${id.slice(0, 12)} left without an owner by an earlier berthd: deleted`);
    };
    try {
      await (live ? t.serial(live, drop) : drop());
    } catch (e) {
      t.log('error', `delete runtime container ${id.slice(0, 12)}: ${errorMessage(e)}`);
    }
  }
}

/** Snapshots (a root, or an image mount's view) whose container record is gone (killed mid-create or mid-remove). */
async function removeSnapshots(t: ContainerTable): Promise<void> {
  for (const key of await t.opts.snapshots.list()) {
    if (t.byId.has(snapshotOwner(key))) continue;
    try {
      await t.opts.snapshots.remove(key);
      t.log('warn', `snapshot ${key.slice(0, 12)} left without a container by an earlier berthd: removed`);
    } catch (e) {
      t.log('error', `remove snapshot ${key.slice(0, 12)}: ${errorMessage(e)}`);
    }
  }
}
