// Output helpers of the CLI: aligned tables as docker prints them, human sizes and durations,
// and a container's multiplexed stream split back onto stdout and stderr.

import { createRequire } from 'node:module';
import { FrameReader } from '../api/stdcopy.js';
import { alignColumns } from './template.js';

/** Rows as docker's tabwriter aligns them (padding 3, minimum width 10 unless given: top's is 20). */
export function table(rows: string[][], minWidth = 10): string {
  return alignColumns(
    rows.map((r) => r.join('\t')),
    minWidth,
  );
}

/** Decimal units, as docker's units.HumanSizeWithPrecision(n, digits) (HumanSize: 4 digits). */
export function humanSize(n: number, digits = 3): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(digits))}${units[i]}`;
}

/** docker's units.HumanDuration. */
export function humanDuration(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(seconds / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.floor(seconds / 3600 + 0.5);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(seconds / 3600 / 24 / 365)} years`;
}

/** "5 minutes ago", from a Unix time in seconds. */
export function humanAgo(unixSeconds: number): string {
  return `${humanDuration(Math.max(0, Date.now() / 1000 - unixSeconds))} ago`;
}

/** Go's time.String() of a Unix time, in UTC: `2006-01-02 15:04:05 +0000 UTC`. */
export function goTime(unixSeconds: number): string {
  return `${new Date(unixSeconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')} +0000 UTC`;
}

/** docker's Ellipsis: at most `max` characters, the last one `…` when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
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

/** Our terminal's [rows, columns] when stdout is one (the API's ConsoleSize), else undefined. */
export function terminalSize(): [number, number] | undefined {
  return process.stdout.isTTY && process.stdout.rows && process.stdout.columns ? [process.stdout.rows, process.stdout.columns] : undefined;
}

/**
 * Puts our terminal in raw mode for a container's terminal, as docker's CLI does; returns the
 * restore. Node's raw mode keeps output's ONLCR, which would turn the container's "\r\n" into
 * "\r\r\n" and every bare "\n" of a full-screen program into a carriage return too, so output
 * processing goes off as well (stty, on the same terminal; setRawMode(false) restores it).
 */
export function rawTerminal(): () => void {
  process.stdin.setRawMode(true);
  if (process.stdout.isTTY) {
    // By require: the bundle runs as a vm script, without an import() loader (bin/berth.cjs).
    const { spawnSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
    spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
  }
  return () => process.stdin.setRawMode(false);
}
