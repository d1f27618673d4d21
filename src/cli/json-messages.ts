// Docker's JSON message streams (pull, push, load, import) as the CLI shows them: layer
// progress through the image library's display (lines redrawn in place on a terminal, one line
// per change of status otherwise), other messages as lines; an `error` message ends it.

import type { Response } from '../api/client.js';
import { BerthError } from '../errors.js';
import { progressDisplay } from './progress.js';

export interface JsonMessage {
  id?: string;
  status?: string;
  stream?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: Record<string, unknown>;
  error?: string;
  errorDetail?: { message?: string };
}

/** Calls `onMessage` for each message of the stream; throws the stream's error message. */
export async function readMessages(res: Response, onMessage: (m: JsonMessage) => void): Promise<void> {
  let rest = '';
  const line = (l: string) => {
    if (!l.trim()) return;
    const m = JSON.parse(l) as JsonMessage;
    if (m.error || m.errorDetail) throw new BerthError('system', m.errorDetail?.message ?? m.error ?? 'unknown error');
    onMessage(m);
  };
  for await (const chunk of res) {
    const lines = (rest + chunk.toString()).split(/\r?\n/);
    rest = lines.pop() ?? '';
    for (const l of lines) line(l);
  }
  line(rest);
}

/** Shows a pull or push stream on `out`; returns its `aux` messages (push's digest). */
export async function showProgress(
  res: Response,
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  quiet = false,
): Promise<Record<string, unknown>[]> {
  const aux: Record<string, unknown>[] = [];
  // A terminal display redraws its layer lines from the bottom up, so a line of another kind
  // closes the block: later layers (the next tag of a push) start a new one below it.
  let display: ReturnType<typeof progressDisplay> | undefined;
  const line = (s: string) => {
    display?.done();
    display = undefined;
    out.write(s);
  };
  try {
    await readMessages(res, (m) => {
      if (m.aux) {
        aux.push(m.aux);
        return;
      }
      if (quiet) return;
      if (m.id && m.status && /^[0-9a-f]{12}$/.test(m.id)) {
        display ??= progressDisplay(out);
        display.onProgress({ id: m.id, status: m.status, current: m.progressDetail?.current, total: m.progressDetail?.total });
      } else if (m.status) line(m.id ? `${m.id}: ${m.status}\n` : `${m.status}\n`);
      else if (m.stream) line(m.stream);
    });
  } finally {
    display?.done();
  }
  return aux;
}
