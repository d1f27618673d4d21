// Taking a container apart, by one path: the runtime container deleted and the network
// endpoints taken down when its process ends (exit, or a start that failed), and, for `rm`
// and for a create that failed halfway, its snapshot, record and (anonymous) volumes too.
// Whoever meets a half-made container calls these, never code of its own.

import { join } from 'node:path';
import { BerthError, errorMessage } from '../../errors.js';
import { unmountShm } from '../linux-options.js';
import { imageMountKeys, releaseVolumes } from '../mounts.js';
import type { ContainerRecord } from '../types.js';
import type { ContainerTable, Live } from './table.js';

/**
 * Deletes the runtime's container; one already gone is no error. `strict`: another failure
 * throws (a remove keeps the record to try again), else it is logged.
 */
export async function deleteRuntime(t: ContainerTable, id: string, strict: boolean): Promise<void> {
  try {
    await t.runtime.delete(id, { force: true });
  } catch (e) {
    if (e instanceof BerthError && e.kind === 'not-found') return;
    if (strict) throw e;
    t.log('warn', `delete runtime container ${id.slice(0, 12)}: ${errorMessage(e)}`);
  }
}

/** After the process ended: the runtime container and the network endpoints go; failures are logged. */
export async function releaseRuntime(t: ContainerTable, rec: ContainerRecord): Promise<void> {
  await deleteRuntime(t, rec.Id, false);
  await detachNetworks(t, rec);
}

async function detachNetworks(t: ContainerTable, rec: ContainerRecord): Promise<void> {
  await t.networks.detach(rec).catch((e) => t.log('warn', `network of ${rec.Id.slice(0, 12)}: ${errorMessage(e)}`));
}

/**
 * Takes apart a container that does not run: runtime container, endpoints, snapshot, record.
 * `volumes`: its anonymous volumes go too. `announce`: it was created, so its end is logged and
 * is Docker's `destroy` event; a create that failed announces nothing. Throws, keeping the
 * record, when the runtime container or the snapshot cannot go.
 */
export async function takeApart(t: ContainerTable, live: Live, opts: { volumes: boolean; announce: boolean }): Promise<void> {
  const rec = live.rec;
  await deleteRuntime(t, rec.Id, true);
  await detachNetworks(t, rec);
  await t.opts.snapshots.remove(rec.Id);
  for (const key of imageMountKeys(rec.Id, rec.MountPoints ?? [])) await t.opts.snapshots.remove(key);
  unmountShm(join(t.store.dir(rec.Id), 'shm'));
  await forget(t, live, opts);
}

/** The record goes from the table and the disk, with its volumes if asked; waiters wake. */
export async function forget(t: ContainerTable, live: Live, opts: { volumes: boolean; announce: boolean }): Promise<void> {
  const rec = live.rec;
  live.health?.stop();
  await t.store.remove(rec.Id);
  t.byId.delete(rec.Id);
  if (opts.volumes) await releaseVolumes(rec.MountPoints ?? [], t.volumes, (m) => t.log('warn', m));
  if (opts.announce) {
    t.log('info', `removed container ${rec.Id.slice(0, 12)}`);
    t.emitFor(rec, 'destroy');
  }
  for (const w of live.removed.splice(0)) w();
  t.exitedNow(live);
}
