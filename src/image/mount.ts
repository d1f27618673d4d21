// Mounting overlay file systems for snapshots.
//
// TODO(native): TEMPORARY STOPGAP. Node has no mount(2)/umount2(2); the native binding (owned
// by `native/`, see DESIGN.md "Native code") will replace these. Until then they spawn
// util-linux `mount`/`umount`. `mount` runs with `cwd` set so that long lowerdir lists can use
// short relative paths (the kernel limits the option string to one page).

import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { systemError } from '../errors.js';

function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', (e) => reject(systemError(`${cmd}: ${e.message}`, e)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(systemError(`${cmd} ${args.join(' ')}: ${err.trim() || `exit ${code}`}`))));
  });
}

/** Mounts an overlay at `target`; `lower` is listed top first, paths relative to `cwd`. */
export async function mountOverlay(target: string, lower: string[], upper: string | undefined, work: string | undefined, cwd: string): Promise<void> {
  const opts = [`lowerdir=${lower.join(':')}`];
  if (upper && work) opts.push(`upperdir=${upper}`, `workdir=${work}`);
  await run('mount', ['-t', 'overlay', 'overlay', '-o', opts.join(','), target], cwd);
}

export async function unmount(target: string): Promise<void> {
  await run('umount', [target]);
}

/** Mount points at or under `dir`, deepest first (from /proc/self/mountinfo). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const line of info.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const mp = f[4].replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
    if (mp === dir || mp.startsWith(`${dir}/`)) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}
