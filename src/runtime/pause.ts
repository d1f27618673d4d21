// `pause` and `resume`: freeze and thaw the container's cgroup.
import { conflict } from '../errors.js';
import { openContainer } from './container.js';

export async function pause(root: string, id: string): Promise<void> {
  const c = openContainer(root, id);
  if (c.status !== 'running' && c.status !== 'created') throw conflict('container not running'); // runc's words
  await c.cgroups.freeze();
}

export async function resume(root: string, id: string): Promise<void> {
  const c = openContainer(root, id);
  if (c.status !== 'paused') throw conflict('container not paused');
  await c.cgroups.thaw();
}
