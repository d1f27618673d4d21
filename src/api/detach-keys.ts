// Docker's detach keys (`--detach-keys`, default ctrl-p,ctrl-q): typed on an attached stdin, the
// sequence detaches the client and leaves the container running. The docker CLI and dockerd
// both watch for it (the CLI for its own terminal, the daemon for any API client); berth's CLI
// and berthd do the same, with this one matcher.

import type { Writable } from 'node:stream';
import { invalid } from '../errors.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

const CTRL: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };

/** `ctrl-p,ctrl-q` → [0x10, 0x11]; a single character stands for itself. */
export function parseDetachKeys(spec: string): number[] {
  const keys = spec
    .split(',')
    .map((k) => k.trim())
    .map((k) => {
      if (k.length === 1) return k.charCodeAt(0);
      const m = /^ctrl-(.)$/i.exec(k);
      if (m) {
        const c = m[1].toLowerCase();
        if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 96;
        if (c in CTRL) return CTRL[c];
      }
      return -1;
    });
  if (!spec || keys.includes(-1)) throw invalid(`Invalid detach keys (${spec}) provided`);
  return keys;
}

/**
 * Passes input through, holding back bytes that begin the sequence until it is completed (then
 * `detached`, and they are dropped) or broken (then they go on, as dockerd's escape proxy does).
 */
export class DetachMatcher {
  private held = 0;

  constructor(private readonly keys: number[]) {}

  push(chunk: Buffer): { forward: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b !== this.keys[this.held] && this.held) {
        out.push(...this.keys.slice(0, this.held));
        this.held = 0;
      }
      if (b === this.keys[this.held]) {
        if (++this.held === this.keys.length) return { forward: Buffer.from(out), detached: true };
      } else {
        out.push(b);
      }
    }
    return { forward: Buffer.from(out), detached: false };
  }
}

/**
 * A client's input on its way to a process's stdin (attach, attach/ws, exec): through the detach
 * matcher when there is one, `source` paused while `stdin` is full (the process takes input only
 * as fast as it reads it, never buffered here unbounded), and `onDetach` called once the keys are
 * typed; the caller stops feeding it then.
 */
export function inputForwarder(
  source: { pause(): void; resume(): void },
  stdin: Writable,
  matcher: DetachMatcher | undefined,
  onDetach: () => void,
): (d: Buffer) => void {
  return (d) => {
    const r = matcher ? matcher.push(d) : { forward: d, detached: false };
    if (r.forward.length && !stdin.write(r.forward)) {
      source.pause();
      stdin.once('drain', () => source.resume());
    }
    if (r.detached) onDetach();
  };
}
