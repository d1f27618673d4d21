// How a shell-form RUN with heredocs reaches the shell, as BuildKit does it: a RUN that is only
// `<<EOF` runs the body itself (as a file of its own when the body starts with `#!`, so its
// interpreter runs it), and any other RUN gets its line and bodies back as one shell script, so
// the shell reads the heredocs itself.

import type { RunInstruction } from './types.js';
import { heredocOfWord } from './heredoc.js';

/** What the builder gives the stage's SHELL (as its last argument) for a shell-form RUN. */
export type RunShellInput =
  /** Give `text` to the shell as is. */
  | { kind: 'text'; text: string }
  /**
   * Write `content` to `path` (mode 0755) on a read-only mount for the step only, then give
   * `path` to the shell: the body's `#!` line chooses its interpreter.
   */
  | { kind: 'file'; path: string; content: string };

/** Where BuildKit mounts a RUN's `#!` heredoc; its name is the delimiter. */
export const HEREDOC_SCRIPT_DIR = '/dev/pipes';

/** The shell's input for a shell-form RUN; undefined for the exec form. */
export function runShellInput(run: RunInstruction): RunShellInput | undefined {
  if (run.command.form !== 'shell') return undefined;
  const text = run.command.text;
  if (run.heredocs.length === 0) return { kind: 'text', text };
  const first = run.heredocs[0];
  if (heredocOfWord(text)) {
    if (first.content.startsWith('#!')) return { kind: 'file', path: `${HEREDOC_SCRIPT_DIR}/${first.name}`, content: first.content };
    return { kind: 'text', text: first.content };
  }
  let script = text;
  for (const h of run.heredocs) script += '\n' + h.content + h.name;
  return { kind: 'text', text: script };
}
