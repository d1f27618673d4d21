// The project's containers through the Engine API: listed by Compose's labels (project,
// service, one-off), ordered by service and number, and the verbs on them that several
// commands share (create with the extra networks, start, stop, remove), each logged as Compose
// v2 logs it (`Container proj-web-1  Started`).

import type { ApiClient } from '../api/client.js';
import { putFiles, type ContainerFile } from '../api/container-files.js';
import { L } from './labels.js';
import type { Dict } from './normalize.js';

/** A container as GET /containers/json lists it. */
export interface Listed {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Labels: Record<string, string>;
  State: string;
  Status: string;
  Command: string;
  Created: number;
  Ports: Dict[];
}

export const nameOf = (c: Listed) => c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12);
export const serviceOf = (c: Listed) => c.Labels[L.service];
export const numberOf = (c: Listed) => Number(c.Labels[L.number] ?? 0);

export async function projectContainers(
  client: ApiClient,
  project: string,
  opts: { services?: string[]; oneoff?: boolean | 'any'; running?: boolean } = {},
): Promise<Listed[]> {
  const label = [`${L.project}=${project}`];
  if (opts.oneoff !== 'any') label.push(`${L.oneoff}=${opts.oneoff ? 'True' : 'False'}`);
  const list = await client.json<Listed[]>('GET', '/containers/json', {
    query: { all: !opts.running, filters: JSON.stringify({ label }) },
  });
  return list
    .filter((c) => !opts.services?.length || opts.services.includes(serviceOf(c)))
    .sort((a, b) => serviceOf(a).localeCompare(serviceOf(b)) || numberOf(a) - numberOf(b));
}

export type Log = (m: string) => void;

export async function createContainer(
  client: ApiClient,
  name: string,
  body: Dict,
  extraNetworks: [string, Dict][],
  files: ContainerFile[],
  log: Log,
): Promise<string> {
  log(`Container ${name}  Creating`);
  const { Id } = await client.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body });
  for (const [net, cfg] of extraNetworks) {
    await client.json('POST', `/networks/${encodeURIComponent(net)}/connect`, { body: { Container: Id, ...cfg } });
  }
  await putFiles(client, Id, files);
  log(`Container ${name}  Created`);
  return Id;
}

export async function startContainer(client: ApiClient, id: string, name: string, log: Log): Promise<void> {
  log(`Container ${name}  Starting`);
  await client.json('POST', `/containers/${id}/start`);
  log(`Container ${name}  Started`);
}

export async function stopContainer(client: ApiClient, id: string, name: string, log: Log, timeout?: number): Promise<void> {
  log(`Container ${name}  Stopping`);
  await client.json('POST', `/containers/${id}/stop`, { query: { t: timeout } });
  log(`Container ${name}  Stopped`);
}

export async function removeContainer(client: ApiClient, id: string, name: string, log: Log, volumes = false): Promise<void> {
  log(`Container ${name}  Removing`);
  await client.json('DELETE', `/containers/${id}`, { query: { force: true, v: volumes } });
  log(`Container ${name}  Removed`);
}

/**
 * Runs `fn` for each service once the services it depends on (`deps`) have had theirs, in
 * parallel where nothing orders them; `reverse` runs a service only after those depending on it.
 */
export async function inDependencyOrder(
  services: string[],
  deps: (s: string) => string[],
  fn: (s: string) => Promise<void>,
  reverse = false,
): Promise<void> {
  const before = new Map<string, string[]>(services.map((s) => [s, []]));
  for (const s of services) {
    for (const d of deps(s)) {
      if (!before.has(d)) continue;
      if (reverse) before.get(d)!.push(s);
      else before.get(s)!.push(d);
    }
  }
  const done = new Map<string, Promise<void>>();
  const run = (s: string): Promise<void> => {
    let p = done.get(s);
    if (!p) {
      p = Promise.all(before.get(s)!.map(run)).then(() => fn(s));
      done.set(s, p);
    }
    return p;
  };
  await Promise.all(services.map(run));
}
