// berthd's CRI socket (default <exec-root>/cri.sock, mode 0600: kubelet runs as root). It listens
// from start-up, and loads the CRI server (gRPC and the proto: ~280 ms on berthd's one thread)
// when the first client connects: a berthd that no kubelet talks to never pays for it, and no
// Engine API request waits behind it. A connection made meanwhile waits: what the client sent
// stays in its socket's buffer, which the HTTP/2 session reads first once it takes the socket
// (one made with pauseOnConnect would never be read).

import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { socketAnswers } from '../common/socket-alive.js';
import type { Engine } from '../engine/index.js';
import { errorMessage, systemError } from '../errors.js';
import type { CriServer, CriServerOptions } from './server.js';

/** Removes a socket left by a berthd that died (it would refuse the bind); one that answers is a live daemon's. */
async function claimSocket(path: string): Promise<void> {
  if (await socketAnswers(path)) throw systemError(`${path}: another daemon is serving the CRI on this socket`);
  await rm(path, { force: true });
}

/** Listens on `opts.socket` and serves the CRI for `engine` on it until `close`. */
export async function listenCri(engine: Engine, opts: CriServerOptions): Promise<{ close(): Promise<void> }> {
  let cri: Promise<CriServer> | undefined;
  let served: CriServer | undefined;
  const load = () => import('./server.js').then((m) => m.serveCri(engine, opts)).then((s) => (served = s));
  const server = createServer((conn: Socket) => {
    cri ??= load();
    cri.then(
      (s) => s.inject(conn),
      (e: unknown) => {
        opts.log('error', `CRI on ${opts.socket}: ${errorMessage(e)}`);
        // The next connection tries again.
        cri = undefined;
        conn.destroy();
      },
    );
  });
  await mkdir(dirname(opts.socket), { recursive: true, mode: 0o700 });
  await claimSocket(opts.socket);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.socket, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => opts.log('error', `CRI on ${opts.socket}: ${errorMessage(e)}`));
  await chmod(opts.socket, 0o600);
  return {
    async close() {
      server.close();
      await served?.close();
      await rm(opts.socket, { force: true });
    },
  };
}
