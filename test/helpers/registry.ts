// Test registries on 127.0.0.1: Debian's `docker-registry` started with a config of the
// test's own (storage in a temp dir, a free port, optionally htpasswd auth), and a tiny fake
// registry in Node for the behaviours a real one will not show (500s, hangs, cut transfers,
// bearer tokens). Each is stopped by its own PID / server handle and its temp dir removed.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  url: string;
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `/usr/bin/docker-registry serve` on a free port; `auth` adds htpasswd (bcrypt) auth. */
export async function startRegistry(opts: { auth?: { username: string; password: string } } = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-registry-'));
  let child: ChildProcess | undefined;
  try {
    const port = await freePort();
    let auth = '';
    if (opts.auth) {
      const line = execFileSync('htpasswd', ['-Bbn', opts.auth.username, opts.auth.password], { encoding: 'utf8' }).trim();
      await writeFile(join(dir, 'htpasswd'), line + '\n');
      auth = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${join(dir, 'htpasswd')}\n`;
    }
    const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
${auth}`;
    await writeFile(join(dir, 'config.yml'), config);
    const { openSync, closeSync } = await import('node:fs');
    const logFd = openSync(join(dir, 'registry.log'), 'w');
    child = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    const c = child;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`docker-registry exited with ${c.exitCode}; log in ${dir}/registry.log`);
      try {
        const r = await fetch(`${url}/v2/`);
        await r.body?.cancel();
        if (r.status === 200 || r.status === 401) break;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) throw new Error('docker-registry did not start within 15 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    return {
      host: `127.0.0.1:${port}`,
      url,
      dir,
      pid: c.pid!,
      async stop() {
        if (c.exitCode === null && c.signalCode === null) {
          process.kill(c.pid!, 'SIGTERM');
          const t = setTimeout(() => {
            try {
              process.kill(c.pid!, 'SIGKILL');
            } catch {
              /* gone */
            }
          }, 3000);
          await exited;
          clearTimeout(t);
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (child?.pid && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

export interface FakeServer {
  host: string;
  url: string;
  requests: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  stop(): Promise<void>;
}

/** A Node HTTP server on 127.0.0.1 answering with `handler`; it records every request. */
export async function startFake(handler: Handler): Promise<FakeServer> {
  const requests: FakeServer['requests'] = [];
  // Every failure, reading the request included, becomes the answer: serve never rejects.
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      await handler(req, res, Buffer.concat(chunks));
    } catch (e) {
      if (!res.headersSent) {
        res.statusCode = 599;
        res.end(String(e));
      } else res.destroy();
    }
  };
  const server: Server = createServer((req, res) => void serve(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
