// The project's networks, volumes and images through the Engine API: made when missing (labelled
// as Compose v2 labels them), an external one required to exist, images pulled as pull_policy
// says; and their removal for `down`. Only what carries the project's label is removed.

import { DaemonError, readAll, type ApiClient } from '../api/client.js';
import { ComposeFileError } from './source.js';
import { COMPOSE_VERSION, L } from './labels.js';
import type { Project } from './project.js';
import type { Dict } from './normalize.js';

const notFound = (e: unknown) => e instanceof DaemonError && e.statusCode === 404;

/** The networks the given services use (their keys). */
export function usedNetworks(p: Project, services: string[]): string[] {
  return [...new Set(services.flatMap((s) => Object.keys((p.services[s].networks as Dict) ?? {})))];
}

/** The named volumes the given services mount (their keys). */
export function usedVolumes(p: Project, services: string[]): string[] {
  return [
    ...new Set(
      services.flatMap((s) =>
        ((p.services[s].volumes as Dict[]) ?? []).filter((v) => v.type === 'volume' && v.source).map((v) => v.source),
      ),
    ),
  ];
}

/** Driver options as the API takes them: strings (YAML may give numbers and booleans). */
const strings = (o: Dict): Record<string, string> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));

/** Refuses network and volume options berth compose does not apply, with the file and line. */
export function refuseResourceOptions(p: Project, networks: string[], volumes: string[]): void {
  for (const key of networks) {
    const n = p.networks[key];
    for (const k of Object.keys(n)) {
      if (
        !['name', 'driver', 'driver_opts', 'ipam', 'external', 'internal', 'attachable', 'enable_ipv6', 'labels'].includes(k) &&
        !k.startsWith('x-')
      ) {
        throw p.errorAt(['networks', key, k], `"${k}": berth compose cannot apply it to a network yet`, true);
      }
    }
    for (const k of Object.keys(n.ipam ?? {})) {
      if (k !== 'config' && k !== 'driver' && k !== 'options')
        throw p.errorAt(['networks', key, 'ipam', k], `"ipam.${k}": berth compose cannot apply it yet`, true);
    }
  }
  for (const key of volumes) {
    for (const k of Object.keys(p.volumes[key])) {
      if (!['name', 'driver', 'driver_opts', 'external', 'labels'].includes(k) && !k.startsWith('x-')) {
        throw p.errorAt(['volumes', key, k], `"${k}": berth compose cannot apply it to a volume yet`, true);
      }
    }
  }
}

export async function ensureNetwork(client: ApiClient, p: Project, key: string, log: (m: string) => void): Promise<void> {
  const n = p.networks[key];
  try {
    await client.json('GET', `/networks/${encodeURIComponent(n.name)}`);
    return;
  } catch (e) {
    if (!notFound(e)) throw e;
  }
  if (n.external) throw new ComposeFileError(`network ${n.name} declared as external, but could not be found`);
  const body: Dict = {
    Name: n.name,
    Driver: n.driver ?? 'bridge',
    Internal: !!n.internal,
    Attachable: !!n.attachable,
    EnableIPv6: !!n.enable_ipv6,
    Labels: { ...(n.labels ?? {}), [L.project]: p.name, [L.network]: key, [L.version]: COMPOSE_VERSION },
    CheckDuplicate: true,
    ...(n.driver_opts ? { Options: strings(n.driver_opts) } : {}),
  };
  if (n.ipam) {
    body.IPAM = {
      Driver: n.ipam.driver ?? 'default',
      Config: ((n.ipam.config as Dict[]) ?? []).map((c) => ({
        Subnet: c.subnet,
        IPRange: c.ip_range,
        Gateway: c.gateway,
        AuxiliaryAddresses: c.aux_addresses,
      })),
      ...(n.ipam.options ? { Options: strings(n.ipam.options) } : {}),
    };
  }
  log(`Network ${n.name}  Creating`);
  await client.json('POST', '/networks/create', { body });
  log(`Network ${n.name}  Created`);
}

export async function ensureVolume(client: ApiClient, p: Project, key: string, log: (m: string) => void): Promise<void> {
  const v = p.volumes[key];
  try {
    await client.json('GET', `/volumes/${encodeURIComponent(v.name)}`);
    return;
  } catch (e) {
    if (!notFound(e)) throw e;
  }
  if (v.external) throw new ComposeFileError(`external volume "${v.name}" not found`);
  log(`Volume "${v.name}"  Creating`);
  await client.json('POST', '/volumes/create', {
    body: {
      Name: v.name,
      Driver: v.driver ?? 'local',
      DriverOpts: v.driver_opts ?? {},
      Labels: { ...(v.labels ?? {}), [L.project]: p.name, [L.volume]: key, [L.version]: COMPOSE_VERSION },
    },
  });
  log(`Volume "${v.name}"  Created`);
}

/** Pulls `image` (its progress read to the end; an error in it thrown). */
export async function pull(client: ApiClient, image: string): Promise<void> {
  const at = image.lastIndexOf(':');
  const digest = image.indexOf('@');
  const [fromImage, tag] =
    digest >= 0 ? [image, undefined] : at > image.lastIndexOf('/') ? [image.slice(0, at), image.slice(at + 1)] : [image, 'latest'];
  const res = await client.stream('POST', '/images/create', { query: { fromImage, tag } });
  const text = (await readAll(res)).toString();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const m = JSON.parse(line);
    if (m.error) throw new DaemonError('system', m.error, 500);
  }
}

/** Pulls the services' images that are missing (pull_policy missing, the default), or always, or never (then missing is an error). */
export async function pullImages(
  client: ApiClient,
  p: Project,
  services: string[],
  log: (m: string) => void,
  always = false,
): Promise<void> {
  const images = new Map<string, string>();
  for (const s of services) {
    const svc = p.services[s];
    const policy = always ? 'always' : (svc.pull_policy ?? 'missing');
    if (!['missing', 'always', 'never', 'if_not_present'].includes(policy)) {
      throw p.errorAt(['services', s, 'pull_policy'], `pull_policy "${policy}": berth compose applies always, missing and never`);
    }
    images.set(svc.image, images.get(svc.image) === 'always' ? 'always' : policy);
  }
  await Promise.all(
    [...images].map(async ([image, policy]) => {
      if (policy !== 'always') {
        try {
          await client.json('GET', `/images/${encodeURIComponent(image)}/json`);
          return;
        } catch (e) {
          if (!notFound(e)) throw e;
          if (policy === 'never') throw new ComposeFileError(`image ${image} is not here and pull_policy is never`);
        }
      }
      log(`Image ${image}  Pulling`);
      await pull(client, image);
      log(`Image ${image}  Pulled`);
    }),
  );
}

/** The project's networks and volumes on the engine (by label), for `down`. */
export async function projectResources(client: ApiClient, project: string): Promise<{ networks: Dict[]; volumes: Dict[] }> {
  const filters = JSON.stringify({ label: [`${L.project}=${project}`] });
  const networks = await client.json<Dict[]>('GET', '/networks', { query: { filters } });
  const volumes = (await client.json<Dict>('GET', '/volumes', { query: { filters } })).Volumes ?? [];
  return { networks, volumes };
}
