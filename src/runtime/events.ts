// `events`: the container's resource usage (--stats once) or a stream of stats and OOM events.
import { openContainer } from './container.js';

function statsEvent(root: string, id: string): { type: string; id: string; data: unknown } {
  return { type: 'stats', id, data: openContainer(root, id).cgroups.stats() };
}

export function statsOnce(root: string, id: string): string {
  return JSON.stringify(statsEvent(root, id)) + '\n';
}

/** Prints a stats event every `intervalMs` and an `oom` event when the OOM count rises, until the container stops. */
export async function stream(root: string, id: string, intervalMs: number, write: (line: string) => void): Promise<void> {
  let ooms = openContainer(root, id).cgroups.oomKillCount();
  for (;;) {
    const c = openContainer(root, id);
    if (c.status === 'stopped') return;
    const n = c.cgroups.oomKillCount();
    if (n > ooms) write(JSON.stringify({ type: 'oom', id }) + '\n');
    ooms = n;
    write(JSON.stringify(statsEvent(root, id)) + '\n');
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
