// Disk use and its clean-up: `GET /system/df`, `POST /images/prune`, `POST /containers/prune`
// (and the network and build-cache prunes `docker system prune` sends), in Docker's shapes
// (moby's SystemDataUsageResponse, ImagePruneResponse, ContainerPruneResponse).

import { diskUsage, pruneContainers, type Engine } from '../../engine/index.js';
import { familiarString, parseReference } from '../../common/reference.js';
import { summary } from './containers.js';
import { sendJSON } from './http.js';
import type { Router } from './router.js';
import { pruneFilters } from './filters.js';

/** The filters prune takes: `until`, `label`, `label!` (and `dangling` for images). */
export function usageRoutes(router: Router, engine: Engine): void {
  router.on('GET', '/system/df', async (ctx) => {
    const types = ctx.query.getAll('type');
    const want = (t: string) => !types.length || types.includes(t);
    const du = await diskUsage(engine);
    const unix = (iso?: string) => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);
    sendJSON(ctx, 200, {
      LayersSize: du.layersSize,
      Images: want('image')
        ? du.images.map((i) => ({
            Id: i.id,
            ParentId: '',
            RepoTags: i.repoTags.map((t) => familiarString(parseReference(t))),
            RepoDigests: i.repoDigests.map((t) => familiarString(parseReference(t))),
            Created: unix(i.created),
            Size: i.size,
            SharedSize: i.sharedSize,
            Labels: i.labels ?? {},
            Containers: i.containers,
          }))
        : null,
      Containers: want('container') ? du.containers.map((c) => ({ ...summary(c), SizeRw: c.sizeRw, SizeRootFs: c.sizeRootFs })) : null,
      Volumes: want('volume')
        ? du.volumes.map(({ size, refCount, ...v }) => ({ ...v, UsageData: { Size: size, RefCount: refCount } }))
        : null,
      BuildCache: want('build-cache') ? [] : null,
    });
  });

  router.on('POST', '/images/prune', async (ctx) => {
    const f = pruneFilters(ctx.query, ['dangling', 'until', 'label', 'label!']);
    const dangling = f.raw.dangling?.length ? !['false', '0'].includes(f.raw.dangling[0]) : true;
    sendJSON(ctx, 200, await engine.images.prune({ dangling, until: f.until, label: f.label, notLabel: f.notLabel }));
  });

  // `docker system prune` asks this too (networks/prune is in networks.ts). berthd has no
  // build cache yet: there is nothing to prune, and so it answers.
  router.on('POST', '/build/prune', (ctx) => sendJSON(ctx, 200, { CachesDeleted: [], SpaceReclaimed: 0 }));

  router.on('POST', '/containers/prune', async (ctx) => {
    const f = pruneFilters(ctx.query, ['until', 'label', 'label!']);
    sendJSON(ctx, 200, await pruneContainers(engine, f));
  });
}
