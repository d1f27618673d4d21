// Output helpers of the CLI: aligned tables as docker prints them, human sizes and durations,
// and a container's multiplexed stream split back onto stdout and stderr.

import { FrameReader } from '../api/stdcopy.js';

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd()).join('\n') + '\n';
}

export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i ? n.toPrecision(3).replace(/\.0+$/, '') : n}${units[i]}`;
}

export function humanAgo(unixSeconds: number): string {
  const s = Math.max(0, Date.now() / 1000 - unixSeconds);
  if (s < 1) return 'Less than a second ago';
  if (s < 60) return `${Math.floor(s)} seconds ago`;
  if (s < 3600) return `${Math.floor(s / 60)} minutes ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} hours ago`;
  return `${Math.floor(s / 86400)} days ago`;
}

/** Copies a container stream to stdout/stderr: split by frames, or as is with a terminal. */
export function copyStream(source: NodeJS.ReadableStream, tty: boolean): Promise<void> {
  const reader = new FrameReader((stream, data) => (stream === 2 ? process.stderr : process.stdout).write(data));
  return new Promise((resolve) => {
    source.on('data', (d: Buffer) => (tty ? process.stdout.write(d) : reader.push(d)));
    source.on('end', () => resolve());
    source.on('close', () => resolve());
    source.on('error', () => resolve());
  });
}
