// .dockerignore as Docker reads and applies it, for the CLI (which filters the context before
// sending it, as the docker CLI does) and the builder alike. Patterns are Go filepath.Match
// patterns on slash-separated paths relative to the context (`*` and `?` never cross a `/`,
// `[...]` classes, `\` escapes) plus `**` for any number of directories; a path is also left out
// when one of its parent directories matches; `!` re-includes, and the last pattern that matches
// wins. The Dockerfile and .dockerignore themselves are always sent (keepBuildFiles).

import path from 'node:path';
import { invalid } from '../errors.js';

/** The patterns of a .dockerignore's text, as Docker's ReadAll normalizes them. */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (i === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    if (line.startsWith('#')) continue; // a comment only where `#` is the line's first character
    let pattern = line.trim();
    if (pattern === '') continue;
    const exception = pattern.startsWith('!');
    if (exception) pattern = pattern.slice(1).trim();
    if (pattern !== '') {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(exception ? '!' + pattern : pattern);
  }
  return patterns;
}

/** Go's filepath.Clean on a slash path: `./a/` → `a`, `a//b/../c` → `a/c`, `` → `.`. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

interface Pattern {
  text: string;
  exception: boolean;
  re: RegExp;
}

/** What a context walk does with one entry. */
export type WalkDecision =
  /** Send it (a directory: and walk into it). */
  | 'include'
  /** Leave it out (a directory: and everything under it). */
  | 'exclude'
  /** A directory left out itself, walked into because an exception names a path under it. */
  | 'descend';

/** Compiled .dockerignore patterns. The constructor refuses a pattern filepath.Match would. */
export class DockerignoreMatcher {
  private patterns: Pattern[] = [];
  readonly hasExceptions: boolean;

  constructor(patterns: string[]) {
    for (const raw of patterns) {
      let p = raw.trim();
      if (p === '') continue;
      p = cleanPath(p);
      const exception = p.startsWith('!');
      if (exception) {
        if (p.length === 1) throw invalid('.dockerignore: illegal exclusion pattern: "!"');
        p = p.slice(1);
      }
      this.patterns.push({ text: p, exception, re: compile(p) });
    }
    this.hasExceptions = this.patterns.some((p) => p.exception);
  }

  /** Whether `rel` (slash-separated, relative to the context) is left out, itself or through a parent. */
  matches(rel: string): boolean {
    const file = cleanPath(rel);
    const parent = path.posix.dirname(file);
    const parentDirs = parent.split('/');
    let matched = false;
    for (const pattern of this.patterns) {
      // An exception only matters once something matched; a plain pattern only until then.
      if (pattern.exception !== matched) continue;
      let match = pattern.re.test(file);
      if (!match && parent !== '.') {
        for (let i = 1; i <= parentDirs.length && !match; i++) match = pattern.re.test(parentDirs.slice(0, i).join('/'));
      }
      if (match) matched = !pattern.exception;
    }
    return matched;
  }

  /**
   * What a walk of the context does with `rel`, as the docker CLI's archive walk decides: an
   * excluded directory is still walked when an exception's text starts with its path (so
   * `!**\/keep` cannot bring back a file from an excluded directory, as in Docker).
   */
  decide(rel: string, isDir: boolean): WalkDecision {
    if (!this.matches(rel)) return 'include';
    if (!isDir || !this.hasExceptions) return 'exclude';
    const dirSlash = cleanPath(rel) + '/';
    return this.patterns.some((p) => p.exception && (p.text + '/').startsWith(dirSlash)) ? 'descend' : 'exclude';
  }
}

/** Patterns that never leave out the .dockerignore, nor the Dockerfile unless it came on stdin (Docker's TrimBuildFilesFromExcludes). */
export function keepBuildFiles(patterns: string[], dockerfile: string, dockerfileFromStdin: boolean): string[] {
  const out = [...patterns];
  if (ignores(out, '.dockerignore')) out.push('!.dockerignore');
  const name = dockerfile.replaceAll('\\', '/');
  if (!dockerfileFromStdin && ignores(out, name)) out.push('!' + name);
  return out;
}

/** Docker's patternmatcher.Matches: whether `file` is left out by `patterns` (`.` never is). */
export function ignores(patterns: string[], file: string): boolean {
  const clean = cleanPath(file);
  if (clean === '.') return false;
  return new DockerignoreMatcher(patterns).matches(clean);
}

/** A pattern as an anchored RegExp; `**` crosses directories, `*` and `?` do not. */
function compile(pattern: string): RegExp {
  checkGoPattern(pattern);
  const chars = Array.from(pattern);
  let re = '^';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++; // `**/` is `**`
        re += i + 1 >= chars.length ? '.*' : '(.*/)?';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '\\') re += '\\' + chars[++i];
    else if (ch === '[') {
      // A class as filepath.Match reads it: `^` negates, `\` escapes, ranges with `-`.
      let j = i + 1;
      let cls = '[';
      if (chars[j] === '^') {
        cls += '^';
        j++;
      }
      while (chars[j] !== ']') {
        if (chars[j] === '\\') {
          cls += '\\' + chars[j + 1];
          j += 2;
        } else {
          cls += /[\]\\^]/.test(chars[j]) ? '\\' + chars[j] : chars[j];
          j++;
        }
      }
      re += cls + ']';
      i = j;
    } else re += /[.*+?^${}()|[\]\\/]/.test(ch) ? '\\' + ch : ch;
  }
  return new RegExp(re + '$', 'u');
}

/** Refuse what Go's filepath.Match calls a bad pattern: an unclosed or empty class, a bad range, a trailing `\`. */
function checkGoPattern(pattern: string): void {
  const bad = () => invalid(`.dockerignore: syntax error in pattern: ${JSON.stringify(pattern)}`);
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\') {
      if (++i >= chars.length) throw bad();
    } else if (chars[i] === '[') {
      i++;
      if (chars[i] === '^') i++;
      let ranges = 0;
      for (;;) {
        if (i >= chars.length) throw bad();
        if (chars[i] === ']' && ranges > 0) break;
        const one = () => {
          if (i >= chars.length || chars[i] === '-' || chars[i] === ']') throw bad();
          if (chars[i] === '\\') i++;
          if (i >= chars.length) throw bad();
          i++;
        };
        one();
        if (chars[i] === '-') {
          i++;
          one();
        }
        ranges++;
      }
    }
  }
}
