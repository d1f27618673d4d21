// Here-documents in RUN, COPY and ADD: which words of an instruction's line open one (`<<EOF`,
// `<<-EOF`, `3<<"EOF"`), the delimiter with its quotes removed, and whether the body is expanded
// (not when any part of the delimiter was quoted). As BuildKit, the words are found with `\` as
// the escape character whatever the file's escape directive says.

import { LexError, processWord, type Lookup } from './lex.js';

/** A heredoc as its opening word announces it; parse.ts reads its body from the lines that follow. */
export interface HeredocHead {
  name: string;
  fd?: number;
  expand: boolean;
  chomp: boolean;
}

const HEREDOC = /^(\d*)<<(-?)([^<]*)$/s;
const unset: Lookup = () => undefined;

/** The heredoc a single word opens, if it opens one. */
export function heredocOfWord(word: string): HeredocHead | undefined {
  const m = HEREDOC.exec(word);
  if (!m || m[3] === '') return undefined;
  const rest = m[3];
  let plain: string[];
  let raw: string[];
  try {
    plain = processWord(rest, unset, { escape: '\\', skipUnsetEnv: true }).words;
    raw = processWord(rest, unset, { escape: '\\', skipUnsetEnv: true, rawQuotes: true }).words;
  } catch (err) {
    if (err instanceof LexError) return undefined; // not a word the lexer reads: no heredoc
    throw err;
  }
  if (plain.length !== 1 || raw.length !== 1) return undefined;
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return {
    name: plain[0],
    ...(m[1] !== '' ? { fd: Number(m[1]) } : {}),
    expand: quotes(plain[0]) === quotes(raw[0]),
    chomp: m[2] === '-',
  };
}

/** Every heredoc an instruction's line opens, in order. A line the lexer cannot split opens none. */
export function heredocsOfLine(line: string): HeredocHead[] {
  let words: string[];
  try {
    words = processWord(line, unset, { escape: '\\', rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words;
  } catch (err) {
    if (err instanceof LexError) return []; // Docker ignores the lexer's fault here too: the line is then no heredoc
    throw err;
  }
  const heads: HeredocHead[] = [];
  for (const word of words) {
    const head = heredocOfWord(word);
    if (head) heads.push(head);
  }
  return heads;
}

/** `<<-`: leading tabs off every line of the body. */
export function chompTabs(content: string): string {
  return content.replace(/^\t+/gm, '');
}
