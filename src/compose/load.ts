// Loading a Compose project as Compose v2 does: which files (`-f`, COMPOSE_FILE, or compose.yaml
// and its override found from the working directory up; `-f -` is standard input, named `-` in
// errors, its paths relative to the project directory), the project directory, the variables
// (the shell's over `.env` or `--env-file`), then for each file: parse with positions, `include`,
// substitute, validate against the schema, normalize, resolve `extends`, and merge onto the files
// before it. project.ts then names the project, applies profiles and checks the whole.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { text } from 'node:stream/consumers';
import { parseDotenv } from './dotenv.js';
import { interpolate, InterpolationError, type Lookup } from './interpolate.js';
import { mergeResource, mergeService } from './merge.js';
import { normalizeResource, normalizeService, type Complain, type Dict } from './normalize.js';
import { ComposeFileError, Source, type PathSeg } from './source.js';
import { validate } from './validate.js';

export interface LoadOptions {
  /** `-f` files, in order (relative to `cwd`). */
  files?: string[];
  projectDirectory?: string;
  /** `--env-file`s, in order (relative to `cwd`). */
  envFiles?: string[];
  cwd: string;
  /** The shell's variables. */
  env: Record<string, string | undefined>;
  /** Told each variable used without a value (Compose's warning). */
  warn: (message: string) => void;
  /** The text of `-f -` (process.stdin's by default; standard input can be read once, so a caller loading twice gives it once). */
  stdin?: () => Promise<string>;
}

/** What the files say, merged, before the project is named and checked. */
export interface Model {
  name?: string;
  services: Record<string, Dict>;
  networks: Record<string, Dict>;
  volumes: Record<string, Dict>;
  secrets: Record<string, Dict>;
  configs: Record<string, Dict>;
}

export interface Loaded {
  model: Model;
  /** The files read, absolute, in order (includes and extends' files after the file naming them). */
  configFiles: string[];
  workingDir: string;
  lookup: Lookup;
  sources: Source[];
}

const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
const OVERRIDE_FILES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];
const RESOURCES = ['networks', 'volumes', 'secrets', 'configs'] as const;
/** The name `-f` gives standard input, kept as the file's name (errors, the config_files label). */
const STDIN = '-';

async function readEnvFile(file: string, lookup: Lookup): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ComposeFileError(`couldn't read env file ${file}: ${(e as Error).message}`);
  }
  try {
    return parseDotenv(text, file, lookup);
  } catch (e) {
    throw new ComposeFileError(`${file}: ${(e as Error).message}`);
  }
}

/** The compose files found from `dir` up: the first of the default names, and its override beside it. */
function findDefault(dir: string): string[] {
  for (let d = dir; ; d = dirname(d)) {
    const main = DEFAULT_FILES.map((f) => resolve(d, f)).find(existsSync);
    if (main) {
      const over = OVERRIDE_FILES.map((f) => resolve(d, f)).find(existsSync);
      return over ? [main, over] : [main];
    }
    if (dirname(d) === d) break;
  }
  throw new ComposeFileError(`no configuration file provided: not found (looked for ${DEFAULT_FILES.join(', ')} in ${dir} and above)`);
}

/** The project's variables: `envFiles` (or the project directory's `.env`), under the shell's. */
async function projectEnv(env: LoadOptions['env'], envFiles: string[] | undefined, dir: string): Promise<Lookup> {
  const shell: Lookup = (n) => env[n];
  const vars = new Map<string, string>();
  const files = envFiles?.length ? envFiles : existsSync(resolve(dir, '.env')) ? [resolve(dir, '.env')] : [];
  for (const f of files) {
    for (const [k, v] of await readEnvFile(f, (n) => shell(n) ?? vars.get(n))) vars.set(k, v);
  }
  return (n) => shell(n) ?? vars.get(n);
}

export async function loadFiles(opts: LoadOptions): Promise<Loaded> {
  const envFiles = opts.envFiles?.map((f) => resolve(opts.cwd, f));
  // COMPOSE_FILE may come from the working directory's .env (the project directory is not known yet).
  let lookup = await projectEnv(opts.env, envFiles, opts.projectDirectory ? resolve(opts.cwd, opts.projectDirectory) : opts.cwd);
  let files = opts.files?.length ? opts.files : undefined;
  if (!files) {
    const cf = lookup('COMPOSE_FILE');
    if (cf) files = cf.split(lookup('COMPOSE_PATH_SEPARATOR') ?? ':').filter(Boolean);
  }
  const paths = files ? files.map((f) => (f === STDIN ? f : resolve(opts.cwd, f))) : findDefault(opts.cwd);
  // As Compose v2: the first file's directory, the current one when the first files are stdin.
  const firstFile = paths.find((p) => p !== STDIN);
  const workingDir = opts.projectDirectory ? resolve(opts.cwd, opts.projectDirectory) : firstFile ? dirname(firstFile) : opts.cwd;
  if (!opts.projectDirectory && workingDir !== opts.cwd) lookup = await projectEnv(opts.env, envFiles, workingDir);
  const loader = new Loader(lookup, opts.warn, opts.stdin ?? (() => text(process.stdin)));
  const model = await loader.project(paths, workingDir);
  return { model, configFiles: loader.files, workingDir, lookup, sources: loader.sources };
}

/** What a file's `include` and `extends.file` paths are relative to: its directory, the project's for stdin. */
const fileDir = (file: string, projectDir: string) => (file === STDIN ? projectDir : dirname(file));

/** The files of one load (a project and what it includes), each parsed once. */
class Loader {
  readonly sources: Source[] = [];
  readonly files: string[] = [];
  private readonly warned = new Set<string>();
  private readonly cache = new Map<string, Promise<{ src: Source; value: Dict }>>();

  constructor(
    private readonly lookup: Lookup,
    private readonly warn: (m: string) => void,
    private readonly stdin: () => Promise<string>,
  ) {}

  /** `paths` merged in order; their relative paths are relative to `dir`. */
  async project(paths: string[], dir: string, lookup = this.lookup): Promise<Model> {
    let model: Model = { services: {}, networks: {}, volumes: {}, secrets: {}, configs: {} };
    for (const p of paths) model = this.mergeModel(model, await this.file(p, dir, lookup));
    return model;
  }

  /** A file read, substituted and validated (once per file and variables). */
  private read(file: string, lookup: Lookup): Promise<{ src: Source; value: Dict }> {
    const key = `${file}\0${lookup === this.lookup ? '' : 'own'}`;
    let p = this.cache.get(key);
    if (!p) {
      p = (async () => {
        const src = file === STDIN ? Source.parse(STDIN, await this.stdin()) : await Source.read(file);
        this.sources.push(src);
        if (!this.files.includes(file)) this.files.push(file);
        if (typeof src.value !== 'object' || Array.isArray(src.value)) throw src.error([], 'expected a mapping at the top of the file');
        let value: Dict;
        try {
          value = interpolate(src.value, lookup, (name) => {
            if (this.warned.has(name)) return;
            this.warned.add(name);
            this.warn(`The "${name}" variable is not set. Defaulting to a blank string.`);
          }) as Dict;
        } catch (e) {
          if (e instanceof InterpolationError) throw src.error(e.path, e.message);
          throw e;
        }
        validate(src, value);
        if (value.version !== undefined)
          this.warn(`${file}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`);
        if (Object.keys((value.models as Dict) ?? {}).length)
          throw src.error(['models'], '"models": berth compose cannot run AI models (Docker Model Runner)', true);
        return { src, value };
      })();
      this.cache.set(key, p);
    }
    return p;
  }

  private async file(file: string, dir: string, lookup: Lookup): Promise<Model> {
    const { src, value } = await this.read(file, lookup);
    const complain: Complain = (path, what) => {
      throw src.error(path, what);
    };
    let model: Model = { services: {}, networks: {}, volumes: {}, secrets: {}, configs: {} };
    for (const [i, inc] of ((value.include as unknown[]) ?? []).entries()) {
      model = this.mergeModel(model, await this.include(inc, fileDir(file, dir), src, ['include', i]), src, ['include', i]);
    }
    const own: Model = { name: value.name, services: {}, networks: {}, volumes: {}, secrets: {}, configs: {} };
    for (const [name, raw] of Object.entries((value.services as Dict) ?? {})) {
      own.services[name] = await this.service(name, (raw as Dict) ?? {}, file, value, dir, lookup, src, [], complain);
    }
    for (const kind of RESOURCES) {
      for (const [name, raw] of Object.entries((value[kind] as Dict) ?? {})) own[kind][name] = normalizeResource(raw as Dict | null, dir);
    }
    // What the file defines itself may not redefine what it includes.
    for (const kind of ['services', ...RESOURCES] as const) {
      for (const name of Object.keys(own[kind])) {
        if (model[kind][name] && kind === 'services')
          throw src.error([kind, name], `service "${name}" is also defined by an included file`, true);
      }
    }
    return this.mergeModel(model, own);
  }

  /** One `include` item: its files loaded as a project of their own (their directory, their .env). */
  private async include(item: unknown, fromDir: string, src: Source, at: PathSeg[]): Promise<Model> {
    const spec = typeof item === 'string' ? { path: item } : (item as Dict);
    const paths = (Array.isArray(spec.path) ? spec.path : [spec.path]).map((p: string) => resolve(fromDir, p));
    for (const p of paths) if (!existsSync(p)) throw src.error(at, `included file ${p} does not exist`);
    const dir = spec.project_directory ? resolve(fromDir, spec.project_directory) : dirname(paths[0]);
    const envFiles = spec.env_file
      ? (Array.isArray(spec.env_file) ? spec.env_file : [spec.env_file]).map((f: string) => resolve(fromDir, f))
      : undefined;
    const shell: Record<string, string | undefined> = {};
    // The including project's variables stay in force over the included one's .env.
    const base = this.lookup;
    const env = await projectEnv(new Proxy(shell, { get: (_t, n: string) => base(n) }), envFiles, dir);
    return this.project(paths, dir, env);
  }

  /** A service with its `extends` chain resolved, in canonical form. */
  private async service(
    name: string,
    raw: Dict,
    file: string,
    fileValue: Dict,
    dir: string,
    lookup: Lookup,
    src: Source,
    chain: string[],
    complain: Complain,
  ): Promise<Dict> {
    const path = ['services', name];
    const ext = raw.extends;
    const { extends: _drop, ...rest } = raw;
    const own = normalizeService(rest, dir, path, complain);
    if (!ext) return own;
    const spec = typeof ext === 'string' ? { service: ext } : (ext as Dict);
    const key = `${file}#${name}`;
    if (chain.includes(key))
      throw src.error([...path, 'extends'], `extends cycle: ${[...chain, key].map((k) => k.split('#')[1]).join(' -> ')}`);
    let baseFile = file;
    let baseValue = fileValue;
    let baseSrc = src;
    let baseDir = dir;
    if (spec.file) {
      baseFile = resolve(fileDir(file, dir), spec.file);
      if (!existsSync(baseFile)) throw src.error([...path, 'extends', 'file'], `extended file ${baseFile} does not exist`);
      const read = await this.read(baseFile, lookup);
      baseValue = read.value;
      baseSrc = read.src;
      baseDir = dirname(baseFile);
    }
    const baseRaw = (baseValue.services as Dict | undefined)?.[spec.service];
    if (baseRaw === undefined)
      throw src.error([...path, 'extends'], `cannot extend service "${spec.service}": no such service in ${baseFile}`);
    const baseComplain: Complain = (p, what) => {
      throw baseSrc.error(p, what);
    };
    const base = await this.service(
      spec.service,
      baseRaw ?? {},
      baseFile,
      baseValue,
      baseDir,
      lookup,
      baseSrc,
      [...chain, key],
      baseComplain,
    );
    return mergeService(base, own);
  }

  private mergeModel(a: Model, b: Model, src?: Source, at?: PathSeg[]): Model {
    const out: Model = { name: b.name ?? a.name, services: { ...a.services }, networks: {}, volumes: {}, secrets: {}, configs: {} };
    for (const [name, s] of Object.entries(b.services)) {
      if (src && a.services[name]) throw src.error(at!, `included service "${name}" is already defined`);
      out.services[name] = a.services[name] ? mergeService(a.services[name], s) : s;
    }
    for (const kind of RESOURCES) {
      out[kind] = { ...a[kind] };
      for (const [name, r] of Object.entries(b[kind])) out[kind][name] = a[kind][name] ? mergeResource(a[kind][name], r) : r;
    }
    return out;
  }
}
