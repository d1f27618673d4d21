// Volume routes: create, list (filters), inspect, remove (force), prune; and the container
// create options that mount things (Binds, Mounts, Tmpfs, VolumesFrom) or fill the init files
// (ExtraHosts, Dns…). Shapes and status codes as moby's api/swagger.yaml gives them.

import { NOT_SWARM_MANAGER, invalid, unavailable } from '../../errors.js';
import type { ApiMount, Engine, HostConfig } from '../../engine/index.js';
import { apiOlder, boolParam, readJSON, sendEmpty, sendJSON } from './http.js';
import type { Router } from './router.js';
import { VolumeCreate } from './body-types.js';
import { parseFilters } from './filters.js';

const list = (v: unknown): string[] | null => (Array.isArray(v) ? v.map(String) : null);

/** The mount and init-file fields of a create request's HostConfig, checked for shape. */
export function mountHostConfig(hc: Record<string, any>, version?: string): Partial<HostConfig> {
  const out: Partial<HostConfig> = {};
  if (hc.Binds?.length) out.Binds = list(hc.Binds);
  if (hc.Mounts?.length) {
    if (!Array.isArray(hc.Mounts)) throw invalid('HostConfig.Mounts must be a list');
    // Fields newer than the client's API version, in dockerd's words (it refuses rather than ignores them).
    for (const m of hc.Mounts as ApiMount[]) {
      if (m.BindOptions?.ReadOnlyForceRecursive && apiOlder(version, '1.44'))
        throw invalid('BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer');
      if (m.VolumeOptions?.Subpath && apiOlder(version, '1.45')) throw invalid('VolumeOptions.Subpath needs API v1.45 or newer');
    }
    out.Mounts = hc.Mounts;
  }
  if (hc.Tmpfs && Object.keys(hc.Tmpfs).length)
    out.Tmpfs = Object.fromEntries(Object.entries(hc.Tmpfs).map(([k, v]) => [k, String(v ?? '')]));
  if (hc.VolumesFrom?.length) out.VolumesFrom = list(hc.VolumesFrom);
  if (hc.VolumeDriver) out.VolumeDriver = String(hc.VolumeDriver);
  if (hc.ExtraHosts?.length) out.ExtraHosts = list(hc.ExtraHosts);
  if (hc.Dns?.length) out.Dns = list(hc.Dns);
  if (hc.DnsSearch?.length) out.DnsSearch = list(hc.DnsSearch);
  if (hc.DnsOptions?.length) out.DnsOptions = list(hc.DnsOptions);
  return out;
}

export function volumeRoutes(router: Router, engine: Engine): void {
  const vs = () => engine.containers.volumes;

  router.on('POST', '/volumes/create', async (ctx) => {
    const body = await readJSON(ctx, VolumeCreate);
    if (body.ClusterVolumeSpec) {
      // From API 1.42 dockerd hands a cluster volume to the swarm, which a node in none refuses;
      // before it dockerd ignores the spec, which berthd does not.
      if (!apiOlder(ctx.version, '1.42')) throw unavailable(NOT_SWARM_MANAGER);
      throw invalid('cluster volumes are not supported');
    }
    const v = vs().create({ Name: body.Name, Driver: body.Driver, DriverOpts: body.DriverOpts, Labels: body.Labels });
    await vs().durable([v.Name]);
    sendJSON(ctx, 201, v);
  });

  router.on('GET', '/volumes', (ctx) => {
    sendJSON(ctx, 200, { Volumes: vs().list(parseFilters(ctx.query)), Warnings: [] });
  });

  router.on('GET', '/volumes/:name', (ctx) => {
    sendJSON(ctx, 200, vs().get(ctx.params.name));
  });

  router.on('DELETE', '/volumes/:name', async (ctx) => {
    await vs().remove(ctx.params.name, { force: boolParam(ctx.query, 'force') });
    sendEmpty(ctx, 204);
  });

  router.on('POST', '/volumes/prune', async (ctx) => {
    const filters = parseFilters(ctx.query);
    // Before API 1.42 prune took named volumes too (moby implies all=true for older clients).
    if (apiOlder(ctx.version, '1.42') && !filters.all) filters.all = ['true'];
    sendJSON(ctx, 200, await vs().prune(filters));
  });
}
