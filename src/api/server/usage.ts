// Disk use and its clean-up: `GET /system/df`, `POST /images/prune`, `POST /containers/prune`
// (and the network and build-cache prunes `docker system prune` sends), in Docker's shapes
// (moby's SystemDataUsageResponse, ImagePruneResponse, ContainerPruneResponse).

import { diskUsage, pruneContainers, type BuildCacheRecord, type Engine } from '../../engine/index.js';
import { systemError, unsupported } from '../../errors.js';
import { familiarString, parseReference } from '../../common/reference.js';
import { summary } from './containers.js';
import { boolParam, sendJSON } from './http.js';
import type { Router } from './router.js';
import { pruneFilters } from './filters.js';

/**
 * Which build cache records a prune keeps, from its query as dockerd reads it: records in use
 * always; without `all`, those an image's layers share (only dangling ones go); those the
 * filters (`until`, `id`, `type`, `description`, `inuse`, `shared`, `label`) do not select; and the most
 * recently used that fit in `keep-storage` bytes.
 */
export function buildCacheKeep(q: URLSearchParams, records: BuildCacheRecord[]): (r: BuildCacheRecord) => boolean {
  // label and label! come with `docker system prune --filter label…`: records carry no labels,
  // so label=… selects none and label!=… excludes none (dockerd ignores both and prunes all).
  const f = pruneFilters(q, ['until', 'id', 'type', 'description', 'inuse', 'shared', 'label', 'label!']);
  const all = boolParam(q, 'all');
  const int = (name: string) => {
    const v = q.get(name) ?? '';
    if (v !== '' && !/^\d+$/.test(v))
      throw systemError(`${name} is in bytes and expects an integer, got ${v}: strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v || 0);
  };
  const keepStorage = int('keep-storage');
  for (const p of ['reserved-space', 'max-used-space', 'min-free-space'])
    if (int(p)) throw unsupported(`${p} is not supported by berthd's build cache prune: use keep-storage`);
  const truthy = (v: string) => ['1', 'true'].includes(v.toLowerCase());
  const selected = (r: BuildCacheRecord) =>
    !f.label?.length &&
    (f.until === undefined || Date.parse(r.LastUsedAt) / 1000 < f.until) &&
    (!f.raw.id?.length || f.raw.id.some((id) => r.ID.startsWith(id))) &&
    (!f.raw.type?.length || f.raw.type.includes(r.Type)) &&
    (!f.raw.description?.length || f.raw.description.some((d) => r.Description.includes(d))) &&
    (!f.raw.inuse?.length || truthy(f.raw.inuse[0]) === r.InUse) &&
    (!f.raw.shared?.length || truthy(f.raw.shared[0]) === r.Shared);
  const held = (r: BuildCacheRecord) => r.InUse || (!all && r.Shared) || !selected(r);
  // keep-storage: the newest of what would go stay while they fit.
  const kept = new Set<string>();
  let used = 0;
  const candidates = keepStorage ? records.filter((x) => !held(x)) : [];
  for (const r of candidates.sort((a, b) => Date.parse(b.LastUsedAt) - Date.parse(a.LastUsedAt))) {
    if (used + r.Size > keepStorage) continue;
    used += r.Size;
    kept.add(r.ID);
  }
  return (r) => held(r) || kept.has(r.ID);
}

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
      BuildCache: want('build-cache') ? du.buildCache.map((r) => ({ ...r, Parent: '', Parents: [] as string[] })) : null,
      // Deprecated in the API but what docker's client shows as the build cache's size.
      BuilderSize: du.buildCache.filter((r) => !r.Shared).reduce((a, r) => a + r.Size, 0),
    });
  });

  router.on('POST', '/images/prune', async (ctx) => {
    const f = pruneFilters(ctx.query, ['dangling', 'until', 'label', 'label!']);
    const dangling = f.raw.dangling?.length ? !['false', '0'].includes(f.raw.dangling[0]) : true;
    sendJSON(ctx, 200, await engine.images.prune({ dangling, until: f.until, label: f.label, notLabel: f.notLabel }));
  });

  // `docker builder prune` and `docker system prune`: the build cache's entries and cache mounts.
  router.on('POST', '/build/prune', async (ctx) => {
    const keep = buildCacheKeep(ctx.query, await engine.builder.records());
    const r = await engine.builder.prune(keep);
    sendJSON(ctx, 200, { CachesDeleted: r.deleted, SpaceReclaimed: r.reclaimed });
  });

  router.on('POST', '/containers/prune', async (ctx) => {
    const f = pruneFilters(ctx.query, ['until', 'label', 'label!']);
    sendJSON(ctx, 200, await pruneContainers(engine, f));
  });
}
