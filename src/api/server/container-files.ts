// Routes over a container's files and processes: top, stats (streamed once a second), archive
// (HEAD stat, GET tar, PUT extract: `docker cp`), changes (diff), commit and export. Shapes
// and status codes as moby's api/swagger.yaml gives them.

import { pipeline } from 'node:stream/promises';
import { ZERO_TIME, type DockerStats, type Engine } from '../../engine/index.js';
import { COMMON_HEADERS, boolParam, readJSON, sendEmpty, sendJSON } from './http.js';
import { CommitConfig } from './body-types.js';
import type { Router } from './router.js';

const TAR = 'application/x-tar';

const statHeader = (stat: unknown) => Buffer.from(JSON.stringify(stat)).toString('base64');

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function containerFileRoutes(router: Router, engine: Engine): void {
  const files = engine.files;

  router.on('GET', '/containers/:id/top', async (ctx) => {
    sendJSON(ctx, 200, await files.top(ctx.params.id, ctx.query.get('ps_args') ?? undefined));
  });

  router.on('GET', '/containers/:id/stats', async (ctx) => {
    const id = ctx.params.id;
    // A sample of a container that is not running has no read time, and is nobody's base.
    const base = (s: DockerStats) => (s.read === ZERO_TIME ? undefined : s);
    let s = await files.stats(id);
    if (!boolParam(ctx.query, 'stream', true)) {
      // As dockerd: without one-shot the answer waits for a second sample, so CPU % has a base.
      if (!boolParam(ctx.query, 'one-shot') && base(s)) {
        await delay(1000);
        s = await files.stats(id, base(s));
      }
      sendJSON(ctx, 200, s);
      return;
    }
    const res = ctx.res!;
    let gone = false;
    res.once('close', () => {
      gone = true;
    }); // the client stopped reading
    res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json' });
    for (;;) {
      res.write(JSON.stringify(s) + '\n');
      await delay(1000);
      if (gone) return;
      try {
        s = await files.stats(id, base(s));
      } catch {
        res.end(); // the container was removed
        return;
      }
    }
  });

  router.on('GET', '/containers/:id/archive', async (ctx) => {
    const path = ctx.query.get('path') ?? '';
    const res = ctx.res!;
    if (ctx.req.method === 'HEAD') {
      const stat = await files.statPath(ctx.params.id, path);
      res.writeHead(200, { ...COMMON_HEADERS, 'X-Docker-Container-Path-Stat': statHeader(stat) });
      res.end();
      return;
    }
    const { stat, stream } = await files.archive(ctx.params.id, path);
    res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': TAR, 'X-Docker-Container-Path-Stat': statHeader(stat) });
    await pipeline(stream, res).catch(() => res.destroy());
  });

  router.on('PUT', '/containers/:id/archive', async (ctx) => {
    await files.extract(ctx.params.id, ctx.query.get('path') ?? '', ctx.req, {
      noOverwriteDirNonDir: boolParam(ctx.query, 'noOverwriteDirNonDir'),
      copyUIDGID: boolParam(ctx.query, 'copyUIDGID'),
    });
    sendEmpty(ctx, 200);
  });

  router.on('GET', '/containers/:id/changes', async (ctx) => {
    sendJSON(ctx, 200, await files.changes(ctx.params.id));
  });

  router.on('POST', '/commit', async (ctx) => {
    const q = ctx.query;
    const config = await readJSON(ctx, CommitConfig, { allowNull: true }); // old clients send null
    const id = await files.commit(q.get('container') ?? '', {
      repo: q.get('repo') || undefined,
      tag: q.get('tag') || undefined,
      comment: q.get('comment') || undefined,
      author: q.get('author') || undefined,
      pause: boolParam(q, 'pause', true),
      changes: q.getAll('changes'),
      config: Object.keys(config).length ? config : undefined,
    });
    sendJSON(ctx, 201, { Id: id });
  });

  router.on('GET', '/containers/:id/export', async (ctx) => {
    const stream = await files.export(ctx.params.id);
    const res = ctx.res!;
    res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': TAR });
    await pipeline(stream, res).catch(() => res.destroy());
  });
}
