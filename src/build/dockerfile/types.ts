// The parsed Dockerfile: what parse.ts makes of a Dockerfile's text and what the builder
// executes. Words are kept as written (quotes, `$VAR` and escapes unprocessed) wherever Docker
// expands them at execution time with the variables then in scope: the builder passes an
// instruction through `expandInstruction` (expand.ts) when it reaches it. Nothing here is
// expanded, looked up or checked against the context; that is the builder's.

/** The escape character of a Dockerfile: `\` unless an `# escape=` directive says `` ` ``. */
export type EscapeChar = '\\' | '`';

/** Parser directives read from the top of the file. */
export interface Directives {
  /** `# syntax=`: a frontend image BuildKit would run; berth reads it, reports it and builds with its own parser. */
  syntax?: string;
  /** `# check=`: BuildKit's lint settings; berth runs no linter, so the builder notes it is not applied. */
  check?: string;
  escape: EscapeChar;
}

/** Where an instruction came from: for errors, and for history's `created_by`. */
export interface Located {
  /** 1-based line of the instruction's first line. */
  line: number;
  /** 1-based line of its last line (its continuations and heredoc bodies included). */
  endLine: number;
  /**
   * The instruction as written, continuations joined as Docker joins them (escape and newline
   * removed, comment lines inside dropped), trimmed; heredoc bodies are not part of it.
   */
  original: string;
}

/** A here-document of RUN, COPY or ADD (`<<EOF` … `EOF`). */
export interface Heredoc {
  /** The delimiter, quotes removed. */
  name: string;
  /** The descriptor it feeds (`3<<EOF`), when one is written; stdin otherwise. */
  fd?: number;
  /** False when the delimiter was quoted (`<<"EOF"`, `<<'EOF'`): the body is taken literally. */
  expand: boolean;
  /** `<<-EOF`: leading tabs were stripped from each line of `content` and the delimiter line. */
  chomp: boolean;
  /** The body, each line with its newline, tabs already stripped when `chomp`. */
  content: string;
}

/** RUN, CMD, ENTRYPOINT and HEALTHCHECK CMD's command: JSON exec form or shell form. */
export type CommandLine =
  /** `["a", "b"]`: run as is, no shell. */
  | { form: 'exec'; args: string[] }
  /** Anything else: given to the stage's SHELL as one argument, text as written (continuations joined). */
  | { form: 'shell'; text: string };

/** A `key=value` pair of ENV or LABEL, both sides unexpanded (quotes still in place). */
export interface KeyValue {
  key: string;
  value: string;
}

/** One `name[=default]` of an ARG. */
export interface ArgDeclaration {
  name: string;
  /** Absent when no `=` was written (`ARG NAME`); `''` for `ARG NAME=`. */
  default?: string;
}

export interface FromInstruction extends Located {
  kind: 'FROM';
  /** The image reference, `scratch`, or an earlier stage's name; expanded with the global ARGs only. */
  image: string;
  /** `AS name`, lower-cased as Docker compares stage names. */
  name?: string;
  /** `--platform=` as written (may hold `$BUILDPLATFORM` and the like). */
  platform?: string;
}

/** `RUN --mount=type=bind`: a directory of the context (default) or of a stage or image. */
export interface BindMount {
  type: 'bind';
  /** As written: a relative target (or none, `''`) is resolved against the stage's WORKDIR, as Docker does. */
  target: string;
  /** Path in the source; `.` (its root) when not given. */
  source?: string;
  /** Stage name or image; the build context when absent. */
  from?: string;
  /** Bind mounts are read-only unless `rw`/`readwrite` is given (their writes are thrown away). */
  readonly: boolean;
}

/** `RUN --mount=type=cache`: a persistent directory kept between builds, keyed by `id`. */
export interface CacheMount {
  type: 'cache';
  /** As written; relative or `''` resolves against the WORKDIR. */
  target: string;
  /** The cache's key; the target path when not given. */
  id?: string;
  sharing: 'shared' | 'private' | 'locked';
  /** Stage or image whose `source` path seeds an empty cache. */
  from?: string;
  source?: string;
  readonly: boolean;
  /** Mode of a new cache directory (default 0o755), its owner (default 0:0). */
  mode?: number;
  uid?: number;
  gid?: number;
}

/** `RUN --mount=type=tmpfs` */
export interface TmpfsMount {
  type: 'tmpfs';
  /** As written; relative or `''` resolves against the WORKDIR. */
  target: string;
  /** Bytes; no limit when absent. */
  size?: number;
}

/** `RUN --mount=type=secret`: a build secret, never written to a layer or the history. */
export interface SecretMount {
  type: 'secret';
  /** The secret's id (`--secret id=…`); the target's base name when not given. */
  id: string;
  /** Where the file appears: `/run/secrets/<id>` when not given. Absent when only `env` is set. */
  target?: string;
  /** `env=NAME`: exposed as an environment variable of the step instead of (or as well as) a file. */
  env?: string;
  /** The build fails when the secret is not given (otherwise the mount is skipped). */
  required: boolean;
  /** File mode (default 0o400) and owner (default 0:0). */
  mode: number;
  uid: number;
  gid: number;
}

export type RunMount = BindMount | CacheMount | TmpfsMount | SecretMount;

export interface RunInstruction extends Located {
  kind: 'RUN';
  command: CommandLine;
  /** Heredocs of a shell-form RUN, in the order written. */
  heredocs: Heredoc[];
  /**
   * `--mount=` in the order given, values as written. A value holding a variable is left out
   * here (Docker checks it once expanded): the builder uses `expandInstruction`'s RUN, whose
   * mounts are parsed again from `mountSpecs` with the variables in scope.
   */
  mounts: RunMount[];
  /** The `--mount=` values as written. */
  mountSpecs: string[];
  /** `--network=`: the build's network when absent. */
  network?: 'default' | 'none' | 'host';
}

export interface CmdInstruction extends Located {
  kind: 'CMD';
  command: CommandLine;
}

export interface EntrypointInstruction extends Located {
  kind: 'ENTRYPOINT';
  command: CommandLine;
}

export interface ShellInstruction extends Located {
  kind: 'SHELL';
  /** JSON form only, as Docker requires. */
  shell: string[];
}

/** A source of COPY or ADD: a path or URL of the context, a stage, or a heredoc written inline. */
export type CopySource = { kind: 'path'; path: string } | { kind: 'heredoc'; heredoc: Heredoc };

interface CopyOrAdd extends Located {
  sources: CopySource[];
  dest: string;
  /** `--chown=user[:group]` as written. */
  chown?: string;
  /** `--chmod=` as written (octal, or symbolic as BuildKit allows). */
  chmod?: string;
  /** `--link` */
  link: boolean;
  /** `--exclude=` patterns, in order. */
  exclude: string[];
}

export interface CopyInstruction extends CopyOrAdd {
  kind: 'COPY';
  /** `--from=`: a stage name or index, or an image; the build context when absent. */
  from?: string;
  /** `--parents`: keep the sources' parent directories under dest. */
  parents: boolean;
}

export interface AddInstruction extends CopyOrAdd {
  kind: 'ADD';
  /** `--checksum=sha256:…`: a remote source must have this digest. */
  checksum?: string;
  /** `--keep-git-dir` (a Git source keeps its .git). */
  keepGitDir: boolean;
  /** `--unpack[=bool]`: whether an archive is extracted; absent, Docker's rule (local tars only). */
  unpack?: boolean;
}

export interface EnvInstruction extends Located {
  kind: 'ENV';
  pairs: KeyValue[];
}

export interface ArgInstruction extends Located {
  kind: 'ARG';
  args: ArgDeclaration[];
}

export interface LabelInstruction extends Located {
  kind: 'LABEL';
  pairs: KeyValue[];
}

export interface ExposeInstruction extends Located {
  kind: 'EXPOSE';
  /** As written (`80`, `80/tcp`, `8000-8010/udp`, `$PORT`); one word may expand to several. */
  ports: string[];
}

export interface VolumeInstruction extends Located {
  kind: 'VOLUME';
  paths: string[];
}

export interface WorkdirInstruction extends Located {
  kind: 'WORKDIR';
  path: string;
}

export interface UserInstruction extends Located {
  kind: 'USER';
  /** `user[:group]` as written. */
  user: string;
}

export interface StopsignalInstruction extends Located {
  kind: 'STOPSIGNAL';
  signal: string;
}

/** HEALTHCHECK: `NONE`, or a command with its timing (nanoseconds, as the image config's Healthcheck). */
export type HealthcheckInstruction = Located & { kind: 'HEALTHCHECK' } & (
    | { none: true }
    | {
        none: false;
        command: CommandLine;
        /** Absent fields take the defaults of whoever runs the image (Docker: 30 s, 30 s, 0, 5 s, 3). */
        interval?: number;
        timeout?: number;
        startPeriod?: number;
        startInterval?: number;
        retries?: number;
      }
  );

export interface OnbuildInstruction extends Located {
  kind: 'ONBUILD';
  /** The trigger as written after ONBUILD: what the image config's OnBuild keeps. */
  expression: string;
  /** The trigger parsed (checked now, as Docker does, and run by the image's children). */
  instruction: Instruction;
}

export interface MaintainerInstruction extends Located {
  kind: 'MAINTAINER';
  maintainer: string;
}

/** Every instruction that may follow FROM in a stage. */
export type Instruction =
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | CopyInstruction
  | AddInstruction
  | EnvInstruction
  | ArgInstruction
  | LabelInstruction
  | ExposeInstruction
  | VolumeInstruction
  | WorkdirInstruction
  | UserInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | OnbuildInstruction
  | MaintainerInstruction;

/** One `FROM` and the instructions up to the next. */
export interface Stage {
  /** 0-based position; `COPY --from=0` names a stage by it. */
  index: number;
  /** `AS name`, lower-cased; absent for an unnamed stage. */
  name?: string;
  from: FromInstruction;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** The name errors use (`Dockerfile`, or the `-f` path as given). */
  file: string;
  directives: Directives;
  /** ARGs before the first FROM: in scope for every FROM line, and redeclarable inside a stage. */
  globalArgs: ArgInstruction[];
  stages: Stage[];
  /** What Docker warns of while parsing (empty continuation lines), each as one line. */
  warnings: string[];
}
