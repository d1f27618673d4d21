// `pause` and `resume`: freeze and thaw the container's cgroup.
import { conflict } from '../errors.js';
import { openContainer } from './container.js';

export function pause(root: string, id: string): void {
  const c = openContainer(root, id);
  if (c.status !== 'running' && c.status !== 'created') throw conflict(`container not running or created: ${c.status}`);
  c.cgroups.freeze();
}

export function resume(root: string, id: string): void {
  const c = openContainer(root, id);
  if (c.status !== 'paused') throw conflict('container not paused');
  c.cgroups.thaw();
}
