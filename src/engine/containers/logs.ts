// Reading a container's json-file log (written by its monitor, rotated as `log.N` … `log.1`,
// `log`) incrementally, whatever its size: entries stream from the files in order in chunks of
// 64 KiB, `tail` finds where the last N lines start by reading blocks backwards from the end
// (through the rotated files when the current one has fewer), and `follow` goes on with new
// entries as they come — across a rotation, which renames the file being read or truncates it
// — until the container has stopped and its monitor has written its last line. Memory stays
// at one chunk and one line, however large the log; `until` stops at the first later entry.

import { watch, type FSWatcher } from 'node:fs';
import { open as openFile, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  log: string;
  time: string;
}

export interface LogOptions {
  /** Keep only the last `tail` entries of what is there now (negative or undefined: all). */
  tail?: number;
  follow?: boolean;
  /** Unix seconds; entries before/after are skipped. */
  since?: number;
  until?: number;
  /** `cri`: the Kubernetes log format the monitor writes for the CRI (`<time> <stream> <P|F> <text>`); default json-file. */
  format?: 'json-file' | 'cri';
  /** With follow: true while more may come (the monitor still runs). */
  live?: () => boolean;
  signal?: AbortSignal;
}

const CHUNK = 64 * 1024;
/** Far more than any line the monitor writes (16 KiB of output, escaped): a longer one is damage, skipped. */
const MAX_LINE = 1 << 20;
const NL = 0x0a;

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** One log file read forward from an offset, in complete lines. */
class LogFile {
  private rest: Buffer[] = [];
  private restLen = 0;
  /** Inside a line longer than MAX_LINE: dropped up to its newline. */
  private skipping = false;
  /** The last complete line read (with its newline) and where it ends, to tell a file rewritten in place. */
  private last?: { line: Buffer; end: number };

  constructor(
    readonly fh: FileHandle,
    public offset: number,
    readonly ino: number,
  ) {}

  static async open(path: string): Promise<LogFile | undefined> {
    let fh: FileHandle;
    try {
      fh = await openFile(path, 'r');
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined;
      throw e;
    }
    return new LogFile(fh, 0, (await fh.stat()).ino);
  }

  /** The complete lines of the next chunk; undefined at the end of what the file holds now. */
  async next(): Promise<Buffer[] | undefined> {
    const { bytesRead, buffer } = await this.fh.read(Buffer.allocUnsafe(CHUNK), 0, CHUNK, this.offset);
    if (!bytesRead) return undefined;
    const at = this.offset;
    this.offset += bytesRead;
    const data = buffer.subarray(0, bytesRead);
    const lines: Buffer[] = [];
    let start = 0;
    let lastEnd = -1;
    for (let i = data.indexOf(NL); i !== -1; i = data.indexOf(NL, start)) {
      if (this.skipping) this.skipping = false;
      else {
        lines.push(this.restLen ? Buffer.concat([...this.rest, data.subarray(start, i)]) : data.subarray(start, i));
        lastEnd = at + i + 1;
      }
      this.rest = [];
      this.restLen = 0;
      start = i + 1;
    }
    if (lastEnd >= 0) this.last = { line: Buffer.concat([lines[lines.length - 1], Buffer.from('\n')]), end: lastEnd };
    if (start < data.length && !this.skipping) {
      this.rest.push(data.subarray(start));
      this.restLen += data.length - start;
      if (this.restLen > MAX_LINE) {
        this.rest = [];
        this.restLen = 0;
        this.skipping = true;
      }
    }
    return lines;
  }

  /** Reads from the start again (the monitor truncated the file in place). */
  restart(): void {
    this.offset = 0;
    this.rest = [];
    this.restLen = 0;
    this.skipping = false;
    this.last = undefined;
  }

  /**
   * Whether the file was truncated and written again since it was read: shorter than what was
   * read, or the last line read is no longer where it was (its timestamp has nanoseconds, so
   * a new line in its place differs even when the output is the same).
   */
  async rewritten(): Promise<boolean> {
    if ((await this.fh.stat()).size < this.offset) return true;
    if (!this.last) return false;
    const { line, end } = this.last;
    const { bytesRead, buffer } = await this.fh.read(Buffer.alloc(line.length), 0, line.length, end - line.length);
    return bytesRead !== line.length || !buffer.equals(line);
  }

  /**
   * Moves to where the last `n` complete lines before the end start, reading blocks backwards.
   * Returns how many complete lines that is (fewer than `n` when the file has fewer).
   */
  async seekTail(n: number): Promise<number> {
    const size = (await this.fh.stat()).size;
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = size;
    let end = -1; // just after the last newline: a partial line after it is not counted
    let count = 0;
    while (pos > 0) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const { bytesRead } = await this.fh.read(buf, 0, len, pos);
      for (let i = bytesRead - 1; i >= 0; i--) {
        if (buf[i] !== NL) continue;
        if (end < 0) {
          end = pos + i + 1;
          continue;
        }
        if (++count === n) {
          this.offset = pos + i + 1;
          return n;
        }
      }
    }
    this.offset = 0;
    return end < 0 ? 0 : count + 1;
  }
}

/**
 * An entry's time as Unix seconds, its nanoseconds kept as far as a double holds them: built
 * from the same decimal text the API's `since`/`until` (`1733500000.123456789`) are parsed
 * from, so an entry at exactly `since` is kept.
 */
export function secondsOf(time: string): number {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(time);
  if (!m) return Date.parse(time) / 1000;
  const whole = Date.parse(`${m[1]}Z`) / 1000;
  return m[2] ? Number(`${whole}.${m[2]}`) : whole;
}

function parse(line: Buffer): LogEntry | undefined {
  if (!line.length) return undefined;
  try {
    return JSON.parse(line.toString('utf8')) as LogEntry;
  } catch {
    return undefined; // a torn line (the monitor killed mid-write): not an entry
  }
}

const CRI_LINE = /^(\S+) (stdout|stderr) ([PF]) (.*)\n?$/s;

/** A CRI log line: a partial one (P) is its text alone, the full one (F) that ends it gets the newline. */
export function parseCri(line: Buffer): LogEntry | undefined {
  const m = CRI_LINE.exec(line.toString('utf8'));
  if (!m) return undefined; // torn, as parse's
  return { time: m[1], stream: m[2] as LogEntry['stream'], log: m[3] === 'F' ? `${m[4]}\n` : m[4] };
}

export async function* readLog(path: string, opts: LogOptions = {}): AsyncGenerator<LogEntry> {
  const open = new Set<LogFile>();
  const opened = (f: LogFile | undefined) => {
    if (f) open.add(f);
    return f;
  };
  const close = async (f: LogFile) => {
    open.delete(f);
    await f.fh.close();
  };
  try {
    // Every file is opened first, so a rotation while reading renames nothing under us.
    const files: LogFile[] = [];
    for (let i = 1; ; i++) {
      const f = opened(await LogFile.open(`${path}.${i}`));
      if (!f) break;
      files.unshift(f);
    }
    const current = opened(await LogFile.open(path));
    if (current) files.push(current);

    let first = 0;
    if (opts.tail !== undefined && opts.tail >= 0) {
      if (opts.tail === 0) {
        // Nothing of what is there: only what comes next.
        first = files.length;
        if (current) {
          current.offset = (await current.fh.stat()).size;
          first = files.length - 1;
        }
      } else {
        let need = opts.tail;
        for (first = files.length - 1; first >= 0; first--) {
          need -= await files[first].seekTail(need);
          if (need <= 0 || first === 0) break;
        }
      }
    }

    const since = opts.since;
    const until = opts.until || undefined;
    let past = false;
    const parseLine = opts.format === 'cri' ? parseCri : parse;
    const wanted = function* (lines: Buffer[]): Generator<LogEntry> {
      for (const line of lines) {
        const e = parseLine(line);
        if (!e) continue;
        const t = secondsOf(e.time);
        if (until !== undefined && t > until) {
          past = true;
          return;
        }
        if (since === undefined || t >= since) yield e;
      }
    };

    for (let i = Math.max(first, 0); i < files.length; i++) {
      const f = files[i];
      for (let lines = await f.next(); lines; lines = await f.next()) {
        yield* wanted(lines);
        if (past || opts.signal?.aborted) return;
      }
      if (f !== current) await close(f);
    }
    if (!opts.follow) return;
    yield* follow(path, current, opts, wanted, () => past, opened, close);
  } finally {
    for (const f of [...open]) await close(f);
  }
}

/**
 * Goes on reading the current file as the monitor appends to it. At its end, a new file at
 * `path` means it was rotated (what was left in the old one is read first); a shorter one,
 * that it was truncated in place (`max-file` 1). Woken by inotify on the log's directory, and
 * by a timer as well.
 */
async function* follow(
  path: string,
  start: LogFile | undefined,
  opts: LogOptions,
  wanted: (lines: Buffer[]) => Generator<LogEntry>,
  past: () => boolean,
  opened: (f: LogFile | undefined) => LogFile | undefined,
  close: (f: LogFile) => Promise<void>,
): AsyncGenerator<LogEntry> {
  let f = start;
  let wake: (() => void) | undefined;
  const name = basename(path);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, file) => {
      if (!file || String(file).startsWith(name)) wake?.();
    });
    watcher.on('error', () => wake?.()); // the directory is gone with the container: the next check ends the loop
  } catch (e) {
    if (errno(e) !== 'ENOENT') throw e;
    return; // the container and its folder are gone: nothing more will come
  }
  try {
    for (;;) {
      let any = false;
      if (f) {
        for (let lines = await f.next(); lines; lines = await f.next()) {
          any = true;
          yield* wanted(lines);
          if (past() || opts.signal?.aborted) return;
        }
        const now = await stat(path).catch((e) => {
          if (errno(e) === 'ENOENT') return undefined;
          throw e;
        });
        if (now && now.ino !== f.ino) {
          // Rotated: the old file is complete (read above); the new one starts at 0.
          await close(f);
          f = opened(await LogFile.open(path));
          continue;
        }
        if (now && (await f.rewritten())) {
          f.restart();
          continue;
        }
      } else {
        f = opened(await LogFile.open(path));
        if (f) continue;
      }
      if (any) continue;
      if (opts.signal?.aborted) return;
      if (!opts.live?.()) {
        // One last read: the monitor may have written between the read and the check.
        if (f) for (let lines = await f.next(); lines; lines = await f.next()) yield* wanted(lines);
        return;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 250);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
        opts.signal?.addEventListener('abort', wake, { once: true });
      });
      wake = undefined;
    }
  } finally {
    watcher.close();
  }
}
