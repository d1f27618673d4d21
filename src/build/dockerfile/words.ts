// How Docker splits an instruction's line before any variable is expanded: the keyword, the
// leading `--flags`, the JSON array form, and quote-aware words for ENV, LABEL and ARG (quotes
// kept: expansion removes them later). Rules follow BuildKit's dockerfile parser.

import { fault } from './errors.js';
import type { EscapeChar } from './types.js';

/** The whitespace Docker splits on (Go's `[\t\v\f\r ]+`). */
export const WHITESPACE = /[\t\v\f\r ]+/;

const isSpace = (ch: string) => /\s/u.test(ch);

/** `RUN --mount=x echo hi` → keyword `run` (lower-cased; `word` as written), flags `['--mount=x']`, rest `echo hi`. */
export function splitCommand(line: string): { keyword: string; word: string; flags: string[]; rest: string } {
  const trimmed = line.trim();
  const m = WHITESPACE.exec(trimmed);
  if (!m) return { keyword: trimmed.toLowerCase(), word: trimmed, flags: [], rest: '' };
  const word = trimmed.slice(0, m.index);
  const { rest, flags } = extractFlags(trimmed.slice(m.index + m[0].length));
  return { keyword: word.toLowerCase(), word, flags, rest: rest.trim() };
}

/**
 * The leading words that start with `--`, quotes removed and `\` escapes applied inside them
 * (always `\`, whatever the escape directive says, as Docker does); `--` alone ends them.
 */
export function extractFlags(line: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < line.length && isSpace(line[pos])) pos++;
    if (pos >= line.length) return { rest: '', flags };
    if (!line.startsWith('--', pos)) return { rest: line.slice(pos), flags };
    let word = '';
    let blankOK = false;
    let quote = '';
    let ended = false;
    for (; pos < line.length; pos++) {
      const ch = line[pos];
      if (quote) {
        if (ch === quote) quote = '';
        else if (ch === '\\' && pos + 1 < line.length) word += line[++pos];
        else if (ch !== '\\') word += ch;
        continue;
      }
      if (isSpace(ch)) {
        ended = true;
        break;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
      } else if (ch === '\\') {
        if (pos + 1 < line.length) word += line[++pos];
      } else word += ch;
    }
    if (word === '--') return { rest: ended ? line.slice(pos) : '', flags };
    if (blankOK || word.length > 0) flags.push(word);
    if (!ended) return { rest: '', flags };
  }
}

/**
 * Words separated by whitespace, with quotes and escapes kept as written (Docker's parseWords):
 * a quoted part may hold spaces, and the escape character takes the next character along.
 */
export function parseWords(rest: string, escape: EscapeChar): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let word = '';
  let blankOK = false;
  let inWord = false;
  let quote = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (!inWord) {
      if (isSpace(ch)) continue;
      inWord = true;
    }
    if (quote) {
      if (ch === quote) quote = '';
      if (ch === escape && quote !== "'" && ch !== quote) {
        if (i + 1 === chars.length) {
          quote = '';
          continue;
        }
        word += ch;
        word += chars[++i];
        continue;
      }
      word += ch;
      continue;
    }
    if (isSpace(ch)) {
      if (blankOK || word.length > 0) words.push(word);
      word = '';
      blankOK = false;
      inWord = false;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      blankOK = true;
    }
    if (ch === escape) {
      if (i + 1 === chars.length) continue;
      word += ch;
      word += chars[++i];
      continue;
    }
    word += ch;
  }
  if (inWord && (blankOK || word.length > 0)) words.push(word);
  return words;
}

/**
 * The JSON array at the start of `rest` (Docker decodes the first JSON value and ignores what
 * follows it). `undefined` when `rest` is not a JSON array; a fault when it is an array of
 * something other than strings.
 */
export function parseJsonArray(rest: string): string[] | undefined {
  const text = rest.trimStart();
  if (!text.startsWith('[')) return undefined;
  const end = jsonArrayEnd(text);
  if (end < 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(0, end));
  } catch (err) {
    if (err instanceof SyntaxError) return undefined; // not JSON: the shell form, as Docker falls back
    throw err;
  }
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw fault('when using JSON array syntax, arrays must be comprised of strings only');
  }
  return value as string[];
}

/** The index just past the array that opens `text`, or -1 when it never closes. */
function jsonArrayEnd(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
