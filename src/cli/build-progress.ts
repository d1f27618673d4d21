// What `berth build` shows of berthd's build stream (Docker's JSON messages: `stream` text,
// `aux` with the image ID, `status` while a remote context downloads, and an `error` last).
// Plain: the text as the docker CLI prints it, line for line. On a terminal: one line per step,
// `[2/5] RUN make` with a running clock while it runs, then its time or CACHED; a RUN step's
// output printed above it as it comes.

import type { Response } from '../api/client.js';
import type { JsonMessage } from './json-messages.js';

export interface BuildOutcome {
  /** The image ID (`aux.ID`, or the line `q=1` answers with). */
  id?: string;
  /** The build's failure: its message and a failed RUN step's exit code. */
  error?: { message: string; code?: number };
}

interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** A view of the stream: text in, the end when it is over. */
interface View {
  text(s: string): void;
  status(m: JsonMessage): void;
  fail(): void;
  close(): void;
}

/** The docker CLI's own way: every `stream` text as it is. */
function plainView(out: Out): View {
  let lastStatus = '';
  return {
    text: (s) => out.write(s),
    status: (m) => {
      const line = `${m.status}${m.id ? ` ${m.id}` : ''}`;
      if (line !== lastStatus) out.write(`${line}\n`);
      lastStatus = line;
    },
    fail: () => undefined,
    close: () => undefined,
  };
}

const STEP = /^Step (\d+)\/(\d+) : (.*)$/s;
const ARROW = /^ ---> (.*)\n$/;

/** One line per step with its clock; RUN output scrolls above the current step's line. */
function terminalView(out: Out): View {
  let step: { label: string; start: number; cached: boolean } | undefined;
  let skipNewline = false;
  let partial = '';
  let timer: NodeJS.Timeout | undefined;
  const width = () => Math.max(20, (out.columns ?? 80) - 1);
  const line = (s: string, right: string) => {
    const room = width() - right.length - 1;
    const left = s.length > room ? `${s.slice(0, Math.max(0, room - 1))}…` : s;
    return `${left.padEnd(room)} ${right}`;
  };
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const draw = () => {
    if (step) out.write(`\r\x1b[K${line(step.label, secs(Date.now() - step.start))}`);
  };
  const finish = (right: string) => {
    if (!step) return;
    out.write(`\r\x1b[K${line(step.label, right)}\n`);
    step = undefined;
    clearInterval(timer);
    timer = undefined;
  };
  const output = (s: string) => {
    // Whole lines go above the step's line; a part line waits for its end.
    const text = partial + s;
    const cut = text.lastIndexOf('\n');
    if (cut < 0) {
      partial = text;
      return;
    }
    partial = text.slice(cut + 1);
    out.write(`\r\x1b[K${text.slice(0, cut + 1).replace(/^/gm, '  ')}`.replace(/ {2}$/, ''));
    draw();
  };
  return {
    text(s) {
      if (skipNewline && s === '\n') {
        skipNewline = false;
        return;
      }
      skipNewline = false;
      const m = STEP.exec(s);
      if (m) {
        finish(secs(0));
        step = { label: `[${m[1]}/${m[2]}] ${m[3].trim()}`, start: Date.now(), cached: false };
        skipNewline = true;
        draw();
        timer = setInterval(draw, 100);
        return;
      }
      const a = ARROW.exec(s);
      if (a && step) {
        if (a[1] === 'Using cache') step.cached = true;
        else if (/^[0-9a-f]{12}$/.test(a[1])) {
          if (partial) output('\n');
          finish(step.cached ? 'CACHED' : secs(Date.now() - step.start));
        }
        return;
      }
      if (step && /^(Removing intermediate container| ---> Running in )/.test(s)) return;
      if (step) return output(s);
      out.write(s);
    },
    status: () => undefined,
    fail() {
      if (partial) output('\n');
      finish('ERROR');
    },
    close() {
      if (partial) output('\n');
      finish(step ? secs(Date.now() - step.start) : '');
    },
  };
}

/** Reads the build's messages, showing them on `out` (`tty`: the step view); returns what the build made or why it failed. */
export async function showBuild(res: Response, out: Out, tty: boolean): Promise<BuildOutcome> {
  const view = tty ? terminalView(out) : plainView(out);
  const outcome: BuildOutcome = {};
  const handle = (l: string) => {
    if (!l.trim()) return;
    const m = JSON.parse(l) as JsonMessage & { errorDetail?: { code?: number; message?: string } };
    if (m.error || m.errorDetail) {
      outcome.error = { message: m.errorDetail?.message ?? m.error ?? 'unknown error', code: m.errorDetail?.code };
      return;
    }
    if (m.aux && typeof m.aux.ID === 'string') outcome.id = m.aux.ID;
    else if (m.stream !== undefined) {
      if (/^sha256:[0-9a-f]{64}\n$/.test(m.stream)) outcome.id ??= m.stream.trim();
      view.text(m.stream);
    } else if (m.status) view.status(m);
  };
  let rest = '';
  try {
    for await (const chunk of res) {
      const lines = (rest + chunk.toString()).split(/\r?\n/);
      rest = lines.pop() ?? '';
      for (const l of lines) handle(l);
    }
    handle(rest);
  } finally {
    if (outcome.error) view.fail();
    else view.close();
  }
  return outcome;
}
