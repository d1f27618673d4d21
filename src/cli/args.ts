// Flags the docker way: `-d`, `--rm`, `-e K=V` / `-eK=V` / `--env=K=V`, grouped short booleans
// (`-it`), and for commands like `run` parsing stops at the first operand (the image), so the
// container's own arguments are left alone.

import { invalid } from '../errors.js';

export interface FlagSpec {
  short?: string;
  /** 'bool', 'string' (last wins) or 'list' (repeatable). */
  type: 'bool' | 'string' | 'list';
}

/** `--help` among a command's flags (or `-h` where no flag takes that letter): the caller prints the usage. */
export class HelpRequest extends Error {
  constructor(readonly spec: Record<string, FlagSpec>) {
    super('help requested');
  }
}

/** The Options: lines of a usage text, from a flag spec. */
export function flagLines(spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).sort(([a], [b]) => a.localeCompare(b)).map(([name, s]) =>
    `  ${s.short ? `-${s.short}, ` : '    '}--${name}${s.type === 'bool' ? '' : s.type === 'list' ? ' list' : ' string'}`);
  return rows.join('\n');
}

export interface Parsed {
  flags: Record<string, boolean | string | string[] | undefined>;
  args: string[];
}

export function parseArgs(argv: string[], spec: Record<string, FlagSpec>, opts: { stopAtOperand?: boolean } = {}): Parsed {
  const flags: Parsed['flags'] = {};
  const args: string[] = [];
  const byShort = new Map(Object.entries(spec).filter(([, s]) => s.short).map(([n, s]) => [s.short!, n]));
  const set = (name: string, value: string | boolean) => {
    const s = spec[name];
    if (s.type === 'list') ((flags[name] as string[] | undefined) ?? (flags[name] = [])).push(String(value));
    else flags[name] = value;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { args.push(...argv.slice(i + 1)); break; }
    if (a === '--help' || (a === '-h' && !byShort.has('h'))) throw new HelpRequest(spec);
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const s = spec[name];
      if (!s) throw invalid(`unknown flag: --${name}`);
      if (s.type === 'bool') set(name, eq > 0 ? !['false', '0'].includes(a.slice(eq + 1)) : true);
      else if (eq > 0) set(name, a.slice(eq + 1));
      else if (i + 1 < argv.length) set(name, argv[++i]);
      else throw invalid(`flag needs an argument: --${name}`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const name = byShort.get(a[j]);
        if (!name) throw invalid(`unknown shorthand flag: '${a[j]}' in ${a}`);
        if (spec[name].type === 'bool') { set(name, true); continue; }
        const rest = a.slice(j + 1).replace(/^=/, '');
        if (rest) set(name, rest);
        else if (i + 1 < argv.length) set(name, argv[++i]);
        else throw invalid(`flag needs an argument: '${a[j]}' in ${a}`);
        break;
      }
      continue;
    }
    args.push(a);
    if (opts.stopAtOperand) { args.push(...argv.slice(i + 1)); break; }
  }
  return { flags, args };
}
