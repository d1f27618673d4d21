// `events`: the container's resource usage (--stats once) or a stream of stats and OOM events,
// as runc's JSON lines. The stream waits on timers and ends when the container stops or the
// caller aborts.
import { setTimeout as delay } from 'node:timers/promises';
import type { CgroupStats } from './cgroups/manager.js';
import { openContainer } from './container.js';

export type RuntimeEvent = { type: 'stats'; id: string; data: CgroupStats } | { type: 'oom'; id: string };

export function statsEvent(root: string, id: string): RuntimeEvent {
  return { type: 'stats', id, data: openContainer(root, id).cgroups.stats() };
}

/** A stats event every `intervalMs`, and an `oom` event when the OOM count rises, until the container stops. */
export async function* stream(root: string, id: string, intervalMs: number, signal?: AbortSignal): AsyncGenerator<RuntimeEvent> {
  let ooms = openContainer(root, id).cgroups.oomKillCount();
  while (!signal?.aborted) {
    const c = openContainer(root, id);
    if (c.status === 'stopped') return;
    const n = c.cgroups.oomKillCount();
    if (n > ooms) yield { type: 'oom', id };
    ooms = n;
    yield { type: 'stats', id, data: c.cgroups.stats() };
    try {
      await delay(intervalMs, undefined, { signal });
    } catch (e) {
      if ((e as Error).name === 'AbortError') return;
      throw e;
    }
  }
}
