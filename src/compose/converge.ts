// `up`'s work: bring each service's containers to what the project says. Services run in
// dependency order, independent ones in parallel; a service starts once each dependency meets
// its condition (started, healthy — told by berthd's health_status events — or exited 0). Per
// service: containers past the scale go, a container whose config hash differs (or all, with
// --force-recreate, or one joined to another service's container since replaced) is replaced, a stopped one is started, a missing number is created; an
// unchanged running one is left alone, so `up` twice changes nothing. Before a service's container
// is recreated, the services depending on it with `restart: true` are stopped, to start again in
// their turn; a dependency that is not `required` and fails its condition is only a warning.

import { DaemonError, type ApiClient } from '../api/client.js';
import { containerName, createBody, refuseUnapplied } from './convert.js';
import {
  createContainer,
  inDependencyOrder,
  nameOf,
  numberOf,
  projectContainers,
  removeContainer,
  serviceOf,
  startContainer,
  stopContainer,
  type Listed,
  type Log,
} from './containers.js';
import { ProjectEvents, type EngineEvent } from './events.js';
import { configHash, L } from './labels.js';
import type { Dict } from './normalize.js';
import { SHARED_NAMESPACES, sharedService, type Project } from './project.js';
import { buildImages, imageOf, refuseBuild } from './service-build.js';
import { ensureNetwork, ensureVolume, pullImages, refuseResourceOptions, usedNetworks, usedVolumes } from './resources.js';

export interface UpOptions {
  /** The services to bring up (with their dependencies unless noDeps). Empty: all. */
  services: string[];
  noDeps?: boolean;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  /** --scale service=n. */
  scale?: Record<string, number>;
  /** --remove-orphans. */
  removeOrphans?: boolean;
  /** Start nothing: create only (`create`). */
  noStart?: boolean;
  /** Pull every image first (--pull always). */
  pullAlways?: boolean;
  /** Services with a build section: built always (--build), when their image is missing (the default), or never (--no-build). */
  build?: 'always' | 'missing' | 'never';
  /** Where the builds' output goes. */
  buildOutput?: NodeJS.WritableStream;
}

/** The services `up SERVICE…` acts on: those named and, unless noDeps, what they depend on. */
export function selected(p: Project, names: string[], noDeps = false): string[] {
  if (!names.length) return Object.keys(p.services);
  const out = new Set<string>();
  const add = (s: string) => {
    if (out.has(s)) return;
    if (!p.services[s]) throw new Error(`no such service: ${s}`);
    out.add(s);
    if (!noDeps) for (const d of Object.keys(p.services[s].depends_on ?? {})) add(d);
  };
  names.forEach(add);
  return [...out];
}

export const deps = (p: Project) => (s: string) => Object.keys((p.services[s]?.depends_on as Dict) ?? {});

export function replicas(p: Project, s: string, scale?: Record<string, number>): number {
  const svc = p.services[s];
  return scale?.[s] ?? svc.scale ?? svc.deploy?.replicas ?? 1;
}

/** Brings the services up; returns the containers of each selected service, running. */
export async function up(client: ApiClient, p: Project, opts: UpOptions, log: Log): Promise<Map<string, string[]>> {
  const services = selected(p, opts.services, opts.noDeps);
  for (const s of services) {
    refuseUnapplied(p, s, p.services[s]);
    refuseBuild(p, s);
  }
  const networks = usedNetworks(p, services);
  const volumes = usedVolumes(p, services);
  refuseResourceOptions(p, networks, volumes);

  const existing = await projectContainers(client, p.name, { oneoff: false });
  const orphans = existing.filter((c) => !p.services[c.Labels[L.service]] && !p.disabled[c.Labels[L.service]]);
  if (orphans.length && opts.removeOrphans) {
    await Promise.all(orphans.map((c) => removeContainer(client, c.Id, nameOf(c), log)));
  } else if (orphans.length) {
    log(
      `Found orphan containers (${orphans.map(nameOf).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
    );
  }

  await Promise.all(networks.map((n) => ensureNetwork(client, p, n, log)));
  await Promise.all(volumes.map((v) => ensureVolume(client, p, v, log)));
  if (opts.build !== 'never') {
    await buildImages(client, p, services, { always: opts.build === 'always' }, log, opts.buildOutput ?? process.stderr);
  }
  // Services with a build section are built, not pulled.
  await pullImages(
    client,
    p,
    services.filter((s) => !p.services[s].build),
    log,
    opts.pullAlways,
  );

  const events = await ProjectEvents.open(client, p.name, { type: ['container'] });
  const result = new Map<string, string[]>();
  try {
    await inDependencyOrder(services, deps(p), async (s) => {
      if (!opts.noStart) {
        await Promise.all(
          Object.entries((p.services[s].depends_on as Dict) ?? {})
            .filter(([d]) => services.includes(d) || !opts.noDeps)
            .map(([d, c]) =>
              dependencyMet(client, events, p, d, c.condition, result.get(d)).catch((e: Error) => {
                if (c.required !== false) throw e;
                log(`WARN optional dependency "${d}" is not running or is unhealthy: ${e.message}`);
              }),
            ),
        );
      }
      result.set(s, await convergeService(client, p, s, services, existing, opts, result, log));
    });
  } finally {
    events.close();
  }
  return result;
}

/** The ID of the image named `image`, or undefined when it is not here (create then fails, saying so). */
async function currentImage(client: ApiClient, image: string): Promise<string | undefined> {
  try {
    return (await client.json<Dict>('GET', `/images/${encodeURIComponent(image)}/json`)).Id;
  } catch (e) {
    if (e instanceof DaemonError && e.statusCode === 404) return undefined;
    throw e;
  }
}

/** The HostConfig field of each `service:NAME` key. */
const MODE_FIELD = { network_mode: 'NetworkMode', ipc: 'IpcMode', pid: 'PidMode' } as const;

/**
 * For service `s`'s `service:NAME` modes: NAME's container, one brought up now (`done`) or one
 * already there (`all`); none is an error at the key.
 */
export function sharedContainer(p: Project, s: string, done: Map<string, string[]>, all: Listed[]) {
  return (other: string, key: string): string => {
    const ids = done.get(other) ?? all.filter((c) => c.Labels[L.service] === other).map((c) => c.Id);
    if (!ids.length) throw p.errorAt(['services', s, key], `service "${other}" has no container to share the namespace of`);
    return ids[0];
  };
}

/**
 * As Compose v2 before `s` is recreated: the running containers of the services (of those
 * brought up) that depend on it with restart: true stop, marked so, to be started in their turn.
 */
async function stopRestartDependents(client: ApiClient, p: Project, s: string, services: string[], all: Listed[], log: Log): Promise<void> {
  const dependents = services.filter((d) => (p.services[d].depends_on as Dict | undefined)?.[s]?.restart);
  await Promise.all(
    all
      .filter((c) => dependents.includes(serviceOf(c)) && c.State === 'running')
      .map(async (c) => {
        await stopContainer(client, c.Id, nameOf(c), log);
        c.State = 'exited';
      }),
  );
}

async function convergeService(
  client: ApiClient,
  p: Project,
  s: string,
  services: string[],
  all: Listed[],
  opts: UpOptions,
  done: Map<string, string[]>,
  log: Log,
): Promise<string[]> {
  const want = replicas(p, s, opts.scale);
  const hash = configHash(p.services[s]);
  const mine = all.filter((c) => c.Labels[L.service] === s);
  // A container of an image since rebuilt or pulled anew is recreated, as Compose v2 does.
  const imageId = mine.length ? await currentImage(client, imageOf(p, s)) : undefined;
  const containerOf = sharedContainer(p, s, done, all);
  let dependentsStopped: Promise<void> | undefined;
  // A container that joined a namespace of another service's container since replaced is recreated.
  const shared = SHARED_NAMESPACES.filter((k) => sharedService(p.services[s][k]));
  const joinsReplaced = async (c: Listed): Promise<boolean> => {
    if (!shared.length) return false;
    const hc = (await client.json<Dict>('GET', `/containers/${c.Id}/json`)).HostConfig;
    return shared.some((k) => hc[MODE_FIELD[k]] !== `container:${containerOf(sharedService(p.services[s][k])!, k)}`);
  };
  const make = async (n: number): Promise<string> => {
    const { body, extraNetworks, files } = createBody(p, s, n, { containerOf, replicas: (o) => replicas(p, o, opts.scale) });
    const id = await createContainer(client, containerName(p, s, n), body, extraNetworks, files, log);
    if (!opts.noStart) await startContainer(client, id, containerName(p, s, n), log);
    return id;
  };
  const ids: string[] = [];
  await Promise.all([
    ...mine.map(async (c) => {
      const n = numberOf(c);
      if (n > want || n < 1) {
        await stopContainer(client, c.Id, nameOf(c), log);
        await removeContainer(client, c.Id, nameOf(c), log);
      } else if (
        !opts.noRecreate &&
        (opts.forceRecreate || c.Labels[L.hash] !== hash || (imageId && c.ImageID !== imageId) || (await joinsReplaced(c)))
      ) {
        await (dependentsStopped ??= stopRestartDependents(client, p, s, services, all, log));
        log(`Container ${nameOf(c)}  Recreate`);
        await stopContainer(client, c.Id, nameOf(c), log);
        await removeContainer(client, c.Id, nameOf(c), log);
        ids[n - 1] = await make(n);
      } else if (c.State !== 'running' && !opts.noStart) {
        await startContainer(client, c.Id, nameOf(c), log);
        ids[n - 1] = c.Id;
      } else {
        log(`Container ${nameOf(c)}  Running`);
        ids[n - 1] = c.Id;
      }
    }),
    ...Array.from({ length: want }, (_, i) => i + 1)
      .filter((n) => !mine.some((c) => numberOf(c) === n))
      .map(async (n) => {
        ids[n - 1] = await make(n);
      }),
  ]);
  return ids.filter(Boolean);
}

/** Waits until service `d`'s containers meet `condition`: started (already), healthy, or exited 0. */
export async function dependencyMet(
  client: ApiClient,
  events: ProjectEvents,
  p: Project,
  d: string,
  condition: string,
  ids: string[] | undefined,
): Promise<void> {
  if (condition === 'service_started') return;
  const list = ids ?? (await projectContainers(client, p.name, { services: [d] })).map((c) => c.Id);
  await Promise.all(list.map((id) => containerMet(client, events, id, condition)));
}

/** One container's condition: listen first, then read its state, so nothing in between is missed. */
export async function containerMet(client: ApiClient, events: ProjectEvents, id: string, condition: string): Promise<void> {
  const handle: { cancel?: () => void } = {};
  const check = (st: Dict): boolean | Error => {
    const name = String(st.Name ?? id).replace(/^\//, '');
    if (condition === 'service_healthy') {
      if (!st.State.Health) return new Error(`dependency failed to start: container ${name} has no healthcheck configured`);
      if (st.State.Health.Status === 'healthy') return true;
      if (st.State.Health.Status === 'unhealthy') return new Error(`dependency failed to start: container ${name} is unhealthy`);
      if (!st.State.Running) return new Error(`dependency failed to start: container ${name} exited (${st.State.ExitCode})`);
      return false;
    }
    if (st.State.Running || st.State.Status === 'created') return false;
    return st.State.ExitCode === 0 ? true : new Error(`service "${name}" didn't complete successfully: exit ${st.State.ExitCode}`);
  };
  const next = () =>
    events.until(
      (e: EngineEvent) =>
        e.Actor.ID !== id
          ? undefined
          : e.Action === 'health_status: healthy' && condition === 'service_healthy'
            ? 'ok'
            : ['health_status: unhealthy', 'die'].includes(e.Action)
              ? 'look'
              : undefined,
      handle,
    );
  let told = next();
  for (;;) {
    const st = check(await client.json('GET', `/containers/${id}/json`));
    if (st instanceof Error || st) {
      handle.cancel!();
      if (st instanceof Error) throw st;
      return;
    }
    if ((await told) === 'ok') return;
    told = next();
  }
}
