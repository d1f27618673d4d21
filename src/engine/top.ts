// `docker top`: the host's ps(1) run with the caller's ps_args, its lines kept for the
// container's pids (from its cgroup), split into Titles and Processes. This is what dockerd
// does, and it is why berthd calls ps rather than reading /proc itself: every ps_args a
// Docker user knows (`aux`, `-o pid,comm`, `-eLf`) keeps its meaning, column for column.

import { execFile } from 'node:child_process';
import { invalid, systemError } from '../errors.js';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/** ps's table → the rows whose PID column is one of `pids`; the last column keeps its spaces (CMD). */
export function parsePs(output: string, pids: number[]): TopResult {
  const lines = output.split('\n').filter((l) => l.trim());
  const Titles = (lines[0] ?? '').trim().split(/\s+/);
  const col = Titles.indexOf('PID');
  if (col < 0) throw systemError(`Couldn't find PID field in ps output`);
  const want = new Set(pids);
  const Processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (!want.has(Number(fields[col]))) continue;
    Processes.push(
      fields.length > Titles.length ? [...fields.slice(0, Titles.length - 1), fields.slice(Titles.length - 1).join(' ')] : fields,
    );
  }
  return { Titles, Processes };
}

export async function top(pids: number[], psArgs = '-ef'): Promise<TopResult> {
  const args = psArgs.split(/\s+/).filter(Boolean);
  if (args.some((a) => a.includes('\0'))) throw invalid('ps_args: NUL refused');
  const out = await new Promise<string>((resolve, reject) => {
    execFile('ps', args, { maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      // As dockerd: the first line of ps's stderr says why it failed.
      const why = stderr.split('\n')[0].trim();
      if (err) reject(systemError(why ? `ps: ${why}` : `Error running ps: ${err.message}`));
      else resolve(stdout);
    });
  });
  return parsePs(out, pids);
}
