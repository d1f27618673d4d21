// Variable substitution in a Compose file's values, as the Compose Specification defines it:
// `$VAR`, `${VAR}`, `${VAR:-default}` / `${VAR-default}` (empty-or-unset / unset),
// `${VAR:?error}` / `${VAR?error}`, `${VAR:+alt}` / `${VAR+alt}`, nested in defaults, and `$$`
// for a literal `$`. Keys are not substituted. A value that was substituted and sits where the
// schema wants a boolean or a number is cast from its text afterwards, as Compose does.

import type { PathSeg } from './source.js';

export type Lookup = (name: string) => string | undefined;

/** A substitution that cannot be made; `path` is where, the caller adds the file and line. */
export class InterpolationError extends Error {
  constructor(
    readonly path: PathSeg[],
    message: string,
  ) {
    super(message);
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** `s` with its variables substituted; `unset` hears each variable used without a value or default. */
export function substitute(s: string, lookup: Lookup, path: PathSeg[], unset: (name: string) => void): string {
  if (!s.includes('$')) return s;
  let out = '';
  let i = 0;
  const invalid = () =>
    new InterpolationError(
      path,
      `invalid interpolation format in ${JSON.stringify(s)}: write a literal $ as $$, a variable as $VAR or \${VAR}`,
    );
  while (i < s.length) {
    const c = s[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      // The matching brace, past nested ${…} in a default.
      let depth = 1;
      let j = i + 2;
      for (; j < s.length && depth; j++) {
        if (s[j] === '$' && s[j + 1] === '{') {
          depth++;
          j++;
        } else if (s[j] === '}') depth--;
      }
      if (depth) throw invalid();
      const inner = s.slice(i + 2, j - 1);
      i = j;
      const name = NAME.exec(inner)?.[0];
      if (!name) throw invalid();
      const rest = inner.slice(name.length);
      const value = lookup(name);
      const op = /^(:?[-?+])?/.exec(rest)![0];
      if (op.length !== rest.length && !op) throw invalid();
      const arg = () => substitute(rest.slice(op.length), lookup, path, unset);
      const empty = value === undefined || (op.startsWith(':') && value === '');
      switch (op) {
        case '':
          if (value === undefined) unset(name);
          out += value ?? '';
          break;
        case ':-':
        case '-':
          out += empty ? arg() : value;
          break;
        case ':?':
        case '?': {
          if (empty) {
            const why = arg();
            throw new InterpolationError(path, `required variable ${name} is missing a value${why ? `: ${why}` : ''}`);
          }
          out += value;
          break;
        }
        case ':+':
        case '+':
          out += empty ? '' : arg();
          break;
      }
      continue;
    }
    const name = NAME.exec(s.slice(i + 1))?.[0];
    if (!name) throw invalid();
    const value = lookup(name);
    if (value === undefined) unset(name);
    out += value ?? '';
    i += 1 + name.length;
  }
  return out;
}

/** Paths (`*` any key or index) whose substituted text is cast to a boolean or a number, as Compose's type casts. */
const CASTS: [string[], 'bool' | 'int'][] = [
  ...['init', 'read_only', 'privileged', 'tty', 'stdin_open', 'oom_kill_disable', 'attach', 'use_api_socket'].map(
    (k) => [['services', '*', k], 'bool'] as [string[], 'bool'],
  ),
  [['services', '*', 'healthcheck', 'disable'], 'bool'],
  [['services', '*', 'healthcheck', 'retries'], 'int'],
  [['services', '*', 'depends_on', '*', 'required'], 'bool'],
  [['services', '*', 'depends_on', '*', 'restart'], 'bool'],
  [['services', '*', 'volumes', '*', 'read_only'], 'bool'],
  [['services', '*', 'volumes', '*', 'bind', 'create_host_path'], 'bool'],
  [['services', '*', 'volumes', '*', 'volume', 'nocopy'], 'bool'],
  [['services', '*', 'ports', '*', 'target'], 'int'],
  [['services', '*', 'ulimits', '*'], 'int'],
  [['services', '*', 'ulimits', '*', 'hard'], 'int'],
  [['services', '*', 'ulimits', '*', 'soft'], 'int'],
  [['services', '*', 'scale'], 'int'],
  [['services', '*', 'deploy', 'replicas'], 'int'],
  [['services', '*', 'oom_score_adj'], 'int'],
  [['services', '*', 'mem_swappiness'], 'int'],
  ...['networks', 'volumes', 'secrets', 'configs'].map((t) => [[t, '*', 'external'], 'bool'] as [string[], 'bool']),
  [['networks', '*', 'internal'], 'bool'],
  [['networks', '*', 'attachable'], 'bool'],
  [['networks', '*', 'enable_ipv6'], 'bool'],
];

function cast(path: PathSeg[], text: string): unknown {
  for (const [pattern, kind] of CASTS) {
    if (pattern.length !== path.length || !pattern.every((p, i) => p === '*' || p === path[i])) continue;
    if (kind === 'bool') {
      if (/^(true|yes|y|on)$/i.test(text)) return true;
      if (/^(false|no|n|off)$/i.test(text)) return false;
    } else if (/^-?\d+$/.test(text)) return Number(text);
    return text;
  }
  return text;
}

/** The value with every string substituted (keys kept), each substituted scalar cast where the schema wants it. */
export function interpolate(value: unknown, lookup: Lookup, unset: (name: string) => void, path: PathSeg[] = []): unknown {
  if (typeof value === 'string') {
    const s = substitute(value, lookup, path, unset);
    return s === value ? value : cast(path, s);
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, lookup, unset, [...path, i]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, lookup, unset, [...path, k]);
    return out;
  }
  return value;
}
