// Exits and adoption. A container's exit is learnt from the monitor's exit file (inotify on its
// folder), so berthd holds no process of the container's and may restart without harm: a new
// berthd adopts what runs and records what ended. An exit is recorded, the runtime side taken
// apart, the container's hold on its volumes let go, and the restart policy applied; never
// blocks on the container.

import { existsSync, readFileSync, watch } from 'node:fs';
import { writeFileAtomic } from '../../common/atomic.js';
import { BerthError, errorMessage } from '../../errors.js';
import { ZERO_TIME } from '../types.js';
import { RestartManager } from './restart.js';
import { scheduleRestart, startHealth, stopHealth } from './supervise.js';
import type { ContainerTable, Live } from './table.js';
import { releaseRuntime } from './teardown.js';
import { streamsClosed } from './attach.js';
import { imageMountKeys, releaseHeldVolumes } from '../mounts.js';

/**
 * Loads the records (berthd's start, or first use) and adopts the containers: those still
 * under their monitors are watched again, those that ended while berthd was down are
 * recorded, and the restart policies apply to them, to containers that were waiting to
 * restart, and to stopped `always` (and not manually stopped `unless-stopped`) ones, as dockerd's.
 */
export function adopt(t: ContainerTable): void {
  for (const rec of t.store.loadAll()) t.byId.set(rec.Id, t.live(rec, new RestartManager(rec.RestartCount)));
  // Running containers hold their volumes with options still (dockerd's LiveRestoreVolume), before any exit is recorded.
  const holds = new Map<string, string[]>();
  for (const { rec } of t.byId.values())
    if (rec.State.Status === 'running' || rec.State.Status === 'paused')
      for (const m of rec.MountPoints ?? []) if (m.Type === 'volume' && m.Name) holds.set(m.Name, [...(holds.get(m.Name) ?? []), rec.Id]);
  t.volumes.adopt(holds).catch((e: unknown) => t.log('error', `adopt the mounts of volumes with options: ${errorMessage(e)}`));
  for (const live of t.byId.values()) {
    const rec = live.rec;
    if (rec.State.Status === 'running' || rec.State.Status === 'paused') {
      watchExit(t, live);
      void monitorAlive(t, rec.Id).then(
        (alive) => {
          if (alive) return;
          // No process and no exit file: the monitor may be writing it this instant; if it has
          // not within a second, it is gone without a word (the machine restarted) and the
          // container died with it.
          setTimeout(() => {
            if (t.byId.get(rec.Id) !== live || live.rec.State.Status === 'exited' || existsSync(t.store.exitPath(rec.Id))) return;
            writeFileAtomic(t.store.exitPath(rec.Id), JSON.stringify({ exitCode: 255, finishedAt: new Date().toISOString() })).catch((e) =>
              t.log('error', `record the lost exit of ${rec.Id.slice(0, 12)}: ${errorMessage(e)}`),
            );
          }, 1000).unref();
        },
        (e) => t.log('error', `adopt ${rec.Id.slice(0, 12)}: ${errorMessage(e)}`),
      );
      // (The exit may have been recorded just now.)
      if (t.isRunning(live)) startHealth(t, live, false);
    } else if (rec.State.Status === 'restarting') {
      scheduleRestart(t, live, 0);
    } else if (
      rec.State.Status === 'exited' &&
      rec.State.FinishedAt !== ZERO_TIME &&
      !rec.HostConfig.AutoRemove &&
      new RestartManager().next(rec.HostConfig.RestartPolicy, rec.State.ExitCode, !!rec.HasBeenManuallyStopped, 0) !== undefined
    ) {
      void t.lifecycle.start(rec.Id).catch((e) => t.log('warn', `restart ${rec.Id.slice(0, 12)} at adoption: ${errorMessage(e)}`));
    }
  }
}

/** Whether the container's process (or its exit file) is still there to learn its end from. */
async function monitorAlive(t: ContainerTable, id: string): Promise<boolean> {
  if (existsSync(t.store.exitPath(id))) return true;
  try {
    return (await t.runtime.state(id)).status !== 'stopped';
  } catch (e) {
    if (e instanceof BerthError && e.kind === 'not-found') return false; // no runtime state left (an exec-root on tmpfs after a reboot)
    throw e;
  }
}

/** Watches the container's folder for the monitor's exit file. */
export function watchExit(t: ContainerTable, live: Live): void {
  if (live.watcher) return;
  const id = live.rec.Id;
  try {
    live.watcher = watch(t.store.dir(id), (_ev, file) => {
      if (file === 'exit.json' && existsSync(t.store.exitPath(id))) void onExit(t, live);
    });
  } catch (e) {
    t.log('warn', `watch ${id}: ${errorMessage(e)}`);
  }
  if (existsSync(t.store.exitPath(id))) void onExit(t, live);
}

export function unwatchExit(live: Live): void {
  live.watcher?.close();
  live.watcher = undefined;
}

/** The monitor recorded the exit: record it, take the runtime container apart, wake waiters. */
export async function onExit(t: ContainerTable, live: Live): Promise<void> {
  // After whatever else is under way on the container; a remove that follows (`wait` then
  // `rm`) waits for the exit to be recorded and taken apart.
  // (Called unawaited from watchers: it logs rather than rejects.)
  try {
    if (await t.serial(live, () => recordExit(t, live))) await t.lifecycle.remove(live.rec.Id, { force: true, volumes: true });
  } catch (e) {
    t.log('error', `exit of ${live.rec.Id.slice(0, 12)}: ${errorMessage(e)}`);
  }
}

/** Records the exit, takes the runtime container apart, applies the restart policy; true when AutoRemove is due. */
async function recordExit(t: ContainerTable, live: Live): Promise<boolean> {
  const rec = live.rec;
  if (!t.byId.has(rec.Id) || (rec.State.Status !== 'running' && rec.State.Status !== 'paused')) return false;
  let exit: { exitCode: number; finishedAt: string };
  try {
    exit = JSON.parse(readFileSync(t.store.exitPath(rec.Id), 'utf8'));
  } catch {
    return false; // not complete yet: the rename will come
  }
  unwatchExit(live);
  stopHealth(live);
  await streamsClosed(live);
  const oom = await oomKilled(t, rec.Id);
  const ranMs = Date.parse(exit.finishedAt) - Date.parse(rec.State.StartedAt);
  const delay = live.restart.next(rec.HostConfig.RestartPolicy, exit.exitCode, !!rec.HasBeenManuallyStopped, ranMs);
  // Running to restarting (or exited) in one step, as dockerd's SetRestarting: a prune or a
  // `ps --filter status=exited` while the runtime is released never sees an exited container
  // that is about to start again (a prune removed one).
  const status = delay === undefined ? 'exited' : 'restarting';
  rec.State = { ...rec.State, Status: status, Pid: 0, ExitCode: exit.exitCode, FinishedAt: exit.finishedAt, OOMKilled: oom };
  if (delay !== undefined) rec.RestartCount++;
  // Told as dockerd tells them: die, then the networks' disconnects and the volumes' unmounts as they are released.
  if (rec.State.OOMKilled) t.emitFor(rec, 'oom');
  t.emitFor(rec, 'die', {
    exitCode: String(exit.exitCode),
    execDuration: String(Math.max(0, Math.round((Date.parse(exit.finishedAt) - Date.parse(rec.State.StartedAt)) / 1000))),
  });
  await releaseRuntime(t, rec);
  t.volumeEvents(rec, 'unmount');
  await releaseHeldVolumes(rec.MountPoints ?? [], t.volumes, rec.Id, (m) => t.log('warn', m));
  for (const key of [rec.Id, ...imageMountKeys(rec.Id, rec.MountPoints ?? [])])
    await t.opts.snapshots.unmount(key).catch((e) => t.log('warn', `unmount ${key}: ${errorMessage(e)}`));
  await t.save(live);
  t.log('info', `container ${rec.Id.slice(0, 12)} exited with ${exit.exitCode}${delay === undefined ? '' : `: restarting in ${delay} ms`}`);
  t.exitedNow(live);
  // (A stop or kill meanwhile, which takes no turn, cancelled the restart: the state says so.)
  if (delay !== undefined && rec.State.Status === 'restarting') scheduleRestart(t, live, delay);
  return delay === undefined && !!rec.HostConfig.AutoRemove;
}

/** Whether the kernel's OOM killer killed a process of the container (read before delete removes its cgroup). */
async function oomKilled(t: ContainerTable, id: string): Promise<boolean> {
  try {
    return ((await t.runtime.stats(id)).oomKills ?? 0) > 0;
  } catch (e) {
    if (!(e instanceof BerthError && e.kind === 'not-found')) t.log('warn', `OOM count of ${id.slice(0, 12)}: ${errorMessage(e)}`);
    return false;
  }
}
