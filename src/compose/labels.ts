// The `com.docker.compose.*` labels Compose v2 puts on what it makes, so `docker compose`,
// docker-compose 1.29 and berth compose see one project; and the config hash of a service, by
// which `up` tells a changed service (recreated) from an unchanged one (left alone).

import { createHash } from 'node:crypto';
import type { Dict } from './normalize.js';

export const L = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  hash: 'com.docker.compose.config-hash',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  version: 'com.docker.compose.version',
  dependsOn: 'com.docker.compose.depends_on',
  image: 'com.docker.compose.image',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
} as const;

/** The Compose version berth compose's labels claim: the v2 file format it follows. */
export const COMPOSE_VERSION = '2.24.0';

function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Dict)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${sortedJson((v as Dict)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** sha256 of the service's canonical form, less what does not change a container (scale, replicas, depends_on, profiles, build, pull_policy), as Compose's ServiceHash. */
export function configHash(service: Dict): string {
  const { scale: _s, depends_on: _d, profiles: _p, build: _b, pull_policy: _pp, ...rest } = service;
  if (rest.deploy) {
    const { replicas: _r, ...deploy } = rest.deploy;
    rest.deploy = deploy;
  }
  return createHash('sha256').update(sortedJson(rest)).digest('hex');
}

/** `db:service_healthy:false,cache:service_started:false`: the depends_on label. */
export function dependsOnLabel(service: Dict): string {
  return Object.entries((service.depends_on as Dict) ?? {})
    .map(([d, c]) => `${d}:${c.condition}:${c.restart ?? false}`)
    .join(',');
}
