// Docker's shell lexer for Dockerfile words: quotes, the escape character, and `$VAR` /
// `${VAR…}` substitution with the variables in scope, as BuildKit's shell package does it. It
// never runs anything: RUN, CMD and ENTRYPOINT text is the shell's, not this. It reports which
// variables a word read, so the builder can key its cache on the build args a step uses.

import type { EscapeChar } from './types.js';

/** A variable's value, or undefined when it is not set (unset differs from empty for `${V-x}`). */
export type Lookup = (name: string) => string | undefined;

export interface LexOptions {
  escape: EscapeChar;
  /** Keep quote characters in the result (the heredoc reader uses it to see whether a word was quoted). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Leave a reference to an unset variable as written instead of making it empty. */
  skipUnsetEnv?: boolean;
  /** Quotes are ordinary characters (how Docker expands a COPY heredoc's body). */
  skipProcessQuotes?: boolean;
}

export interface LexResult {
  /** The word, quotes removed and variables substituted. */
  word: string;
  /** The same split on unquoted whitespace (what ProcessWords gives): EXPOSE's ports, a heredoc's words. */
  words: string[];
  /** Variables the word read that were set. */
  matched: Set<string>;
  /** Variables it read that were not set. */
  unmatched: Set<string>;
}

/** Expand one word: `process(word, lookup, { escape })`. Faults read `failed to process "<word>": …`. */
export function processWord(source: string, lookup: Lookup, options: LexOptions): LexResult {
  const lexer = new Lexer(source, lookup, options);
  try {
    const { word, words } = lexer.stopOn(undefined, options.rawEscapes ?? false);
    return { word, words, matched: lexer.matched, unmatched: lexer.unmatched };
  } catch (err) {
    if (err instanceof LexError) throw new LexError(`failed to process ${goQuote(source)}: ${err.message}`);
    throw err;
  }
}

/** A word the lexer cannot read: an unclosed quote or brace, a bad `${…}`, a `${V:?msg}` that fired. */
export class LexError extends Error {}

/** Collects ProcessWords' words: unquoted whitespace from a substitution or the text splits. */
class Words {
  words: string[] = [];
  private buf = '';
  private inWord = false;
  addChar(ch: string) {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else this.addRaw(ch);
  }
  addRaw(s: string) {
    this.buf += s;
    this.inWord = true;
  }
  addString(s: string) {
    for (const ch of s) this.addChar(ch);
  }
  finish(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class Lexer {
  private chars: string[];
  private pos = 0;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  private rawEscapes: boolean;

  constructor(
    source: string,
    private lookup: Lookup,
    private options: LexOptions,
  ) {
    this.chars = Array.from(source);
    this.rawEscapes = options.rawEscapes ?? false;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }
  private next(): string | undefined {
    return this.chars[this.pos++];
  }

  /** Read up to `stop` (consumed) or the end; with `stop` given, reaching the end is a fault. */
  stopOn(stop: string | undefined, rawEscapes: boolean): { word: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new Words();
      const escape = this.options.escape;
      while (this.peek() !== undefined) {
        const ch = this.peek()!;
        if (stop !== undefined && ch === stop) {
          this.next();
          return { word: result, words: words.finish() };
        }
        if (ch === '$') {
          const value = this.dollar();
          result += value;
          words.addString(value);
        } else if ((ch === "'" || ch === '"') && !this.options.skipProcessQuotes) {
          const value = ch === "'" ? this.singleQuote() : this.doubleQuote();
          result += value;
          words.addRaw(value);
        } else {
          this.next();
          if (ch === escape) {
            if (this.rawEscapes) {
              words.addRaw(ch);
              result += ch;
            }
            const escaped = this.next();
            if (escaped === undefined) break;
            words.addRaw(escaped);
            result += escaped;
          } else {
            words.addChar(ch);
            result += ch;
          }
        }
      }
      if (stop !== undefined) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
      return { word: result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private singleQuote(): string {
    let result = '';
    const open = this.next()!;
    if (this.options.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.options.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private doubleQuote(): string {
    let result = '';
    const open = this.next()!;
    if (this.options.rawQuotes) result += open;
    const escape = this.options.escape;
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.next();
        if (this.options.rawQuotes) result += ch;
        return result;
      }
      if (ch === '$') {
        result += this.dollar();
        continue;
      }
      let out = this.next()!;
      if (out === escape) {
        if (this.rawEscapes) result += out;
        const following = this.peek();
        if (following === undefined) continue; // an escape at the very end is dropped
        if (following === '"' || following === '$' || following === escape) out = this.next()!;
      }
      result += out;
    }
  }

  private get(name: string): string | undefined {
    const value = this.lookup(name);
    if (value === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return value;
  }

  private dollar(): string {
    this.next(); // the $
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const value = this.get(name);
      if (value === undefined && this.options.skipUnsetEnv) return '$' + name;
      return value ?? '';
    }
    this.next(); // the {
    const first = this.peek();
    if (first === undefined) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.name();
    let ch = this.next();
    if (ch === undefined) throw new LexError("syntax error: missing '}'");
    let modifier = ch;
    if (ch === '}') {
      const value = this.get(name);
      if (value === undefined && this.options.skipUnsetEnv) return `\${${name}}`;
      return value ?? '';
    }
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      modifier += ch ?? '';
    }
    if (ch === '+' || ch === '-' || ch === '?' || ch === '#' || ch === '%') {
      const patternOp = ch === '#' || ch === '%';
      if (nullIsUnset && patternOp) throw new LexError(`unsupported modifier (${modifier}) in substitution`);
      let word: string;
      try {
        word = this.stopOn('}', patternOp).word;
      } catch (err) {
        if (err instanceof LexError && this.peek() === undefined) throw new LexError("syntax error: missing '}'");
        throw err;
      }
      const value = this.get(name);
      if (value === undefined && this.options.skipUnsetEnv) return `\${${name}${modifier}${word}}`;
      const empty = value === undefined || (nullIsUnset && value === '');
      switch (ch) {
        case '-':
          return empty ? word : value!;
        case '+':
          return empty ? '' : word;
        case '?':
          if (value === undefined) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
          if (nullIsUnset && value === '') throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
          return value;
        default: {
          let pattern = word;
          const greedy = pattern.startsWith(ch);
          if (greedy) pattern = pattern.slice(1);
          return ch === '%' ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy);
        }
      }
    }
    if (ch === '/' && !nullIsUnset) {
      const all = this.peek() === '/';
      if (all) this.next();
      let pattern: string;
      let replacement: string;
      try {
        pattern = this.stopOn('/', true).word;
      } catch (err) {
        if (err instanceof LexError && this.peek() === undefined) throw new LexError("syntax error: missing '/' in ${}");
        throw err;
      }
      try {
        replacement = this.stopOn('}', true).word;
      } catch (err) {
        if (err instanceof LexError && this.peek() === undefined) throw new LexError("syntax error: missing '}'");
        throw err;
      }
      const value = this.get(name);
      if (value === undefined && this.options.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;
      const re = patternRegExp(pattern, true, false, all);
      return (value ?? '').replace(re, () => replacement);
    }
    throw new LexError(`unsupported modifier (${modifier}) in substitution`);
  }

  /** A name after `$`: letters, digits and `_`; or a run of digits; or one special parameter. */
  private name(): string {
    let name = '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) return name;
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== undefined && isDigit(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(ch)) return this.next()!;
      if (!/^[\p{L}\p{Nd}_]$/u.test(ch)) return name;
      name += this.next();
    }
  }
}

const isSpace = (ch: string) => /^\s$/u.test(ch);
const isDigit = (ch: string) => /^\p{Nd}$/u.test(ch);

/** A shell pattern (`*`, `?`, `\` escapes; no brackets) as a RegExp, as BuildKit converts it. */
function patternRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') out += greedy ? '.*' : '.*?';
    else if (ch === '?') out += '.';
    else if (ch === '\\') {
      // `\}` and `\/` inside ${} are escapes of the ${} syntax, not of the pattern.
      if (chars[i + 1] === '}' || chars[i + 1] === '/') continue;
      const escaped = chars[++i];
      if (escaped !== '*' && escaped !== '?' && escaped !== '\\') {
        throw new LexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${escaped ?? ''}'`);
      }
      out += '\\' + escaped;
    } else if ('[]{}.+()|^$'.includes(ch)) out += '\\' + ch;
    else out += ch;
  }
  return new RegExp(out, global ? 'gsu' : 'su');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = patternRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** The shortest (or longest) suffix match: reverse both and match a prefix, keeping escapes in order. */
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const chars = Array.from(pattern);
  const reversed: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\' && i !== chars.length - 1) {
      reversed.unshift('\\' + chars[i + 1]);
      i++;
    } else reversed.unshift(chars[i]);
  }
  const rev = (s: string) => Array.from(s).reverse().join('');
  return rev(trimPrefix(reversed.join(''), rev(value), greedy));
}

/** A string as Go's %q prints it, for the `failed to process "…"` prefix. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
