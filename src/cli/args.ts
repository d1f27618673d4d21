// Flags the docker way: `-d`, `--rm`, `-e K=V` / `-eK=V` / `--env=K=V`, grouped short booleans
// (`-it`), and for commands like `run` parsing stops at the first operand (the image), so the
// container's own arguments are left alone. A command describes itself (CommandSpec: its path,
// usage line, description and flags with theirs), so its --help, a bad flag value and a wrong
// count of arguments are reported as docker's CLI reports them (pflag's and cobra's words).

import { BerthError } from '../errors.js';

export interface FlagSpec {
  short?: string;
  /** 'bool', 'string' (last wins) or 'list' (repeatable). */
  type: 'bool' | 'string' | 'list';
  /** What the flag does, for --help. */
  desc?: string;
  /** The value's kind in --help where it is not the type's name: int, bytes, decimal, duration, map… */
  arg?: string;
  /** The default --help shows, as docker's `(default …)`. */
  dflt?: string;
  /** Refuses a bad value while parsing; throws with the reason (docker's words), which becomes `invalid argument "V" for "--flag" flag: reason`. */
  check?: (value: string) => void;
}

/** A command as its --help and its usage errors show it. `path`: `network ls`; `use`: `[OPTIONS] CONTAINER [CONTAINER...]`. */
export interface CommandSpec {
  path: string;
  use: string;
  about: string;
  aliases?: string[];
  flags: Record<string, FlagSpec>;
  /** How many operands it takes (checked after the flags): docker's words for too few or too many. */
  args?: { min?: number; max?: number };
  /** `run`'s way: flags end at the first operand. */
  stopAtOperand?: boolean;
}

/** `--help` among a command's flags (or `-h` where no flag takes that letter): the caller prints the usage. */
export class HelpRequest extends Error {
  constructor(
    readonly spec: Record<string, FlagSpec>,
    readonly command?: CommandSpec,
  ) {
    super('help requested');
  }
}

/** A bad flag (unknown, no value, a value docker refuses): printed with the usage, exit 125 as docker's. */
export class FlagError extends BerthError {
  constructor(
    message: string,
    readonly command?: CommandSpec,
  ) {
    super('invalid', message);
  }
}

/** Too few or too many operands: `berth: 'berth rm' requires at least 1 argument` with the usage, exit 1 as docker's. */
/** A value docker's CLI refuses after parsing a command's flags: reported as `docker: …` with the help hint, exit 125 (its reportError). */
export class UsageReport extends BerthError {
  constructor(message: string) {
    super('invalid', message);
  }
}

export class ArgCountError extends BerthError {
  constructor(
    message: string,
    readonly command: CommandSpec,
    readonly see: 'See' | 'Run',
  ) {
    super('invalid', message);
  }
}

/** Go's strconv.ParseBool. */
function parseBool(v: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new Error(`strconv.ParseBool: parsing "${v}": invalid syntax`);
}

/** The Options: lines of a usage text, from a flag spec, aligned as docker's. */
export function flagLines(spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, s]) => {
      const arg = s.type === 'bool' ? '' : ` ${s.arg ?? (s.type === 'list' ? 'list' : 'string')}`;
      const desc = `${s.desc ?? ''}${s.dflt !== undefined ? ` (default ${s.dflt})` : ''}`;
      return [`  ${s.short ? `-${s.short}, ` : '    '}--${name}${arg}`, desc] as const;
    });
  const width = Math.max(0, ...rows.map(([l]) => l.length)) + 3;
  return rows.map(([l, d]) => (d ? l.padEnd(width) + d : l)).join('\n');
}

/** `berth CMD --help`: usage, description, aliases, options. */
export function commandHelp(c: CommandSpec): string {
  const flags = flagLines(c.flags);
  return `Usage:  berth ${c.path}${c.use ? ` ${c.use}` : ''}\n\n${c.about}\n${c.aliases?.length ? `\nAliases:\n  ${c.aliases.join(', ')}\n` : ''}${flags ? `\nOptions:\n${flags}\n` : ''}`;
}

export interface Parsed {
  flags: Record<string, boolean | string | string[] | undefined>;
  args: string[];
}

const flagLabel = (name: string, s: FlagSpec) => (s.short ? `-${s.short}, --${name}` : `--${name}`);

export function parseArgs(
  argv: string[],
  spec: Record<string, FlagSpec>,
  opts: { stopAtOperand?: boolean; command?: CommandSpec } = {},
): Parsed {
  const flags: Parsed['flags'] = {};
  const args: string[] = [];
  const byShort = new Map(
    Object.entries(spec)
      .filter(([, s]) => s.short)
      .map(([n, s]) => [s.short!, n]),
  );
  const bad = (msg: string) => new FlagError(msg, opts.command);
  const set = (name: string, value: string | boolean) => {
    const s = spec[name];
    if (typeof value === 'string' && s.check) {
      try {
        s.check(value);
      } catch (e) {
        throw bad(`invalid argument ${JSON.stringify(value)} for "${flagLabel(name, s)}" flag: ${(e as Error).message}`);
      }
    }
    if (s.type === 'list') ((flags[name] as string[] | undefined) ?? (flags[name] = [])).push(String(value));
    else flags[name] = value;
  };
  const bool = (name: string, v: string) => {
    try {
      return parseBool(v);
    } catch (e) {
      throw bad(`invalid argument ${JSON.stringify(v)} for "${flagLabel(name, spec[name])}" flag: ${(e as Error).message}`);
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a === '--help' || (a === '-h' && !byShort.has('h'))) throw new HelpRequest(spec, opts.command);
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const s = spec[name];
      if (!s) throw bad(`unknown flag: --${name}`);
      if (s.type === 'bool') set(name, eq > 0 ? bool(name, a.slice(eq + 1)) : true);
      else if (eq > 0) set(name, a.slice(eq + 1));
      else if (i + 1 < argv.length) set(name, argv[++i]);
      else throw bad(`flag needs an argument: --${name}`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        if (a[j] === 'h' && !byShort.has('h')) throw new HelpRequest(spec, opts.command);
        const name = byShort.get(a[j]);
        if (!name) throw bad(`unknown shorthand flag: '${a[j]}' in ${a}`);
        if (spec[name].type === 'bool') {
          if (a[j + 1] === '=') {
            set(name, bool(name, a.slice(j + 2)));
            break;
          }
          set(name, true);
          continue;
        }
        const rest = a.slice(j + 1).replace(/^=/, '');
        if (rest) set(name, rest);
        else if (i + 1 < argv.length) set(name, argv[++i]);
        else throw bad(`flag needs an argument: '${a[j]}' in ${a}`);
        break;
      }
      continue;
    }
    args.push(a);
    if (opts.stopAtOperand) {
      args.push(...argv.slice(i + 1));
      break;
    }
  }
  return { flags, args };
}

const plural = (n: number) => `${n} argument${n === 1 ? '' : 's'}`;

/** Parses a command's arguments by its spec, checking the count of operands as cobra does. */
export function parseCommand(c: CommandSpec, argv: string[]): Parsed {
  const p = parseArgs(argv, c.flags, { stopAtOperand: c.stopAtOperand, command: c });
  const { min = 0, max = Infinity } = c.args ?? {};
  const n = p.args.length;
  const name = `'berth ${c.path}'`;
  if (max === 0 && n > 0) throw new ArgCountError(`${name} accepts no arguments`, c, 'Run');
  if (min === max && n !== min) throw new ArgCountError(`${name} requires ${plural(min)}`, c, 'Run');
  if (min > 0 && max < Infinity && (n < min || n > max))
    throw new ArgCountError(`${name} requires at least ${min} and at most ${plural(max)}`, c, 'Run');
  if (n < min) throw new ArgCountError(`${name} requires at least ${plural(min)}`, c, 'See');
  if (n > max) throw new ArgCountError(`${name} requires at most ${plural(max)}`, c, 'See');
  return p;
}
