// A loaded Compose project: its name (`-p`, COMPOSE_PROJECT_NAME, `name:`, or the project
// directory's name, normalized), its services after profiles, each with its env_files read into
// its environment and its default network, its networks and volumes with their engine names
// (`project_default`, `project_data`), and the whole checked: every service has an image or a
// build, every dependency, network, volume, secret and config it names exists, and depends_on
// has no cycle. Errors point at the file and line of the key at fault.

import { basename } from 'node:path';
import { stringify } from 'yaml';
import { parseDotenv } from './dotenv.js';
import { loadFiles, type LoadOptions, type Model } from './load.js';
import type { Lookup } from './interpolate.js';
import type { Dict } from './normalize.js';
import { ComposeFileError, showPath, type PathSeg, type Source } from './source.js';
import { readFile } from 'node:fs/promises';

export interface ProjectOptions extends LoadOptions {
  /** `-p`. */
  projectName?: string;
  /** `--profile`s (COMPOSE_PROFILES when none). */
  profiles?: string[];
  /** Services named on the command line: enabled whatever their profiles, with what they depend on. */
  services?: string[];
}

export interface Project {
  name: string;
  workingDir: string;
  configFiles: string[];
  /** The enabled services, in canonical form. */
  services: Record<string, Dict>;
  /** Services left out by profiles. */
  disabled: Record<string, Dict>;
  networks: Record<string, Dict>;
  volumes: Record<string, Dict>;
  secrets: Record<string, Dict>;
  configs: Record<string, Dict>;
  /** Variables for `environment` items without a value, and for commands' needs. */
  lookup: Lookup;
  /** An error naming where `path` is written (the last file that writes it). */
  errorAt(path: PathSeg[], what: string, key?: boolean): ComposeFileError;
}

const NAME_RULE = /^[a-z0-9][a-z0-9_-]*$/;

/** Compose's normalization of a directory name into a project name. */
export function normalizeProjectName(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

function checkName(name: string, from: string): string {
  if (!NAME_RULE.test(name)) {
    throw new ComposeFileError(
      `invalid project name ${JSON.stringify(name)} (${from}): must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`,
    );
  }
  return name;
}

function has(value: unknown, path: PathSeg[]): boolean {
  let v = value;
  for (const seg of path) {
    if (v === null || typeof v !== 'object' || !(seg in (v as object))) return false;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return true;
}

export async function loadProject(opts: ProjectOptions): Promise<Project> {
  const loaded = await loadFiles(opts);
  const { model, lookup, sources } = loaded;
  const errorAt = (path: PathSeg[], what: string, key = false): ComposeFileError => {
    const src: Source | undefined = [...sources].reverse().find((s) => has(s.value, path));
    return src ? src.error(path, what, key) : new ComposeFileError(`${showPath(path)}: ${what}`);
  };
  const name = opts.projectName
    ? checkName(opts.projectName, '-p')
    : lookup('COMPOSE_PROJECT_NAME')
      ? checkName(lookup('COMPOSE_PROJECT_NAME')!, 'COMPOSE_PROJECT_NAME')
      : (model.name ?? normalizeProjectName(basename(loaded.workingDir)));
  if (!name) throw new ComposeFileError(`the project directory ${loaded.workingDir} gives no project name: name it with -p or "name:"`);

  const { enabled, disabled } = applyProfiles(model, opts, lookup, errorAt);
  const services: Record<string, Dict> = {};
  for (const [sname, s] of Object.entries(enabled).sort(([a], [b]) => a.localeCompare(b))) {
    services[sname] = await finish(sname, s, lookup, errorAt);
  }
  const project: Project = {
    name,
    workingDir: loaded.workingDir,
    configFiles: loaded.configFiles,
    services,
    disabled,
    networks: named(model.networks, name),
    volumes: named(model.volumes, name),
    secrets: named(model.secrets, name),
    configs: named(model.configs, name),
    lookup,
    errorAt,
  };
  if (Object.values(services).some((s) => s.networks && 'default' in s.networks) && !project.networks.default) {
    project.networks = { default: { name: `${name}_default` }, ...project.networks };
  }
  check(project);
  return project;
}

/** Resources with the names the engine knows them by: `name:` as given, an external one's own name, else `project_key`. */
function named(rs: Record<string, Dict>, project: string): Record<string, Dict> {
  const out: Record<string, Dict> = {};
  for (const [key, r] of Object.entries(rs)) out[key] = { ...r, name: r.name ?? (r.external ? key : `${project}_${key}`) };
  return out;
}

function applyProfiles(
  model: Model,
  opts: ProjectOptions,
  lookup: Lookup,
  errorAt: Project['errorAt'],
): { enabled: Record<string, Dict>; disabled: Record<string, Dict> } {
  const active = new Set(
    opts.profiles?.length
      ? opts.profiles
      : (lookup('COMPOSE_PROFILES') ?? '')
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
  );
  const on = new Set(
    Object.entries(model.services)
      .filter(([, s]) => !s.profiles?.length || active.has('*') || s.profiles.some((p: string) => active.has(p)))
      .map(([n]) => n),
  );
  // A service named on the command line is enabled, and so is what it depends on.
  const want = [...(opts.services ?? [])];
  while (want.length) {
    const n = want.pop()!;
    if (!model.services[n]) throw new ComposeFileError(`no such service: ${n}`);
    if (on.has(n) && !opts.services?.includes(n)) continue;
    on.add(n);
    for (const d of Object.keys(model.services[n].depends_on ?? {})) if (!on.has(d)) want.push(d);
  }
  const enabled: Record<string, Dict> = {};
  const disabled: Record<string, Dict> = {};
  for (const [n, s] of Object.entries(model.services)) (on.has(n) ? enabled : disabled)[n] = s;
  // A dependency that profiles leave out: an error unless it is not required.
  for (const [n, s] of Object.entries(enabled)) {
    for (const [d, dep] of Object.entries((s.depends_on as Dict) ?? {})) {
      if (enabled[d] || !disabled[d]) continue;
      if (dep.required === false) {
        const { [d]: _drop, ...kept } = s.depends_on;
        enabled[n] = { ...s, depends_on: kept };
      } else
        throw errorAt(
          ['services', n, 'depends_on'],
          `service "${n}" depends on service "${d}", which its profiles ${JSON.stringify(disabled[d].profiles)} leave out`,
        );
    }
  }
  return { enabled, disabled };
}

/** A service's env_files read into its environment (environment wins), unset items taken from the variables, its default network. */
async function finish(name: string, s: Dict, lookup: Lookup, errorAt: Project['errorAt']): Promise<Dict> {
  const out: Dict = { ...s };
  if (s.env_file || s.environment) {
    const env: Dict = {};
    for (const [i, f] of ((s.env_file as Dict[]) ?? []).entries()) {
      if (f.format !== undefined)
        throw errorAt(
          ['services', name, 'env_file', i, 'format'],
          `env file format "${f.format}": berth compose reads the dotenv format only`,
        );
      let text: string;
      try {
        text = await readFile(f.path, 'utf8');
      } catch (e) {
        if (f.required === false && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw errorAt(['services', name, 'env_file', i], `env file ${f.path} not found: ${(e as Error).message}`);
      }
      try {
        for (const [k, v] of parseDotenv(text, f.path, lookup)) env[k] = v;
      } catch (e) {
        throw errorAt(['services', name, 'env_file', i], (e as Error).message);
      }
    }
    for (const [k, v] of Object.entries((s.environment as Dict) ?? {})) env[k] = v ?? lookup(k) ?? null;
    out.environment = env;
    delete out.env_file;
  }
  if (!s.network_mode && !s.networks) out.networks = { default: null };
  // As Compose v2: a service that joins another's namespaces depends on it (an explicit depends_on of it wins).
  for (const k of SHARED_NAMESPACES) {
    const other = sharedService(s[k]);
    if (other) out.depends_on = { [other]: { condition: 'service_started', required: true }, ...out.depends_on };
  }
  // So does one that links to another, or mounts another's volumes.
  for (const other of [...linkedServices(s), ...volumesFromServices(s)])
    out.depends_on = { [other]: { condition: 'service_started', required: true }, ...out.depends_on };
  return out;
}

/** The services `links` names (`SERVICE` or `SERVICE:ALIAS`). */
const linkedServices = (s: Dict): string[] => ((s.links as string[]) ?? []).map((l) => l.split(':')[0]);

/** The services `volumes_from` names (`SERVICE[:MODE]`; `container:NAME` is no service). */
const volumesFromServices = (s: Dict): string[] =>
  ((s.volumes_from as string[]) ?? []).filter((v) => !v.startsWith('container:')).map((v) => v.split(':')[0]);

/** Keys that take `service:NAME`, another service's container's namespace. */
export const SHARED_NAMESPACES = ['network_mode', 'ipc', 'pid'] as const;

/** NAME of a `service:NAME` value, else undefined. */
export const sharedService = (v: unknown): string | undefined =>
  typeof v === 'string' && v.startsWith('service:') ? v.slice('service:'.length) : undefined;

function check(p: Project): void {
  for (const [name, s] of Object.entries(p.services)) {
    const at = (...path: PathSeg[]) => ['services', name, ...path];
    if (!s.image && !s.build) throw p.errorAt(at(), `service "${name}" has neither an image nor a build context specified`, true);
    for (const k of SHARED_NAMESPACES) {
      const other = sharedService(s[k]);
      if (other && !p.services[other]) throw p.errorAt(at(k), `service "${name}" refers to undefined service "${other}"`);
    }
    for (const [i, other] of linkedServices(s).entries()) {
      if (!p.services[other]) throw p.errorAt(at('links', i), `service "${name}" refers to undefined service "${other}"`);
    }
    for (const [i, v] of ((s.volumes_from as string[]) ?? []).entries()) {
      const [other, mode, more] = v.startsWith('container:') ? v.split(':').slice(1) : v.split(':');
      if (!v.startsWith('container:') && !p.services[other])
        throw p.errorAt(at('volumes_from', i), `service "${name}" refers to undefined service "${other}"`);
      if (more !== undefined || (mode !== undefined && mode !== 'ro' && mode !== 'rw'))
        throw p.errorAt(
          at('volumes_from', i),
          `invalid volumes_from ${JSON.stringify(v)}: expected SERVICE[:ro|rw] or container:NAME[:ro|rw]`,
        );
    }
    for (const d of Object.keys(s.depends_on ?? {})) {
      if (!p.services[d]) throw p.errorAt(at('depends_on'), `service "${name}" depends on undefined service "${d}"`);
    }
    for (const n of Object.keys(s.networks ?? {})) {
      if (!p.networks[n]) throw p.errorAt(at('networks'), `service "${name}" refers to undefined network "${n}"`);
    }
    for (const [i, m] of ((s.volumes as Dict[]) ?? []).entries()) {
      if (m.type === 'volume' && m.source && !p.volumes[m.source]) {
        throw p.errorAt(at('volumes', i), `service "${name}" refers to undefined volume "${m.source}"`);
      }
    }
    for (const kind of ['secrets', 'configs'] as const) {
      for (const [i, r] of ((s[kind] as Dict[]) ?? []).entries()) {
        if (!p[kind][r.source]) throw p.errorAt(at(kind, i), `service "${name}" refers to undefined ${kind.slice(0, -1)} "${r.source}"`);
      }
    }
    const replicas = s.deploy?.replicas;
    if (replicas !== undefined && s.scale !== undefined && replicas !== s.scale) {
      throw p.errorAt(at('scale'), `"scale" (${s.scale}) and "deploy.replicas" (${replicas}) differ: give one`);
    }
    if (s.container_name && (s.scale ?? replicas ?? 1) > 1) {
      throw p.errorAt(
        at('container_name'),
        `service "${name}" has container_name and ${s.scale ?? replicas} replicas: a container name is unique`,
      );
    }
  }
  const cycle = findCycle(p.services);
  if (cycle) throw p.errorAt(['services', cycle[0], 'depends_on'], `dependency cycle detected: ${cycle.join(' -> ')}`);
}

/** A depends_on cycle as the list of services around it (first repeated last), or undefined. */
export function findCycle(services: Record<string, Dict>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'open') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'open');
    stack.push(n);
    for (const d of Object.keys(services[n]?.depends_on ?? {})) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of Object.keys(services).sort()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

/** `compose config`: the canonical model as YAML. */
export function canonicalYaml(p: Project): string {
  const sorted = (o: Dict) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  const doc: Dict = { name: p.name, services: Object.fromEntries(Object.entries(p.services).map(([n, s]) => [n, sorted(s)])) };
  for (const kind of ['networks', 'volumes', 'secrets', 'configs'] as const) if (Object.keys(p[kind]).length) doc[kind] = p[kind];
  return stringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 });
}
