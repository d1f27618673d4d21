// Progress of pulls and pushes for people: on a terminal, one line per layer redrawn in place
// like Docker's (`a1b2c3d4e5f6: Downloading [=====>     ] 1.2MB/3.4MB`); otherwise plain lines,
// one per change of status (never one per chunk). Only formats; knows nothing of registries.

export interface ProgressEvent {
  id: string;
  status: string;
  current?: number;
  total?: number;
}

export interface ProgressOutput {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n}B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${units[i]}`;
}

export function formatLine(e: ProgressEvent, width = 50): string {
  let s = `${e.id}: ${e.status}`;
  if (e.status.startsWith('Download') || e.status === 'Pushing') {
    if (e.total && e.current !== undefined && e.status !== 'Download complete') {
      const frac = Math.max(0, Math.min(1, e.current / e.total));
      const filled = Math.floor(frac * width);
      const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? (filled === width ? '=' : '>') : '') + ' '.repeat(width - filled);
      s += ` [${bar}] ${formatBytes(e.current)}/${formatBytes(e.total)}`;
    }
  }
  return s;
}

/** Returns a progress handler writing to `out`, and `done()` to call at the end. */
export function progressDisplay(out: ProgressOutput, opts: { minIntervalMs?: number } = {}) {
  const tty = Boolean(out.isTTY);
  const ids: string[] = [];
  const lines = new Map<string, string>();
  const lastStatus = new Map<string, string>();
  const lastDraw = new Map<string, number>();
  const interval = opts.minIntervalMs ?? 100;

  function onProgress(e: ProgressEvent): void {
    if (!tty) {
      if (lastStatus.get(e.id) === e.status) return;
      lastStatus.set(e.id, e.status);
      out.write(`${e.id}: ${e.status}\n`);
      return;
    }
    const now = Date.now();
    const line = formatLine(e, Math.max(10, Math.min(50, (out.columns ?? 80) - 40)));
    const known = lines.has(e.id);
    const statusChanged = lastStatus.get(e.id) !== e.status;
    lastStatus.set(e.id, e.status);
    lines.set(e.id, line);
    if (!known) {
      ids.push(e.id);
      out.write(`${line}\n`);
      lastDraw.set(e.id, now);
      return;
    }
    if (!statusChanged && now - (lastDraw.get(e.id) ?? 0) < interval) return;
    lastDraw.set(e.id, now);
    const up = ids.length - ids.indexOf(e.id);
    // up n lines, clear it, write, back down n lines to the column 0
    out.write(`\x1b[${up}A\r\x1b[2K${line}\r\x1b[${up}B`);
  }

  function done(): void {
    if (!tty) return;
    for (const id of ids) {
      const up = ids.length - ids.indexOf(id);
      out.write(`\x1b[${up}A\r\x1b[2K${lines.get(id)}\r\x1b[${up}B`);
    }
  }

  return { onProgress, done };
}
