// berth's balancer routes (not Docker's): a host port spread across containers, as kube-proxy
// spreads a NodePort across a Service's pods (engine/balancers.ts). berth kube is their client.
// GET /balancers (filters: label), GET /balancers/{id}, POST /balancers/create, DELETE /balancers/{id}.

import type { BalancerCreate as Create, BalancerRecord, Engine } from '../../engine/index.js';
import { BalancerCreate } from './body-types.js';
import { parseFilters } from './filters.js';
import { readJSON, sendEmpty, sendJSON } from './http.js';
import type { Router } from './router.js';

export function balancerRoutes(router: Router, engine: Engine): void {
  const b = () => engine.balancers;
  const view = (r: BalancerRecord) => ({
    ...r,
    Endpoints: b()
      .endpoints(r)
      .map((e) => ({ IP: e.ip, Port: e.port })),
  });

  router.on('GET', '/balancers', (ctx) => {
    const f = parseFilters(ctx.query);
    sendJSON(
      ctx,
      200,
      b()
        .list(f.label ?? [])
        .map(view),
    );
  });

  router.on('GET', '/balancers/:id', (ctx) => {
    sendJSON(ctx, 200, view(b().get(ctx.params.id)));
  });

  router.on('POST', '/balancers/create', async (ctx) => {
    const body = (await readJSON(ctx, BalancerCreate)) as Create;
    const rec = await b().create({ ...body, Backends: body.Backends ?? [] });
    sendJSON(ctx, 201, { Id: rec.Id });
  });

  router.on('DELETE', '/balancers/:id', async (ctx) => {
    await b().remove(ctx.params.id);
    sendEmpty(ctx, 204);
  });
}
