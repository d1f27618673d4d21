// A private berthd for one engine test file: temp roots under /tmp/berth-test-engine-*, a
// socket of its own, and a local docker-registry holding a busybox image (pushed with the
// image library) as the daemon's --registry-mirror, so `busybox` pulls without the internet.
// `stop()` removes every container through the API, stops berthd by its PID and the registry,
// and removes the temp dirs.

import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRootfs } from './helpers/bundle.js';
import { storeImage } from './helpers/images.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';
import { ImageStore, push } from '../src/image/index.js';

export const BERTH = new URL('../../bin/berth.js', import.meta.url).pathname;
export const BERTHD = new URL('../../bin/berthd.js', import.meta.url).pathname;
export const DOCKER = '/usr/local/bin/docker';
/** Debian's docker.io CLI, the older client the issue asks for beside 28.x. */
export const DOCKER_20 = '/usr/bin/docker';
/** Why the docker 20.10 CLI's tests are skipped, or false where it is there. */
export const noDocker20 =
  !(
    existsSync(DOCKER_20) &&
    /^20\./.test(spawnSync(DOCKER_20, ['version', '--format', '{{.Client.Version}}'], { encoding: 'utf8' }).stdout ?? '')
  ) && 'no docker 20.10 CLI';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}
/** `bin`: another docker CLI; `env`: more variables (DOCKER_API_VERSION…); `config`: its DOCKER_CONFIG. */
export interface DockerOptions {
  bin?: string;
  input?: string;
  config?: string;
  env?: NodeJS.ProcessEnv;
}

export interface EngineFixture {
  dir: string;
  socket: string;
  host: string;
  registry: TestRegistry;
  /** `host:port/test/busybox:latest` in the registry, for pulls by full name. */
  directImage: string;
  daemonLog(): string;
  /** berthd's PID (a new one after `restart`). */
  pid(): number;
  /** Stops berthd with `signal` (SIGKILL: a crash) and starts a new one on the same roots, after `whileDown`. */
  restart(signal?: NodeJS.Signals, whileDown?: () => Promise<void>): Promise<void>;
  /** Runs a docker CLI (28.x unless `bin`) against this berthd, with a config dir of the test's own unless `config`. */
  docker(args: string[], opts?: DockerOptions): CliResult;
  /** The same, asserting it succeeded: its stdout, trimmed. */
  dockerOk(args: string[], opts?: DockerOptions): string;
  /** Raw API call over the socket. */
  api(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>;
  stop(): Promise<void>;
}

/** Pushes a busybox image (with every applet) as library/busybox:latest and test/busybox:latest. */
export async function seedRegistry(registry: TestRegistry, dir: string): Promise<void> {
  const rootfs = join(dir, 'seed-rootfs');
  makeRootfs(rootfs);
  const tar = execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', '-', '.'], { maxBuffer: 64 << 20 });
  const store = new ImageStore(join(dir, 'seed-store'));
  await storeImage(store, 'seed/busybox:latest', [tar]);
  await push(store, 'seed/busybox:latest', `${registry.host}/library/busybox:latest`);
  await push(store, 'seed/busybox:latest', `${registry.host}/test/busybox:latest`);
  rmSync(rootfs, { recursive: true, force: true });
  rmSync(join(dir, 'seed-store'), { recursive: true, force: true });
}

/** One request over a unix socket (a JSON body when given): status, headers and body. Any engine's socket, dockerd's too. */
export function call(socket: string, method: string, path: string, body?: unknown): ReturnType<EngineFixture['api']> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        socketPath: socket,
        agent: false,
        method,
        path,
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        // A response cut off after its headers (berthd killed while it streams a pull's
        // progress) ends with an error on the response, not the request: without this the
        // call would never settle.
        res.on('error', (e) => reject(new Error(`${method} ${path}: the response was cut off after ${res.statusCode}: ${e.message}`)));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function spawnDaemon(dir: string, socket: string, registry: TestRegistry, dataRoot: string): Promise<ChildProcess> {
  const logFd = openSync(join(dir, 'berthd.log'), 'a');
  const child = spawn(
    process.execPath,
    [
      // Node flags for berthd (a bench's --cpu-prof), space-separated.
      ...(process.env.BERTHD_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
      BERTHD,
      '--config-file',
      join(dir, 'daemon.json'),
      '--data-root',
      dataRoot,
      '--exec-root',
      join(dir, 'run'),
      '-H',
      `unix://${socket}`,
      '--registry-mirror',
      registry.url,
      '--log-level',
      'debug',
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`berthd exited with ${child.exitCode}: ${readFileSync(join(dir, 'berthd.log'), 'utf8')}`);
    try {
      if ((await call(socket, 'GET', '/_ping')).status === 200) return child;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      process.kill(child.pid!, 'SIGKILL');
      throw new Error('berthd did not answer within 10 s');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const exitOf = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

/**
 * `daemonConfig`: the daemon.json keys of the test's berthd (`<dir>/daemon.json`, kept across
 * restarts). `dataRoot`: its --data-root, a folder the test made and removes (default `<dir>/data`).
 */
export async function startEngine(opts: { daemonConfig?: Record<string, unknown>; dataRoot?: string } = {}): Promise<EngineFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-engine-'));
  const dataRoot = opts.dataRoot ?? join(dir, 'data');
  const socket = join(dir, 'berth.sock');
  // A config file of its own, so a host's /etc/berth/daemon.json cannot change the test's daemon.
  writeFileSync(join(dir, 'daemon.json'), `${JSON.stringify(opts.daemonConfig ?? {})}\n`);
  let registry: TestRegistry | undefined;
  let child: ChildProcess | undefined;
  try {
    registry = await startRegistry();
    await seedRegistry(registry, dir);
    child = await spawnDaemon(dir, socket, registry, dataRoot);
  } catch (e) {
    if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let c = child;
  const reg = registry;
  const docker: EngineFixture['docker'] = (args, o = {}) => {
    const config = o.config ?? join(dir, 'docker-config');
    mkdirSync(config, { recursive: true });
    const r = spawnSync(o.bin ?? DOCKER, args, {
      encoding: 'utf8',
      timeout: 60_000,
      input: o.input,
      env: { ...process.env, ...o.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: config },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return {
    dir,
    socket,
    host: `unix://${socket}`,
    registry: reg,
    directImage: `${reg.host}/test/busybox:latest`,
    daemonLog: () => readFileSync(join(dir, 'berthd.log'), 'utf8'),
    pid: () => c.pid!,
    async restart(signal: NodeJS.Signals = 'SIGTERM', whileDown?: () => Promise<void>) {
      const gone = exitOf(c);
      process.kill(c.pid!, signal);
      await gone;
      await whileDown?.();
      c = await spawnDaemon(dir, socket, reg, dataRoot);
    },
    docker,
    dockerOk(args, o) {
      const r = docker(args, o);
      assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    },
    api: (m, p, b) => call(socket, m, p, b),
    async stop() {
      try {
        // Pods first: a pod's infra container is removed only with its pod.
        const pods = JSON.parse((await call(socket, 'GET', '/pods/json')).body) as { Id: string }[];
        for (const p of pods) await call(socket, 'DELETE', `/pods/${p.Id}?force=1`);
        const list = JSON.parse((await call(socket, 'GET', '/containers/json?all=1')).body) as { Id: string }[];
        for (const ct of list) await call(socket, 'DELETE', `/containers/${ct.Id}?force=1`);
      } catch (e) {
        process.stderr.write(
          `berthd (exit ${c.exitCode}, signal ${c.signalCode}) log:\n${readFileSync(join(dir, 'berthd.log'), 'utf8').slice(-20000)}\n`,
        );
        throw e;
      } finally {
        const exited = exitOf(c);
        if (c.exitCode === null) process.kill(c.pid!, 'SIGTERM');
        const t = setTimeout(() => {
          if (c.exitCode === null) process.kill(c.pid!, 'SIGKILL');
        }, 5000);
        await exited;
        clearTimeout(t);
        await reg.stop();
        // Anything still mounted under the roots (a failed test) goes before the files.
        const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
          .split('\n')
          .map((l) => l.split(' ')[4])
          .filter((m) => m?.startsWith(dir));
        for (const m of mounts.reverse())
          try {
            execFileSync('umount', ['-l', m]);
          } catch {
            /* gone */
          }
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** GET http://host:port/hostname (busybox httpd serving a container's /etc): the body, or a rejection within 5 s. */
export function httpGet(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/hostname', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve(body));
      res.on('error', reject); // cut off after its headers
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Polls until `cond` holds (async), up to `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
