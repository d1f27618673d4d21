// What berth kube asks of berthd, through the Engine API and berth's pod and balancer routes:
// one function per request, so play.ts and down.ts read as what they do. Labels (labels.ts)
// mark what kube play made; what it found already there is used and never labelled.

import { DaemonError, readAll, type ApiClient } from '../api/client.js';
import { KL } from './labels.js';
import type { Dict } from './manifest.js';

export const isNotFound = (e: unknown) => e instanceof DaemonError && e.statusCode === 404;

const labelFilter = (labels: string[]) => ({ filters: JSON.stringify({ label: labels }) });

/** The network named `name`, made (and labelled as kube play's) when missing; whether it was made. */
export async function ensureNetwork(client: ApiClient, name: string): Promise<boolean> {
  try {
    await client.json('GET', `/networks/${encodeURIComponent(name)}`);
    return false;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  await client.json('POST', '/networks/create', {
    body: { Name: name, Driver: 'bridge', Labels: { [KL.network]: 'true' }, CheckDuplicate: true },
  });
  return true;
}

/** Removes the network if kube play made it and nothing is on it any more. */
export async function removeNetworkIfIdle(client: ApiClient, name: string): Promise<boolean> {
  let n: Dict;
  try {
    n = await client.json<Dict>('GET', `/networks/${encodeURIComponent(name)}`);
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
  if (n.Labels?.[KL.network] !== 'true' || Object.keys(n.Containers ?? {}).length) return false;
  await client.json('DELETE', `/networks/${encodeURIComponent(name)}`);
  return true;
}

export async function imageExists(client: ApiClient, image: string): Promise<boolean> {
  try {
    await client.json('GET', `/images/${encodeURIComponent(image)}/json`);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

export async function pull(client: ApiClient, image: string): Promise<void> {
  const at = image.lastIndexOf(':');
  const digest = image.indexOf('@');
  const [fromImage, tag] =
    digest >= 0 ? [image, undefined] : at > image.lastIndexOf('/') ? [image.slice(0, at), image.slice(at + 1)] : [image, 'latest'];
  const res = await client.stream('POST', '/images/create', { query: { fromImage, tag } });
  for (const line of (await readAll(res)).toString().split('\n')) {
    if (!line.trim()) continue;
    const m = JSON.parse(line);
    if (m.error) throw new DaemonError('system', `pull ${image}: ${m.error}`, 500);
  }
}

/** A named volume: made with `labels` when missing; whether it was made. */
export async function ensureVolume(client: ApiClient, name: string, labels: Record<string, string>): Promise<boolean> {
  try {
    await client.json('GET', `/volumes/${encodeURIComponent(name)}`);
    return false;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  await client.json('POST', '/volumes/create', { body: { Name: name, Labels: labels } });
  return true;
}

export async function volumeExists(client: ApiClient, name: string): Promise<boolean> {
  try {
    await client.json('GET', `/volumes/${encodeURIComponent(name)}`);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

export interface PodCreate {
  name: string;
  hostname: string;
  labels: Record<string, string>;
  network: string;
  /** The names the pod answers to on its network (its Services'). */
  aliases: string[];
  portBindings: Record<string, { HostIp: string; HostPort: string }[]>;
}

/** A pod (podman's PodSpecGenerator fields, as berthd's POST /pods/create takes them); its ID. */
export async function createPod(client: ApiClient, p: PodCreate): Promise<string> {
  const portmappings = Object.entries(p.portBindings).flatMap(([key, list]) => {
    const [port, protocol] = key.split('/');
    return list.map((b) => ({ container_port: Number(port), host_port: Number(b.HostPort), host_ip: b.HostIp || undefined, protocol }));
  });
  const { Id } = await client.json<{ Id: string }>('POST', '/pods/create', {
    body: {
      name: p.name,
      hostname: p.hostname,
      labels: p.labels,
      portmappings,
      Networks: { [p.network]: p.aliases.length ? { aliases: p.aliases } : {} },
    },
  });
  return Id;
}

/** A container in pod `pod`; its ID. */
export async function createContainer(client: ApiClient, name: string, pod: string, body: Dict): Promise<string> {
  const { Id } = await client.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body: { ...body, Pod: pod } });
  return Id;
}

export async function startPod(client: ApiClient, name: string): Promise<void> {
  await client.json('POST', `/pods/${encodeURIComponent(name)}/start`);
}

/** The pods whose labels match every `k=v` given. */
export const podsLabelled = (client: ApiClient, labels: string[]) =>
  client.json<Dict[]>('GET', '/pods/json', { query: labelFilter(labels) });

export const removePod = (client: ApiClient, name: string) =>
  client.json('DELETE', `/pods/${encodeURIComponent(name)}`, { query: { force: true } });

export const containersLabelled = (client: ApiClient, labels: string[]) =>
  client.json<Dict[]>('GET', '/containers/json', { query: { all: true, ...labelFilter(labels) } });

export const removeContainer = (client: ApiClient, id: string) => client.json('DELETE', `/containers/${id}`, { query: { force: true } });

export const volumesLabelled = async (client: ApiClient, labels: string[]) =>
  ((await client.json<Dict>('GET', '/volumes', { query: labelFilter(labels) })).Volumes ?? []) as Dict[];

export const removeVolume = (client: ApiClient, name: string) => client.json('DELETE', `/volumes/${encodeURIComponent(name)}`);

export interface BalancerCreate {
  Name: string;
  Labels: Record<string, string>;
  Protocol: 'tcp' | 'udp';
  HostPort: number;
  /** `Healthy`: only while the container's health check passes (a readinessProbe). */
  Backends: { Container: string; Port: number; Healthy?: boolean }[];
}

export const createBalancer = (client: ApiClient, b: BalancerCreate) => client.json('POST', '/balancers/create', { body: b });

export const balancersLabelled = (client: ApiClient, labels: string[]) =>
  client.json<Dict[]>('GET', '/balancers', { query: labelFilter(labels) });

export const removeBalancer = (client: ApiClient, id: string) => client.json('DELETE', `/balancers/${id}`);

export const inspectContainer = (client: ApiClient, id: string) => client.json<Dict>('GET', `/containers/${encodeURIComponent(id)}/json`);
