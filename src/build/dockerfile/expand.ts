// Variable expansion of an instruction when the builder reaches it, with the variables then in
// scope (the stage's ENV and the ARGs declared so far), for exactly the fields Docker expands:
// ADD, COPY (sources, dest, --from, --chown, --chmod, --checksum, --exclude, an unquoted
// heredoc's body), ENV, LABEL, ARG's defaults (not its names), EXPOSE (which may split into
// several ports), VOLUME, WORKDIR, USER, STOPSIGNAL and RUN's --mount values; FROM's image and
// --platform with the global ARGs only. RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK and ONBUILD are
// left to the shell or the child image.

import { DockerfileError, InstructionError } from './errors.js';
import { LexError, processWord, type Lookup } from './lex.js';
import { parseMount } from './mounts.js';
import type { CopySource, Dockerfile, EscapeChar, FromInstruction, Instruction } from './types.js';

/** Where the instruction comes from, for its errors, and the escape character its file uses. */
export interface ExpandContext {
  file: string;
  escape: EscapeChar;
}

/** The same instruction, its expanded fields substituted, and the variables it read. */
export interface Expanded<T> {
  instruction: T;
  /** Variables the instruction read that were set: a step's cache key covers their values. */
  used: string[];
  /** Variables it read that were not set (expanded to nothing, or to a `${V:-default}`). */
  unset: string[];
}

/** Choices of the build that change what is expanded. */
export interface ExpandOptions {
  /**
   * Whether a build arg gives ARG `name` its value: then its default is neither expanded nor
   * checked, as Docker skips it (a `${V:?}` in an unused default is no error).
   */
  argGiven?: (name: string) => boolean;
}

/** The context of a parsed Dockerfile: `contextOf(df)`. */
export const contextOf = (df: Pick<Dockerfile, 'file' | 'directives'>): ExpandContext => ({ file: df.file, escape: df.directives.escape });

/** Expand the fields Docker expands in `inst` with `lookup`; faults are DockerfileErrors at its line. */
export function expandInstruction<T extends Instruction>(
  inst: T,
  lookup: Lookup,
  ctx: ExpandContext,
  options: ExpandOptions = {},
): Expanded<T> {
  const used = new Set<string>();
  const unset = new Set<string>();
  const lex = (word: string, raw = false) => {
    const r = processWord(word, lookup, raw ? { escape: '\\', skipProcessQuotes: true } : { escape: ctx.escape });
    r.matched.forEach((v) => used.add(v));
    r.unmatched.forEach((v) => unset.add(v));
    return r;
  };
  const w = (word: string) => lex(word).word;
  const opt = (word: string | undefined) => (word === undefined ? undefined : w(word));
  let out: Instruction;
  try {
    switch (inst.kind) {
      case 'ENV':
      case 'LABEL':
        out = { ...inst, pairs: inst.pairs.map((p) => ({ key: w(p.key), value: w(p.value) })) };
        break;
      case 'ARG':
        out = {
          ...inst,
          args: inst.args.map((a) => (a.default === undefined || options.argGiven?.(a.name) ? a : { name: a.name, default: w(a.default) })),
        };
        break;
      case 'COPY':
      case 'ADD': {
        const sources: CopySource[] = inst.sources.map((s) => {
          if (s.kind === 'path') return { kind: 'path', path: w(s.path) };
          if (!s.heredoc.expand) return s;
          return { kind: 'heredoc', heredoc: { ...s.heredoc, content: lex(s.heredoc.content, true).word } };
        });
        const common = {
          sources,
          dest: w(inst.dest),
          ...(inst.chown !== undefined ? { chown: opt(inst.chown) } : {}),
          ...(inst.chmod !== undefined ? { chmod: opt(inst.chmod) } : {}),
          exclude: inst.exclude.map(w),
        };
        if (inst.kind === 'COPY') out = { ...inst, ...common, ...(inst.from !== undefined ? { from: w(inst.from) } : {}) };
        else out = { ...inst, ...common, ...(inst.checksum !== undefined ? { checksum: w(inst.checksum) } : {}) };
        break;
      }
      case 'EXPOSE':
        out = { ...inst, ports: inst.ports.flatMap((p) => lex(p).words) };
        break;
      case 'VOLUME': {
        const paths = inst.paths.map(w);
        if (paths.includes('')) throw new InstructionError('VOLUME specified can not be an empty string');
        out = { ...inst, paths };
        break;
      }
      case 'WORKDIR':
        out = { ...inst, path: w(inst.path) };
        break;
      case 'USER':
        out = { ...inst, user: w(inst.user) };
        break;
      case 'STOPSIGNAL':
        out = { ...inst, signal: w(inst.signal) };
        break;
      case 'RUN':
        out = { ...inst, mounts: inst.mountSpecs.map((spec) => parseMount(spec, w)) };
        break;
      default:
        out = inst;
    }
  } catch (err) {
    if (err instanceof LexError || err instanceof InstructionError) throw new DockerfileError(ctx.file, inst.line, err.message);
    throw err;
  }
  return { instruction: out as T, used: [...used], unset: [...unset] };
}

/** FROM's image and --platform expanded with the global ARGs (and the build's platform ARGs). */
export function expandFrom(from: FromInstruction, lookup: Lookup, ctx: ExpandContext): Expanded<FromInstruction> {
  const used = new Set<string>();
  const unset = new Set<string>();
  const w = (word: string) => {
    const r = processWord(word, lookup, { escape: ctx.escape });
    r.matched.forEach((v) => used.add(v));
    r.unmatched.forEach((v) => unset.add(v));
    return r.word;
  };
  try {
    const image = w(from.image);
    if (image === '') throw new InstructionError(`base name (${from.image}) should not be blank`);
    const platform = from.platform === undefined ? undefined : w(from.platform);
    if (platform === '') throw new InstructionError(`empty platform value from expression ${from.platform}`);
    return { instruction: { ...from, image, ...(platform !== undefined ? { platform } : {}) }, used: [...used], unset: [...unset] };
  } catch (err) {
    if (err instanceof LexError || err instanceof InstructionError) throw new DockerfileError(ctx.file, from.line, err.message);
    throw err;
  }
}
