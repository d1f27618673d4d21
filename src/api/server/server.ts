// berthd's HTTP server: the Engine API routes over one Engine, on unix sockets (mode 0660) or
// TCP. Plain requests and upgraded (hijacked) ones go through the same router; errors become
// Docker's `{"message": …}` with the status of their kind.

import { attachWebSocketRoute } from './attach-ws.js';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { errorMessage, httpStatus, systemError } from '../../errors.js';
import { socketAnswers } from '../../common/socket-alive.js';
import type { Engine } from '../../engine/index.js';
import { containerRoutes } from './containers.js';
import { eventRoutes } from './events.js';
import { containerFileRoutes } from './container-files.js';
import { authRoutes } from './auth.js';
import { execRoutes } from './exec.js';
import { sendError } from './http.js';
import { imageRoutes } from './images.js';
import { Router, type Context } from './router.js';
import { systemRoutes } from './system.js';
import { usageRoutes } from './usage.js';
import { volumeRoutes } from './volumes.js';
import { networkRoutes } from './networks.js';
import { balancerRoutes } from './balancers.js';
import { absentRoutes } from './absent.js';
import { buildRoutes } from './build.js';
import { podRoutes } from './pods.js';

export interface ApiServerOptions {
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
}

export function createApiServer(engine: Engine, opts: ApiServerOptions = {}): Server {
  const router = new Router();
  systemRoutes(router, engine, engine.id);
  usageRoutes(router, engine);
  imageRoutes(router, engine);
  authRoutes(router, engine);
  containerRoutes(router, engine);
  attachWebSocketRoute(router, engine);
  containerFileRoutes(router, engine);
  volumeRoutes(router, engine);
  networkRoutes(router, engine);
  balancerRoutes(router, engine);
  execRoutes(router, engine);
  eventRoutes(router, engine);
  buildRoutes(router, engine);
  podRoutes(router, engine);
  absentRoutes(router);
  const log = opts.log ?? (() => {});

  const dispatch = async (ctx: Omit<Context, 'path' | 'params' | 'query'>) => {
    const full = ctx as Context;
    try {
      const m = router.match(ctx.req.method ?? 'GET', ctx.req.url ?? '/');
      Object.assign(full, { path: m.path, params: m.params, query: m.query, version: m.version });
      log('debug', `${ctx.req.method} ${ctx.req.url}`);
      await m.handler(full);
    } catch (e) {
      const status = httpStatus(e);
      log(status >= 500 ? 'error' : 'debug', `${ctx.req.method} ${ctx.req.url}: ${status} ${errorMessage(e)}`);
      sendError(full, e);
    }
  };

  // Go's http server allows 1 MiB of headers (dockerd's too); node's 16 KiB would refuse a
  // build's X-Registry-Config with many logins, or its secrets header.
  const server = createServer({ keepAlive: true, maxHeaderSize: 1 << 20 }, (req, res) => {
    void dispatch({ req, res });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    void dispatch({ req, socket, head });
  });
  return server;
}

/**
 * Listens on `unix:///path` (mode 0660, owned by root and `gid`; a stale socket file is
 * replaced) or `tcp://host:port` (plain HTTP); returns the cleanup.
 */
export async function listen(server: Server, host: string, opts: { gid?: number } = {}): Promise<() => void> {
  if (host.startsWith('unix://')) {
    const path = host.slice('unix://'.length);
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    if (existsSync(path)) {
      // A socket left by a daemon that died is removed; one that answers belongs to a live daemon.
      if (await socketAnswers(path)) throw systemError(`${path}: another daemon is listening on this socket`);
      rmSync(path, { force: true });
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    chmodSync(path, 0o660);
    chownSync(path, process.getuid!(), opts.gid ?? process.getgid!());
    return () => rmSync(path, { force: true });
  }
  const m = /^tcp:\/\/([^:]+|\[[^\]]+\]):(\d+)$/.exec(host);
  if (!m) throw systemError(`unsupported host ${host}: give unix:///path or tcp://host:port`);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), m[1].replace(/^\[|\]$/g, ''), () => resolve());
  });
  return () => {};
}
