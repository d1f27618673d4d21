// Reading a container's json-file log (written by its monitor, rotated as `log.N` … `log.1`,
// `log`): every entry in order, the last `tail`, and with `follow` new entries as they come
// until the container has stopped and its monitor has written its last line.

import { existsSync, watch } from 'node:fs';
import { open, readFile } from 'node:fs/promises';

export interface LogEntry { stream: 'stdout' | 'stderr'; log: string; time: string }

export interface LogOptions {
  /** Keep only the last `tail` entries of what is there now (negative or undefined: all). */
  tail?: number;
  follow?: boolean;
  /** Unix seconds; entries before/after are skipped. */
  since?: number;
  until?: number;
  /** With follow: true while more may come (the monitor still runs). */
  live?: () => boolean;
  signal?: AbortSignal;
}

function parseLines(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try { out.push(JSON.parse(line) as LogEntry); } catch { /* a torn last line */ }
  }
  return out;
}

export async function* readLog(path: string, opts: LogOptions = {}): AsyncGenerator<LogEntry> {
  const keep = (e: LogEntry) => {
    const t = Date.parse(e.time) / 1000;
    return (opts.since === undefined || t >= opts.since) && (opts.until === undefined || !opts.until || t <= opts.until);
  };
  const files: string[] = [];
  for (let i = 1; existsSync(`${path}.${i}`); i++) files.unshift(`${path}.${i}`);
  let entries: LogEntry[] = [];
  for (const f of files) entries.push(...parseLines(await readFile(f, 'utf8').catch(() => '')));
  // The current file is read through a handle so that following continues from where it ended.
  const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined; // no output yet
    throw e;
  });
  let offset = 0, rest = '';
  const readMore = async (): Promise<LogEntry[]> => {
    if (!fh) return [];
    const buf = Buffer.alloc(64 * 1024);
    let text = rest;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (!bytesRead) break;
      offset += bytesRead;
      text += buf.subarray(0, bytesRead).toString('utf8');
    }
    const cut = text.lastIndexOf('\n') + 1;
    rest = text.slice(cut);
    return parseLines(text.slice(0, cut));
  };
  try {
    entries.push(...await readMore());
    if (opts.tail !== undefined && opts.tail >= 0) entries = opts.tail === 0 ? [] : entries.slice(-opts.tail);
    for (const e of entries) if (keep(e)) yield e;
    if (!opts.follow || !fh) return;
    // Woken by inotify on the file; a timer as well, since rotation replaces the file.
    let wake: (() => void) | undefined;
    const watcher = watch(path, () => wake?.());
    try {
      for (;;) {
        const more = await readMore();
        for (const e of more) if (keep(e)) yield e;
        if (more.length) continue;
        if (opts.signal?.aborted) return;
        if (!opts.live?.()) {
          // One last read: the monitor may have written between the read and the check.
          for (const e of await readMore()) if (keep(e)) yield e;
          return;
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 250);
          wake = () => { clearTimeout(t); resolve(); };
          opts.signal?.addEventListener('abort', wake, { once: true });
        });
        wake = undefined;
      }
    } finally {
      watcher.close();
    }
  } finally {
    await fh?.close();
  }
}
