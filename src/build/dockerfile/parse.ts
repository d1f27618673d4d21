// Dockerfile text → the typed Dockerfile of types.ts, with Docker's rules for parser directives,
// comments, line continuations, heredocs, flags and each instruction's arguments, and its words
// for every refusal, placed at the instruction's line. Nothing is expanded here (expand.ts does
// that when the builder reaches an instruction), so an error that needs a variable's value comes
// later, as in Docker.

import { DockerfileError, InstructionError, fault } from './errors.js';
import { parseGoDuration } from './duration.js';
import { chompTabs, heredocOfWord, heredocsOfLine, type HeredocHead } from './heredoc.js';
import { parseMount } from './mounts.js';
import { withSuggestion } from './suggest.js';
import type {
  AddInstruction,
  ArgDeclaration,
  CommandLine,
  CopyInstruction,
  CopySource,
  Directives,
  Dockerfile,
  EscapeChar,
  FromInstruction,
  HealthcheckInstruction,
  Heredoc,
  Instruction,
  KeyValue,
  Located,
  RunInstruction,
  Stage,
} from './types.js';
import { WHITESPACE, parseJsonArray, parseWords, splitCommand } from './words.js';

export interface ParseOptions {
  /** The name errors use: `Dockerfile`, or the `-f` path as the user gave it. */
  file: string;
}

const INSTRUCTIONS = new Set([
  'from',
  'run',
  'cmd',
  'entrypoint',
  'shell',
  'copy',
  'add',
  'env',
  'arg',
  'label',
  'expose',
  'volume',
  'workdir',
  'user',
  'stopsignal',
  'healthcheck',
  'onbuild',
  'maintainer',
]);

/** Instructions whose shell form may open heredocs. */
const HEREDOC_INSTRUCTIONS = new Set(['run', 'copy', 'add']);

/** One logical line: an instruction with its continuations joined, before its arguments are read. */
interface Node {
  line: number;
  endLine: number;
  /** The joined line (continuation escapes and comment lines removed). */
  text: string;
  heredocs: Heredoc[];
}

/** Parse a Dockerfile. Throws DockerfileError (`<file>:<line>: <reason>`) on the first fault. */
export function parseDockerfile(text: string, options: ParseOptions): Dockerfile {
  const file = options.file;
  const { directives, nodes, warnings } = scan(text, file);
  const globalArgs: Dockerfile['globalArgs'] = [];
  const stages: Stage[] = [];
  const names = new Map<string, number>();
  for (const node of nodes) {
    let parsed: FromInstruction | Instruction;
    try {
      parsed = parseInstruction(node, directives.escape);
    } catch (err) {
      if (err instanceof InstructionError) throw new DockerfileError(file, node.line, err.message);
      throw err;
    }
    if (parsed.kind === 'FROM') {
      if (parsed.name !== undefined) {
        if (names.has(parsed.name)) throw new DockerfileError(file, node.line, `duplicate stage name ${JSON.stringify(parsed.name)}`);
        names.set(parsed.name, stages.length);
      }
      stages.push({ index: stages.length, ...(parsed.name !== undefined ? { name: parsed.name } : {}), from: parsed, instructions: [] });
    } else if (stages.length === 0) {
      if (parsed.kind !== 'ARG') throw new DockerfileError(file, node.line, 'no build stage in current context');
      globalArgs.push(parsed);
    } else stages[stages.length - 1].instructions.push(parsed);
  }
  if (stages.length === 0) throw new DockerfileError(file, undefined, 'dockerfile contains no stages to build');
  return { file, directives, globalArgs, stages, warnings };
}

/**
 * One ONBUILD trigger of a parent image's config (`RUN make`, or with its heredoc bodies), as
 * the child's build runs it: parsed alone, with the default escape character.
 */
export function parseOnbuildTrigger(trigger: string, options: ParseOptions): Instruction {
  const { nodes } = scan(trigger, options.file);
  if (nodes.length !== 1) throw new DockerfileError(options.file, undefined, 'onbuild trigger should be a single expression');
  const node = nodes[0];
  let parsed: FromInstruction | Instruction;
  try {
    parsed = parseInstruction(node, '\\');
    if (parsed.kind === 'FROM' || parsed.kind === 'MAINTAINER' || parsed.kind === 'ONBUILD') {
      throw fault(`${parsed.kind} isn't allowed as an ONBUILD trigger`);
    }
  } catch (err) {
    if (err instanceof InstructionError)
      throw new DockerfileError(options.file, undefined, `ONBUILD trigger ${JSON.stringify(trigger)}: ${err.message}`);
    throw err;
  }
  return parsed;
}

/** Lines of the text, each with its line ending (as Docker's scanner keeps them), a leading BOM removed. */
function splitLines(text: string): string[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const nl = body.indexOf('\n', start);
    if (nl < 0) {
      if (start < body.length) lines.push(body.slice(start));
      return lines;
    }
    lines.push(body.slice(start, nl + 1));
    start = nl + 1;
  }
}

const trimNewline = (s: string) => s.replace(/[\r\n]+$/, '');
const trimLeft = (s: string) => s.replace(/^\s+/u, '');
const isComment = (raw: string) => trimLeft(trimNewline(raw)).startsWith('#');
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;

/** Directives, then the instructions' logical lines with their heredoc bodies. */
function scan(text: string, file: string): { directives: Directives; nodes: Node[]; warnings: string[] } {
  const lines = splitLines(text);
  const directives: Directives = { escape: '\\' };
  const seen = new Set<string>();
  let directivesDone = false;
  let continuation = continuationRegExp('\\');
  const nodes: Node[] = [];
  const warnings: string[] = [];

  /** Parser directives come first: the first line that is not one ends them. */
  const directive = (token: string, lineNo: number) => {
    if (directivesDone) return;
    const m = DIRECTIVE.exec(token);
    const key = m?.[1].toLowerCase();
    if (!m || (key !== 'syntax' && key !== 'escape' && key !== 'check')) {
      directivesDone = true;
      return;
    }
    if (seen.has(key)) throw new DockerfileError(file, lineNo, `only one ${key} parser directive can be used`);
    seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '`' && m[2] !== '\\') throw new DockerfileError(file, lineNo, `invalid escape token '${m[2]}' does not match \` or \\`);
      directives.escape = m[2] as EscapeChar;
      continuation = continuationRegExp(directives.escape);
    } else directives[key as 'syntax' | 'check'] = m[2];
  };
  /** A line continues when it ends with the escape character (not itself escaped), spaces after it allowed. */
  const trimContinuation = (line: string): [string, boolean] => {
    if (!continuation.test(line)) return [line, true];
    return [line.replace(continuation, '$1'), false];
  };

  let i = 0;
  while (i < lines.length) {
    const lineNo = i + 1;
    let token = trimLeft(trimNewline(lines[i++]));
    directive(token, lineNo);
    if (token.startsWith('#')) token = '';
    let [line, ended] = trimContinuation(token);
    if (ended && line === '') continue;
    let emptyContinuation = false;
    while (!ended && i < lines.length) {
      const raw = lines[i++];
      let next = trimNewline(raw);
      directive(next, i);
      if (isComment(raw)) continue; // a comment line inside a continuation is dropped
      if (next.startsWith('#')) next = '';
      if (trimLeft(next) === '') {
        emptyContinuation = true;
        continue;
      }
      [next, ended] = trimContinuation(next);
      line += next;
    }
    // dockerd's words, each instruction's line indented under its own warning.
    if (emptyContinuation) warnings.push(`Empty continuation line found in:\n    ${line.trim()}`);
    const node: Node = { line: lineNo, endLine: i, text: line, heredocs: [] };
    for (const head of opensHeredocs(line)) {
      let content = '';
      let terminated = false;
      while (i < lines.length) {
        const raw = lines[i++];
        let candidate = trimNewline(raw);
        if (head.chomp) candidate = candidate.replace(/^\t+/, '');
        if (candidate === head.name) {
          terminated = true;
          break;
        }
        content += raw;
      }
      if (!terminated) throw new DockerfileError(file, lineNo, 'unterminated heredoc');
      node.heredocs.push({ ...head, content: head.chomp ? chompTabs(content) : content });
    }
    node.endLine = i;
    nodes.push(node);
  }
  if (nodes.length === 0) throw new DockerfileError(file, undefined, 'file with no instructions');
  // Then dockerd's closing line, once.
  if (warnings.length) warnings.push('Empty continuation lines will become errors in a future release.');
  return { directives, nodes, warnings };
}

function continuationRegExp(escape: EscapeChar): RegExp {
  const e = escape === '\\' ? '\\\\' : '`';
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`, 's');
}

/** The heredocs a shell-form RUN, COPY or ADD (or an ONBUILD of one) opens on its line. */
function opensHeredocs(line: string): HeredocHead[] {
  let { keyword, rest } = splitCommand(line);
  if (keyword === 'onbuild') ({ keyword, rest } = splitCommand(rest));
  if (!HEREDOC_INSTRUCTIONS.has(keyword)) return [];
  try {
    if (parseJsonArray(rest) !== undefined) return [];
  } catch (err) {
    if (err instanceof InstructionError) return []; // the instruction's own parse reports it
    throw err;
  }
  return heredocsOfLine(line);
}

/** Flags of one instruction, checked as Docker's BFlags does. */
class Flags {
  private defined = new Map<string, 'bool' | 'string' | 'strings'>();
  private values = new Map<string, string[]>();
  constructor(private given: string[]) {}

  bool(name: string): () => boolean {
    this.defined.set(name, 'bool');
    return () => (this.values.get(name)?.[0] ?? 'false') === 'true';
  }
  /** A boolean flag whose absence differs from false. */
  optionalBool(name: string): () => boolean | undefined {
    this.defined.set(name, 'bool');
    return () => (this.values.has(name) ? this.values.get(name)![0] === 'true' : undefined);
  }
  string(name: string): () => string | undefined {
    this.defined.set(name, 'string');
    return () => this.values.get(name)?.[0];
  }
  strings(name: string): () => string[] {
    this.defined.set(name, 'strings');
    return () => this.values.get(name) ?? [];
  }
  parse(): void {
    for (const arg of this.given) {
      if (arg === '--') return;
      if (!arg.startsWith('--')) throw fault(`arg should start with -- : ${arg}`);
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const value = eq < 0 ? undefined : arg.slice(eq + 1);
      const type = this.defined.get(name);
      if (!type) throw fault(`unknown flag: ${name}`);
      if (this.values.has(name) && type !== 'strings') throw fault(`duplicate flag specified: ${name}`);
      if (type === 'bool') {
        if (value === '') throw fault(`missing a value on flag: ${name}`);
        const lower = (value ?? 'true').toLowerCase();
        if (lower !== 'true' && lower !== 'false') throw fault(`expecting boolean value for flag ${name}, not: ${value}`);
        this.values.set(name, [lower]);
      } else {
        if (value === undefined) throw fault(`missing a value on flag: ${name}`);
        this.values.set(name, [...(this.values.get(name) ?? []), value]);
      }
    }
  }
}

/** Shell or exec form of RUN, CMD, ENTRYPOINT and HEALTHCHECK CMD. */
function commandLine(rest: string): CommandLine {
  const json = parseJsonArray(rest);
  return json !== undefined ? { form: 'exec', args: json } : { form: 'shell', text: rest };
}

/** ADD, COPY and VOLUME: a JSON array, or words split on whitespace. */
function jsonOrWords(rest: string): { words: string[]; json: boolean } {
  const json = parseJsonArray(rest);
  if (json !== undefined) return { words: json, json: true };
  return { words: rest === '' ? [] : rest.split(WHITESPACE), json: false };
}

/** ENV and LABEL: `key value…` (the old form, one pair) or `key=value…`, quotes kept for expansion. */
function keyValues(rest: string, name: string, escape: EscapeChar): KeyValue[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) throw fault(`${name} requires at least one argument`);
  let pairs: KeyValue[];
  if (!words[0].includes('=')) {
    const m = WHITESPACE.exec(rest);
    if (!m) throw fault(`${name} must have two arguments`);
    pairs = [{ key: rest.slice(0, m.index), value: rest.slice(m.index + m[0].length) }];
  } else {
    pairs = words.map((word) => {
      const eq = word.indexOf('=');
      if (eq < 0) throw fault(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
      return { key: word.slice(0, eq), value: word.slice(eq + 1) };
    });
  }
  if (pairs.some((p) => p.key === '')) throw fault(`${name} names can not be blank`);
  return pairs;
}

const exactlyOne = (name: string) => fault(`${name} requires exactly one argument`);
const atLeastOne = (name: string) => fault(`${name} requires at least one argument`);

function parseInstruction(node: Node, escape: EscapeChar): FromInstruction | Instruction {
  const { word, flags: given, rest } = splitCommand(node.text);
  const at: Located = { line: node.line, endLine: node.endLine, original: node.text.trim() };
  return instruction(word, given, rest, at, node.heredocs, escape);
}

function instruction(
  word: string,
  given: string[],
  rest: string,
  at: Located,
  heredocs: Heredoc[],
  escape: EscapeChar,
): FromInstruction | Instruction {
  const keyword = word.toLowerCase();
  if (!INSTRUCTIONS.has(keyword)) throw fault(withSuggestion(`unknown instruction: ${word.toUpperCase()}`, word, [...INSTRUCTIONS], false));
  const flags = new Flags(given);
  switch (keyword) {
    case 'from': {
      const args = rest === '' ? [] : rest.split(WHITESPACE);
      let name: string | undefined;
      if (args.length === 3 && args[1].toLowerCase() === 'as') {
        name = args[2].toLowerCase();
        if (!/^[a-z][a-z0-9-_.]*$/.test(name)) {
          throw fault(`invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`);
        }
      } else if (args.length !== 1) throw fault('FROM requires either one or three arguments');
      const platform = flags.string('platform');
      flags.parse();
      const p = platform();
      return { kind: 'FROM', ...at, image: args[0], ...(name !== undefined ? { name } : {}), ...(p !== undefined ? { platform: p } : {}) };
    }
    case 'run': {
      const mounts = flags.strings('mount');
      const network = flags.string('network');
      const security = flags.string('security');
      flags.parse();
      const command = commandLine(rest);
      if (rest === '' || (command.form === 'exec' && command.args.length === 0)) throw atLeastOne('RUN');
      const net = network();
      if (net !== undefined && net !== 'default' && net !== 'none' && net !== 'host') {
        throw fault(`unsupported network mode ${JSON.stringify(net)}`);
      }
      const sec = security();
      if (sec !== undefined && sec !== 'sandbox') {
        if (sec === 'insecure')
          throw fault('RUN --security=insecure is not supported: berth runs every build step with the default security profile');
        throw fault(`unsupported security mode ${JSON.stringify(sec)}`);
      }
      const specs = mounts();
      const run: RunInstruction = {
        kind: 'RUN',
        ...at,
        command,
        heredocs: command.form === 'shell' ? heredocs : [],
        mounts: specs.map((spec) => parseMount(spec)),
        mountSpecs: specs,
        ...(net !== undefined ? { network: net } : {}),
      };
      return run;
    }
    case 'cmd':
    case 'entrypoint':
      flags.parse();
      return { kind: keyword === 'cmd' ? 'CMD' : 'ENTRYPOINT', ...at, command: commandLine(rest) };
    case 'shell': {
      flags.parse();
      if (rest === '') throw atLeastOne('SHELL');
      const json = parseJsonArray(rest);
      if (json === undefined) throw fault('SHELL requires the arguments to be in JSON form');
      if (json.length === 0) throw atLeastOne('SHELL');
      return { kind: 'SHELL', ...at, shell: json };
    }
    case 'copy':
    case 'add':
      return copyOrAdd(keyword, flags, rest, at, heredocs);
    case 'env':
      flags.parse();
      return { kind: 'ENV', ...at, pairs: keyValues(rest, 'ENV', escape) };
    case 'label':
      flags.parse();
      return { kind: 'LABEL', ...at, pairs: keyValues(rest, 'LABEL', escape) };
    case 'arg': {
      flags.parse();
      const words = parseWords(rest, escape);
      if (words.length === 0) throw atLeastOne('ARG');
      const args: ArgDeclaration[] = words.map((word) => {
        const eq = word.indexOf('=');
        if (eq < 0) return { name: word };
        if (eq === 0) throw fault('ARG names can not be blank');
        return { name: word.slice(0, eq), default: word.slice(eq + 1) };
      });
      return { kind: 'ARG', ...at, args };
    }
    case 'expose': {
      const ports = rest === '' ? [] : rest.split(WHITESPACE);
      if (ports.length === 0) throw atLeastOne('EXPOSE');
      flags.parse();
      return { kind: 'EXPOSE', ...at, ports: ports.sort() };
    }
    case 'volume': {
      const { words } = jsonOrWords(rest);
      if (words.length === 0) throw atLeastOne('VOLUME');
      flags.parse();
      const paths = words.map((w) => w.trim());
      if (paths.some((p) => p === '')) throw fault('VOLUME specified can not be an empty string');
      return { kind: 'VOLUME', ...at, paths };
    }
    case 'workdir':
    case 'user':
    case 'stopsignal':
    case 'maintainer': {
      if (rest === '') throw exactlyOne(keyword.toUpperCase());
      flags.parse();
      switch (keyword) {
        case 'workdir':
          return { kind: 'WORKDIR', ...at, path: rest };
        case 'user':
          return { kind: 'USER', ...at, user: rest };
        case 'stopsignal':
          return { kind: 'STOPSIGNAL', ...at, signal: rest };
        default:
          return { kind: 'MAINTAINER', ...at, maintainer: rest };
      }
    }
    case 'healthcheck':
      return healthcheck(flags, given, rest, at);
    default: {
      // onbuild
      if (rest === '') throw atLeastOne('ONBUILD');
      flags.parse();
      const trigger = splitCommand(rest);
      const name = trigger.keyword.toUpperCase();
      if (name === 'ONBUILD') throw fault("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (name === 'MAINTAINER' || name === 'FROM') throw fault(`${name} isn't allowed as an ONBUILD trigger`);
      let expression = at.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of heredocs) expression += '\n' + h.content + h.name;
      const inner = instruction(
        trigger.word,
        trigger.flags,
        trigger.rest,
        { ...at, original: rest.trim() },
        heredocs,
        escape,
      ) as Instruction;
      return { kind: 'ONBUILD', ...at, expression, instruction: inner };
    }
  }
}

function copyOrAdd(
  keyword: 'copy' | 'add',
  flags: Flags,
  rest: string,
  at: Located,
  heredocs: Heredoc[],
): CopyInstruction | AddInstruction {
  const name = keyword.toUpperCase();
  const { words, json } = jsonOrWords(rest);
  if (words.length < 2) {
    throw fault(`${name} requires at least two arguments, but only one was provided. Destination could not be determined.`);
  }
  const chown = flags.string('chown');
  const chmod = flags.string('chmod');
  const link = flags.bool('link');
  const exclude = flags.strings('exclude');
  const from = keyword === 'copy' ? flags.string('from') : undefined;
  const parents = keyword === 'copy' ? flags.bool('parents') : undefined;
  const checksum = keyword === 'add' ? flags.string('checksum') : undefined;
  const keepGitDir = keyword === 'add' ? flags.bool('keep-git-dir') : undefined;
  const unpack = keyword === 'add' ? flags.optionalBool('unpack') : undefined;
  flags.parse();
  const dest = words[words.length - 1];
  const byName = new Map(heredocs.map((h) => [h.name, h]));
  if (!json && heredocOfWord(dest)) throw fault(`${name} cannot accept a heredoc as a destination`);
  const sources: CopySource[] = words.slice(0, -1).map((src) => {
    const head = json ? undefined : heredocOfWord(src);
    const body = head && byName.get(head.name);
    return body ? { kind: 'heredoc', heredoc: body } : { kind: 'path', path: src };
  });
  const common = {
    ...at,
    sources,
    dest,
    ...(chown() !== undefined ? { chown: chown()! } : {}),
    ...(chmod() !== undefined ? { chmod: chmod()! } : {}),
    link: link(),
    exclude: exclude(),
  };
  if (keyword === 'copy') {
    const f = from!();
    return { kind: 'COPY', ...common, ...(f !== undefined ? { from: f } : {}), parents: parents!() };
  }
  const sum = checksum!();
  const u = unpack!();
  return {
    kind: 'ADD',
    ...common,
    ...(sum !== undefined ? { checksum: sum } : {}),
    keepGitDir: keepGitDir!(),
    ...(u !== undefined ? { unpack: u } : {}),
  };
}

function healthcheck(flags: Flags, given: string[], rest: string, at: Located): HealthcheckInstruction {
  const m = /\s/u.exec(rest);
  const typeWord = m ? rest.slice(0, m.index) : rest;
  if (typeWord === '') throw atLeastOne('HEALTHCHECK');
  const type = typeWord.toUpperCase();
  const args = m ? rest.slice(m.index).trimStart() : '';
  if (type === 'NONE') {
    if (args !== '') throw fault('HEALTHCHECK NONE takes no arguments');
    // Docker reads no flags of HEALTHCHECK NONE and drops any given; berth says so instead.
    if (given.length > 0) throw fault(`HEALTHCHECK NONE takes no flags (${given.join(' ')})`);
    return { kind: 'HEALTHCHECK', ...at, none: true };
  }
  const interval = flags.string('interval');
  const timeout = flags.string('timeout');
  const startPeriod = flags.string('start-period');
  const startInterval = flags.string('start-interval');
  const retries = flags.string('retries');
  flags.parse();
  if (type !== 'CMD') throw fault(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  const command = commandLine(args);
  if (args === '' || (command.form === 'exec' && command.args.length === 0)) throw fault('Missing command after HEALTHCHECK CMD');
  const out: HealthcheckInstruction = { kind: 'HEALTHCHECK', ...at, none: false, command };
  const durations = [
    ['interval', interval(), 'interval'],
    ['timeout', timeout(), 'timeout'],
    ['start-period', startPeriod(), 'startPeriod'],
    ['start-interval', startInterval(), 'startInterval'],
  ] as const;
  for (const [flag, value, field] of durations) {
    if (value === undefined || value === '') continue;
    const ns = parseGoDuration(value);
    if (ns !== 0 && ns < 1e6) throw fault(`Interval ${JSON.stringify(flag)} cannot be less than 1ms`);
    out[field] = ns;
  }
  const r = retries();
  if (r !== undefined && r !== '') {
    if (!/^[+-]?\d+$/.test(r) || Math.abs(Number(r)) > 2 ** 31 - 1)
      throw fault(`strconv.ParseInt: parsing ${JSON.stringify(r)}: invalid syntax`);
    const n = Number(r);
    if (n < 0) throw fault(`--retries cannot be negative (${n})`);
    out.retries = n;
  }
  return out;
}
