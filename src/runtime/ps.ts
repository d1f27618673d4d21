// `ps`: the container's processes, as pids (json) or as the host's ps(1) table filtered to them.
import { spawnSync } from 'node:child_process';
import { systemError } from '../errors.js';
import { openContainer } from './container.js';

export function ps(root: string, id: string, format: 'table' | 'json', psArgs: string[]): string {
  const c = openContainer(root, id);
  // From the cgroup whatever the init's state (as runc): without a PID namespace, processes
  // can outlive the init.
  let pids: number[] = [];
  try { pids = c.cgroups.pids(); } catch { /* the cgroup is gone */ }
  if (format === 'json') return JSON.stringify(pids) + '\n';
  const r = spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
  if (r.status !== 0) throw systemError(`ps: ${r.stderr.trim() || 'failed'}`);
  const lines = r.stdout.split('\n');
  const header = lines[0] ?? '';
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw systemError(`ps output has no PID column: ${header}`);
  const set = new Set(pids);
  return [header, ...lines.slice(1).filter((l) => set.has(Number(l.trim().split(/\s+/)[col])))].join('\n') + '\n';
}
