// `--format`: the part of Go's text/template that docker's --format strings use, with docker's
// functions (json, join, split, lower, upper, title, pad, truncate, println) and Go's (index,
// len, printf, eq, ne, lt, le, gt, ge, not, and, or). Actions: fields (`.A.B`, `$.A`, `$x.A`),
// method-like fields with arguments (`.Label "k"`), pipelines (`.X | json`), parentheses,
// `if`/`else if`/`else`, `range` (with `$i, $v :=`), `with`, `end`, comments, `{{-`/`-}}`.
// `table` formats (docker's: a header row, then columns aligned as its tabwriter does) are in
// formatRows.

import { invalid } from '../errors.js';

type Value = unknown;
type Node =
  | { t: 'text'; s: string }
  | { t: 'out'; p: Pipe }
  | { t: 'if' | 'with'; p: Pipe; then: Node[]; else: Node[] }
  | { t: 'range'; p: Pipe; vars: string[]; body: Node[]; else: Node[] };
type Arg =
  | { k: 'field'; base: string | null; path: string[] }
  | { k: 'lit'; v: Value }
  | { k: 'fn'; name: string }
  | { k: 'pipe'; p: Pipe }
  | { k: 'var'; name: string; path: string[] };
type Cmd = Arg[];
type Pipe = Cmd[];

const fail = (msg: string): never => {
  throw invalid(`template: ${msg}`);
};

function lex(src: string): (string | { action: string })[] {
  const out: (string | { action: string })[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push(src.slice(i));
      break;
    }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src[start] === '-' && /\s/.test(src[start + 1] ?? '')) {
      text = text.trimEnd();
      start += 1;
    }
    // The closing braces, outside quoted strings.
    let j = start,
      q = '';
    for (; j < src.length; j++) {
      const c = src[j];
      if (q) {
        if (c === '\\' && q === '"') j++;
        else if (c === q) q = '';
      } else if (c === '"' || c === '`' || c === "'") q = c;
      else if (c === '}' && src[j + 1] === '}') break;
    }
    if (j >= src.length) fail('unclosed action');
    let body = src.slice(start, j);
    let next = j + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      while (next < src.length && /\s/.test(src[next])) next++;
    }
    if (text) out.push(text);
    out.push({ action: body.trim() });
    i = next;
  }
  return out;
}

function tokens(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) if (s[j] === '\\') j++;
      out.push(s.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = s.indexOf('`', i + 1);
      if (j < 0) fail('unterminated raw string');
      out.push(s.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if ('()|,'.includes(c)) {
      out.push(c);
      i++;
      continue;
    }
    if (c === ':' && s[i + 1] === '=') {
      out.push(':=');
      i += 2;
      continue;
    }
    let j = i;
    while (j < s.length && !/[\s()|,]/.test(s[j]) && !(s[j] === ':' && s[j + 1] === '=')) j++;
    out.push(s.slice(i, j));
    i = j;
  }
  return out;
}

function parsePipe(toks: string[], pos: { i: number }, close?: string): Pipe {
  const pipe: Pipe = [];
  let cmd: Cmd = [];
  for (; pos.i < toks.length; pos.i++) {
    const t = toks[pos.i];
    if (t === close) break;
    if (t === '|') {
      if (!cmd.length) fail('missing command before |');
      pipe.push(cmd);
      cmd = [];
      continue;
    }
    if (t === '(') {
      pos.i++;
      cmd.push({ k: 'pipe', p: parsePipe(toks, pos, ')') });
      if (toks[pos.i] !== ')') fail('unclosed (');
      continue;
    }
    cmd.push(parseArg(t));
  }
  if (!cmd.length) fail('missing value for command');
  pipe.push(cmd);
  return pipe;
}

function parseArg(t: string): Arg {
  if (t === '.') return { k: 'field', base: null, path: [] };
  if (t.startsWith('.')) return { k: 'field', base: null, path: t.slice(1).split('.') };
  if (t.startsWith('$')) {
    const [name, ...path] = t.split('.');
    return { k: 'var', name, path };
  }
  if (t.startsWith('"')) {
    try {
      return { k: 'lit', v: JSON.parse(t) };
    } catch {
      return fail(`bad string ${t}`);
    }
  }
  if (t.startsWith('`')) return { k: 'lit', v: t.slice(1, -1) };
  if (t === 'true' || t === 'false') return { k: 'lit', v: t === 'true' };
  if (t === 'nil') return { k: 'lit', v: null };
  if (/^-?\d+(\.\d+)?$/.test(t)) return { k: 'lit', v: Number(t) };
  if (/^[A-Za-z_]\w*$/.test(t)) {
    if (!(t in FUNCS)) fail(`function "${t}" not defined`);
    return { k: 'fn', name: t };
  }
  return fail(`unexpected "${t}" in command`);
}

function parse(src: string): Node[] {
  const items = lex(src);
  let k = 0;
  /** Nodes up to one of the `stops` keywords (whose action text is returned too). */
  const block = (stops: string[]): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (k < items.length) {
      const it = items[k++];
      if (typeof it === 'string') {
        nodes.push({ t: 'text', s: it });
        continue;
      }
      const a = it.action;
      if (a.startsWith('/*')) continue;
      const word = /^(\w+)\b/.exec(a)?.[1] ?? '';
      if (stops.includes(word)) return { nodes, stop: a };
      if (word === 'if' || word === 'with' || word === 'range') nodes.push(control(word, a.slice(word.length)));
      else if (word === 'end' || word === 'else') fail(`unexpected {{${word}}}`);
      else nodes.push({ t: 'out', p: parsePipe(tokens(a), { i: 0 }) });
    }
    if (stops.length) fail('unexpected EOF: missing {{end}}');
    return { nodes, stop: '' };
  };
  /** An if/with/range after its keyword, through its {{end}}; `else if` nests and shares that end. */
  const control = (word: 'if' | 'with' | 'range', rest: string): Node => {
    let vars: string[] = [];
    const decl = /^\s*(\$\w*)\s*(?:,\s*(\$\w*)\s*)?:=/.exec(rest);
    if (word === 'range' && decl) {
      vars = [decl[1], decl[2]].filter(Boolean) as string[];
      rest = rest.slice(decl[0].length);
    }
    const p = parsePipe(tokens(rest), { i: 0 });
    const body = block(['end', 'else']);
    let elseNodes: Node[] = [];
    if (body.stop.startsWith('else')) {
      const tail = body.stop.slice(4).trim();
      elseNodes = tail.startsWith('if ') ? [control('if', tail.slice(2))] : block(['end']).nodes;
    }
    return word === 'range'
      ? { t: 'range', p, vars, body: body.nodes, else: elseNodes }
      : { t: word, p, then: body.nodes, else: elseNodes };
  };
  return block([]).nodes;
}

function truthy(v: Value): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/** Go's default printing: maps as map[k:v], lists as [a b], nothing as <no value>. */
export function show(v: Value): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(show).join(' ')}]`;
  if (typeof v === 'object') {
    if (typeof (v as { toString?: unknown }).toString === 'function' && (v as object).toString !== Object.prototype.toString)
      return String(v);
    return `map[${Object.keys(v as object)
      .sort()
      .map((k) => `${k}:${show((v as Record<string, Value>)[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}

const cmp = (a: Value, b: Value) =>
  typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;

const FUNCS: Record<string, (...a: Value[]) => Value> = {
  // A CLI context (ps's rows, images' rows) marshals itself as Go's json.Marshal does, HTML
  // characters escaped; plain values as docker's encoder writes them, unescaped.
  json: (v) => {
    const s = JSON.stringify(v === undefined ? null : v);
    const context = !!v && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function';
    return context ? s.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026') : s;
  },
  join: (list, sep) => (Array.isArray(list) ? list.map(show).join(String(sep)) : show(list)),
  split: (s, sep) => String(s).split(String(sep)),
  lower: (s) => show(s).toLowerCase(),
  upper: (s) => show(s).toUpperCase(),
  title: (s) => show(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  pad: (s, l, r) => `${' '.repeat(Number(l))}${show(s)}${' '.repeat(Number(r))}`,
  truncate: (s, n) => [...show(s)].slice(0, Number(n)).join(''),
  println: (...a) => `${a.map(show).join(' ')}\n`,
  printf: (f, ...a) => {
    let i = 0;
    return String(f).replace(/%[-+ #0-9.]*([svdqt%])/g, (_m, c) =>
      c === '%' ? '%' : c === 'q' ? JSON.stringify(show(a[i++])) : show(a[i++]),
    );
  },
  index: (v, ...keys) => keys.reduce<Value>((o, k) => (o == null ? undefined : (o as Record<string, Value>)[String(k)]), v) ?? '',
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  eq: (a, ...b) => b.some((x) => x === a),
  ne: (a, b) => a !== b,
  lt: (a, b) => cmp(a, b) < 0,
  le: (a, b) => cmp(a, b) <= 0,
  gt: (a, b) => cmp(a, b) > 0,
  ge: (a, b) => cmp(a, b) >= 0,
  not: (v) => !truthy(v),
  and: (...a) => a.find((x) => !truthy(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truthy(x)) ?? a[a.length - 1],
};

interface Scope {
  dot: Value;
  root: Value;
  vars: Record<string, Value>;
}

/** missingkey=error for the template being run (JS is single-threaded: set around one render). */
let strictMaps = false;

function field(base: Value, path: string[], args: Value[], label: string): Value {
  let v = base;
  for (const [n, name] of path.entries()) {
    if (v === null || v === undefined) return undefined;
    if (typeof v !== 'object') fail(`executing at <${label}>: can't evaluate field ${name} in type ${typeof v}`);
    const obj = v as Record<string, Value>;
    if (!(name in obj)) {
      // Go: a missing map key is no value (an error with missingkey=error, as docker's inspect);
      // a missing struct field an error. JSON objects are maps.
      // A CLI row (it marshals itself: toJSON) is one of docker's context structs, not a map.
      const plain = Object.getPrototypeOf(obj) === Object.prototype || Object.getPrototypeOf(obj) === null;
      if (plain && typeof obj.toJSON !== 'function') {
        if (strictMaps) fail(`executing at <${label}>: map has no entry for key "${name}"`);
        return undefined;
      }
      fail(`executing at <${label}>: can't evaluate field ${name}`);
    }
    v = obj[name];
    if (typeof v === 'function')
      v = n === path.length - 1 ? (v as (...a: Value[]) => Value).call(obj, ...args) : (v as () => Value).call(obj);
  }
  return v;
}

function evalPipe(p: Pipe, s: Scope): Value {
  let prev: Value = undefined;
  for (const [n, cmd] of p.entries()) {
    const [head, ...rest] = cmd;
    const args = rest.map((a) => evalArg(a, s, []));
    if (n > 0) args.push(prev);
    if (head.k === 'fn') prev = FUNCS[head.name](...args);
    else if (head.k === 'field' || head.k === 'var') prev = evalArg(head, s, args);
    else {
      if (args.length) fail('a value takes no arguments');
      prev = evalArg(head, s, []);
    }
  }
  return prev;
}

function evalArg(a: Arg, s: Scope, args: Value[]): Value {
  switch (a.k) {
    case 'lit':
      return a.v;
    case 'pipe':
      return evalPipe(a.p, s);
    case 'fn':
      return FUNCS[a.name]();
    case 'field':
      return field(s.dot, a.path, args, `.${a.path.join('.')}`);
    case 'var': {
      const base = a.name === '$' ? s.root : s.vars[a.name];
      if (a.name !== '$' && !(a.name in s.vars)) fail(`undefined variable: ${a.name}`);
      return field(base, a.path, args, [a.name, ...a.path].join('.'));
    }
  }
}

function run(nodes: Node[], s: Scope, out: string[]): void {
  for (const n of nodes) {
    if (n.t === 'text') out.push(n.s);
    else if (n.t === 'out') out.push(show(evalPipe(n.p, s)));
    else if (n.t === 'if') run(truthy(evalPipe(n.p, s)) ? n.then : n.else, s, out);
    else if (n.t === 'with') {
      const v = evalPipe(n.p, s);
      if (truthy(v)) run(n.then, { ...s, dot: v }, out);
      else run(n.else, s, out);
    } else if (n.t === 'range') {
      const v = evalPipe(n.p, s);
      const entries: [Value, Value][] = Array.isArray(v)
        ? v.map((x, i) => [i, x])
        : v && typeof v === 'object'
          ? Object.keys(v)
              .sort()
              .map((k) => [k, (v as Record<string, Value>)[k]])
          : [];
      if (!entries.length) {
        run(n.else, s, out);
        continue;
      }
      for (const [k, x] of entries) {
        const vars = { ...s.vars };
        if (n.vars.length === 1) vars[n.vars[0]] = x;
        if (n.vars.length === 2) {
          vars[n.vars[0]] = k;
          vars[n.vars[1]] = x;
        }
        run(n.body, { dot: x, root: s.root, vars }, out);
      }
    }
  }
}

export interface Template {
  render(dot: Value): string;
}

/** Compiles `src` (docker's escapes `\t` and `\n` in the flag's text become tab and newline). */
export function compile(src: string, opts: { missingKeyError?: boolean } = {}): Template {
  let nodes: Node[];
  try {
    nodes = parse(src.replace(/\\t/g, '\t').replace(/\\n/g, '\n'));
  } catch (e) {
    throw invalid(`template parsing error: ${(e as Error).message}`);
  }
  return {
    render(dot: Value): string {
      const out: string[] = [];
      strictMaps = !!opts.missingKeyError;
      try {
        run(nodes, { dot, root: dot, vars: { $: dot } }, out);
      } catch (e) {
        throw invalid(`failed to execute template: ${(e as Error).message}`);
      } finally {
        strictMaps = false;
      }
      return out.join('');
    },
  };
}

/**
 * Lines of cells separated by tabs, aligned as docker's tabwriter (minimum width 10 unless
 * given, padding 3, the last cell of a line as it is).
 */
export function alignColumns(lines: string[], minWidth = 10): string {
  const rows = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const r of rows)
    r.slice(0, -1).forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? minWidth, [...c].length + 3);
    });
  return (
    rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c + ' '.repeat(widths[i] - [...c].length) : c)).join('')).join('\n') +
    (rows.length ? '\n' : '')
  );
}

/**
 * Renders `rows` with a --format value: `table [TEMPLATE]` gives a header (from `headers`,
 * keyed by field name) and aligned columns; anything else is a template per row.
 * `defaultTable` is the format of plain `table` (and of no --format at all).
 */
export function formatRows(
  format: string | undefined,
  rows: Value[],
  opts: { defaultTable: string; headers: Record<string, string> },
): string {
  let f = format ?? 'table';
  if (f === 'json') f = '{{json .}}';
  if (f === 'table') f = `table ${opts.defaultTable}`;
  // As docker's formatter: a template naming a field no row has fails even with no rows (a
  // row of every known field, all empty, is rendered and dropped).
  const probe = () => {
    const r = Object.fromEntries(Object.keys(opts.headers).map((k) => [k, '']));
    return { ...r, toJSON: () => r };
  };
  if (f.startsWith('table ')) {
    const t = compile(f.slice(6));
    if (!rows.length) t.render(probe());
    const header = new Proxy(
      {},
      {
        get: (_o, k) => (typeof k === 'string' ? (opts.headers[k] ?? k.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase()) : undefined),
        has: () => true,
      },
    );
    // A field with arguments (.Label "k") heads its column with its field name.
    const headerRow = compile(f.slice(6).replace(/\{\{(-?\s*)\.(\w+)\s+"[^"]*"\s*(-?)\}\}/g, '{{$1.$2$3}}')).render(header);
    return alignColumns([headerRow, ...rows.map((r) => t.render(r))]);
  }
  const t = compile(f);
  if (!rows.length) t.render(probe());
  return rows.map((r) => `${t.render(r)}\n`).join('');
}
