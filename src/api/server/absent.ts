// The Engine API's endpoints for what berthd does not have, answered as dockerd answers them
// when that part is off: the swarm's (a node in no swarm: 503 and dockerd's words, which client
// libraries' clean-up code tests for), and plugins (none installed: an empty list, 404 for each
// name). Making a swarm or installing a plugin is refused with a line that says berthd has none;
// so is BuildKit's session.

import { BerthError, NOT_SWARM_MANAGER, notFound, unavailable } from '../../errors.js';
import { sendJSON } from './http.js';
import type { Router } from './router.js';

/** dockerd's text for leaving or unlocking a swarm the node is not in. */
export const NOT_IN_SWARM = 'This node is not part of a swarm';

const noSwarmMode = () =>
  new BerthError(
    'not-implemented',
    'berthd has no swarm mode: it runs containers on this host only (docker swarm init and join are not supported)',
  );

/** Swarm objects: list, create, inspect, update, remove (and services' and tasks' logs). */
const SWARM_ROUTES: [string, string][] = [
  ['GET', '/swarm'],
  ['POST', '/swarm/update'],
  ['GET', '/swarm/unlockkey'],
  ...['nodes', 'services', 'tasks', 'secrets', 'configs'].flatMap((k): [string, string][] => [
    ['GET', `/${k}`],
    ['GET', `/${k}/:id`],
    ['DELETE', `/${k}/:id`],
    ['POST', `/${k}/create`],
    ['POST', `/${k}/:id/update`],
  ]),
  ['GET', '/services/:id/logs'],
  ['GET', '/tasks/:id/logs'],
];

export function absentRoutes(router: Router): void {
  for (const [method, path] of SWARM_ROUTES)
    router.on(method, path, () => {
      throw unavailable(NOT_SWARM_MANAGER);
    });
  for (const path of ['/swarm/leave', '/swarm/unlock'])
    router.on('POST', path, () => {
      throw unavailable(NOT_IN_SWARM);
    });
  for (const path of ['/swarm/init', '/swarm/join'])
    router.on('POST', path, () => {
      throw noSwarmMode();
    });

  // Only cluster (swarm) volumes are updated.
  router.on('PUT', '/volumes/:name', () => {
    throw unavailable('volume update only valid for cluster volumes, but swarm is unavailable');
  });

  // BuildKit's session (docker buildx, DOCKER_BUILDKIT=1): berthd's builder is the classic one's API.
  router.on('POST', '/session', () => {
    throw new BerthError('not-implemented', 'berthd has no BuildKit session endpoint: build with the classic builder (DOCKER_BUILDKIT=0)');
  });

  router.on('GET', '/plugins', (ctx) => sendJSON(ctx, 200, []));
  const noPlugin = (name: string) => notFound(`plugin ${JSON.stringify(name)} not found`);
  router.on('GET', '/plugins/:name*/json', (ctx) => {
    throw noPlugin(ctx.params.name);
  });
  router.on('DELETE', '/plugins/:name*', (ctx) => {
    throw noPlugin(ctx.params.name);
  });
  for (const verb of ['enable', 'disable', 'push', 'set', 'upgrade']) {
    router.on('POST', `/plugins/:name*/${verb}`, (ctx) => {
      throw noPlugin(ctx.params.name);
    });
  }
  const noPlugins = () =>
    new BerthError('not-implemented', 'berthd has no plugins: plugin install, create and privileges are not supported');
  for (const [method, path] of [
    ['GET', '/plugins/privileges'],
    ['POST', '/plugins/pull'],
    ['POST', '/plugins/create'],
  ]) {
    router.on(method, path, () => {
      throw noPlugins();
    });
  }
}
