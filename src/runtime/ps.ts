// `ps`: the container's processes, as pids (json) or as the host's ps(1) table filtered to them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { systemError } from '../errors.js';
import { openContainer } from './container.js';

/** Every process in the container's cgroups, whatever the init's state (as runc): without a PID namespace, processes can outlive it. */
export function pids(root: string, id: string): number[] {
  return openContainer(root, id).cgroups.pids();
}

export async function ps(root: string, id: string, format: 'table' | 'json', psArgs: string[]): Promise<string> {
  const list = pids(root, id);
  if (format === 'json') return JSON.stringify(list) + '\n';
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  } catch (e) {
    throw systemError(`ps: ${((e as { stderr?: string }).stderr ?? '').trim() || (e as Error).message}`, e);
  }
  const lines = stdout.split('\n');
  const header = lines[0] ?? '';
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw systemError(`ps output has no PID column: ${header}`);
  const set = new Set(list);
  return [header, ...lines.slice(1).filter((l) => set.has(Number(l.trim().split(/\s+/)[col])))].join('\n') + '\n';
}
