// What every bench needs around the peers it times: running commands, finding them, the
// percentile it reports, the engines it starts (berthd, dockerd on its own containerd, podman
// with config of its own) and taking down what it started (daemons by PID, mounts under its
// temp dir, cgroup folders), and the memory of processes (PSS from smaps_rollup).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { ImageStore } from '../src/image/store.js';
import { push } from '../src/image/registry/push.js';
import { makeRootfs } from '../test/helpers/bundle.js';
import { storeImage } from '../test/helpers/images.js';

export function sh(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
}

export function which(cmd: string): string | undefined {
  const r = sh('sh', ['-c', `command -v ${cmd}`]);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The q-quantile (nearest rank) of `xs`: 0.5 is the median. */
export function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** Mount points at or under `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const p = mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (p === dir || p.startsWith(dir + '/')) out.push(p);
  }
  return out.sort((a, b) => b.length - a.length);
}

export function unmountAll(dir: string): void {
  for (let round = 0; round < 5; round++) {
    const ms = mountsUnder(dir);
    if (ms.length === 0) return;
    for (const m of ms) sh('umount', [m]).status === 0 || sh('umount', ['-l', m]);
  }
}

/** SIGTERM to each daemon the bench started, last started first (dockerd before its containerd); SIGKILL after 15 s. */
export async function stopChildren(children: { name: string; child: ChildProcess }[]): Promise<void> {
  for (const { name, child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(child.pid!, 'SIGTERM');
    const t = setTimeout(() => {
      try {
        process.kill(child.pid!, 'SIGKILL');
        console.log(`${name} killed`);
      } catch {
        /* gone */
      }
    }, 15_000);
    await gone;
    clearTimeout(t);
  }
}

// ---------------------------------------------------------------- the engines the benches start
// Each engine runs private to the bench: roots, sockets and config under the bench's temp dir,
// its daemons pushed on `children` so that stopChildren takes them down by PID.

export type Children = { name: string; child: ChildProcess }[];

// BENCH_BERTHD: another checkout's bin/berthd.js, to set a change beside the build it changes.
const BERTHD = process.env.BENCH_BERTHD ?? new URL('../../bin/berthd.js', import.meta.url).pathname;
export const DOCKER_CLI = '/usr/local/bin/docker';

function logFd(dir: string, name: string): number {
  return openSync(join(dir, name), 'w');
}

function lastLine(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').pop() ?? '';
  } catch {
    return '';
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET /_ping on a unix socket: the status code. */
export function ping(socket: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, agent: false, method: 'GET', path: '/_ping' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The bench's busybox (makeRootfs: Debian's busybox-static, one gzip layer), pushed to `registryHost`; its reference. */
export async function pushBusybox(dir: string, registryHost: string): Promise<string> {
  const ref = `${registryHost}/bench/busybox:latest`;
  const rootfs = join(dir, 'seed-rootfs');
  const storeDir = join(dir, 'seed-store');
  try {
    makeRootfs(rootfs);
    const tar = execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', '-', '.'], { maxBuffer: 64 << 20 });
    const store = new ImageStore(storeDir);
    await storeImage(store, 'seed/busybox:latest', [tar]);
    await push(store, 'seed/busybox:latest', ref);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
    rmSync(storeDir, { recursive: true, force: true });
  }
  return ref;
}

export interface Berthd {
  sock: string;
  host: string;
  pid: number;
}

/** A berthd with its own --data-root/--exec-root under `root`, answering on `root`/berth.sock; `args` are more flags. */
export async function startBerthd(
  root: string,
  registryHost: string,
  children: Children,
  env: NodeJS.ProcessEnv = process.env,
  args: string[] = [],
): Promise<Berthd> {
  mkdirSync(root, { recursive: true });
  const sock = join(root, 'berth.sock');
  const host = `unix://${sock}`;
  const fd = logFd(root, 'berthd.log');
  // As a user starts it: the bin's shebang carries berthd's Node flags.
  writeFileSync(join(root, 'daemon.json'), '{}\n'); // not the host's /etc/berth/daemon.json
  const child = spawn(
    BERTHD,
    [
      '--config-file',
      join(root, 'daemon.json'),
      '--data-root',
      join(root, 'data'),
      '--exec-root',
      join(root, 'run'),
      '-H',
      host,
      '--insecure-registry',
      registryHost,
      ...args,
    ],
    { stdio: ['ignore', fd, fd], env },
  );
  closeSync(fd);
  children.push({ name: 'berthd', child });
  for (let t = 0; ; t++) {
    if (child.exitCode !== null) throw new Error(`berthd exited ${child.exitCode}: ${lastLine(join(root, 'berthd.log'))}`);
    try {
      if ((await ping(sock)) === 200) break;
    } catch {
      /* not yet */
    }
    if (t > 200) throw new Error('berthd did not answer within 10 s');
    await pause(50);
  }
  return { sock, host, pid: child.pid! };
}

export interface Dockerd {
  sock: string;
  env: NodeJS.ProcessEnv;
  containerdSock: string;
  dockerdPid: number;
  containerdPid: number;
}

/**
 * dockerd (overlay2, no bridge, no iptables) on a containerd of its own (no CRI), all under `root`;
 * with `bridge` (a bridge device the caller made, its address set), dockerd's default network
 * is that bridge, with iptables on.
 */
export async function startDockerd(root: string, registryHost: string, children: Children, bridge?: string): Promise<Dockerd> {
  const missing = ['dockerd', 'containerd'].filter((c) => !which(c));
  if (!existsSync(DOCKER_CLI)) missing.unshift(DOCKER_CLI);
  if (missing.length) throw new Error(`${missing.join(', ')} not installed (apt-get install docker.io)`);
  const sock = join(root, 'docker.sock');
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: join(root, 'cli'), DOCKER_HOST: `unix://${sock}` };
  mkdirSync(join(root, 'cli'), { recursive: true });
  const cd = join(root, 'containerd');
  mkdirSync(cd, { recursive: true });
  const cdSock = join(cd, 'containerd.sock');
  writeFileSync(
    join(cd, 'config.toml'),
    `version = 2\nroot = "${join(cd, 'root')}"\nstate = "${join(cd, 'state')}"\n` +
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n' +
      `[grpc]\n  address = "${cdSock}"\n[ttrpc]\n  address = "${cdSock}.ttrpc"\n[debug]\n  address = ""\n[metrics]\n  address = ""\n`,
  );
  const cfd = logFd(root, 'containerd.log');
  const containerd = spawn('containerd', ['--config', join(cd, 'config.toml')], { stdio: ['ignore', cfd, cfd] });
  closeSync(cfd);
  children.push({ name: 'containerd', child: containerd });
  for (let t = 0; !existsSync(cdSock); t++) {
    if (containerd.exitCode !== null || t > 300) throw new Error(`containerd did not start: ${lastLine(join(root, 'containerd.log'))}`);
    await pause(50);
  }
  writeFileSync(join(root, 'daemon.json'), '{}\n');
  const dfd = logFd(root, 'dockerd.log');
  const dockerd = spawn(
    'dockerd',
    [
      '--data-root',
      join(root, 'data'),
      '--exec-root',
      join(root, 'exec'),
      '-H',
      `unix://${sock}`,
      '--pidfile',
      join(root, 'dockerd.pid'),
      '--containerd',
      cdSock,
      ...(bridge ? [`--bridge=${bridge}`, '--iptables=true'] : ['--bridge=none', '--iptables=false']),
      '--ip6tables=false',
      '--storage-driver',
      'overlay2',
      '--insecure-registry',
      registryHost,
      '--config-file',
      join(root, 'daemon.json'),
    ],
    { stdio: ['ignore', dfd, dfd] },
  );
  closeSync(dfd);
  children.push({ name: 'dockerd', child: dockerd });
  for (let t = 0; ; t++) {
    if (dockerd.exitCode !== null) throw new Error(`dockerd exited ${dockerd.exitCode}: ${lastLine(join(root, 'dockerd.log'))}`);
    if (existsSync(sock) && sh(DOCKER_CLI, ['version', '--format', '{{.Server.Version}}'], { env }).status === 0) break;
    if (t > 150) throw new Error('dockerd did not answer within 30 s');
    await pause(200);
  }
  return { sock, env, containerdSock: cdSock, dockerdPid: dockerd.pid!, containerdPid: containerd.pid! };
}

export interface Podman {
  env: NodeJS.ProcessEnv;
  root: string;
  runroot: string;
  argv: (...a: string[]) => string[];
}

/**
 * podman with its own --root/--runroot and CONTAINERS_CONF/CONTAINERS_STORAGE_CONF/
 * CONTAINERS_REGISTRIES_CONF: cgroupfs, events to a file, runc where installed (crun 1.8
 * refuses hybrid cgroup layouts), and default_ulimits at the current hard limits (rootful
 * podman otherwise raises RLIMIT_NPROC to 4194304, which needs CAP_SYS_RESOURCE).
 */
export function podmanSetup(root: string, registryHost: string): Podman {
  if (!which('podman')) throw new Error('podman is not installed (apt-get install podman)');
  const storage = join(root, 'storage');
  const runroot = join(root, 'run');
  mkdirSync(join(root, 'tmp'), { recursive: true });
  const nproc = sh('sh', ['-c', 'ulimit -Hu']).stdout.trim() || '1024';
  const nofile = sh('sh', ['-c', 'ulimit -Hn']).stdout.trim() || '1024';
  writeFileSync(
    join(root, 'containers.conf'),
    `[containers]\ndefault_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]\n\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n` +
      (which('runc') ? 'runtime = "runc"\n' : '') +
      `events_logfile_path = "${join(root, 'events.log')}"\ntmp_dir = "${join(root, 'tmp')}"\n`,
  );
  writeFileSync(join(root, 'storage.conf'), `[storage]\ndriver = "overlay"\ngraphroot = "${storage}"\nrunroot = "${runroot}"\n`);
  writeFileSync(
    join(root, 'registries.conf'),
    `unqualified-search-registries = []\n[[registry]]\nlocation = "${registryHost}"\ninsecure = true\n`,
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_CONF: join(root, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(root, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: join(root, 'registries.conf'),
    TMPDIR: join(root, 'tmp'),
  };
  return {
    env,
    root: storage,
    runroot,
    argv: (...a) => ['podman', '--root', storage, '--runroot', runroot, '--storage-driver', 'overlay', ...a],
  };
}

/** Every cgroup folder (all hierarchies) at or below `parents`, as paths. */
export function cgroupDirs(parents: string[]): Set<string> {
  const CGROUP = '/sys/fs/cgroup';
  const out = new Set<string>();
  let hierarchies: string[] = [];
  try {
    hierarchies = readdirSync(CGROUP).map((h) => join(CGROUP, h));
  } catch {
    return out;
  }
  if (existsSync(join(CGROUP, 'cgroup.controllers'))) hierarchies = [CGROUP]; // v2 only
  const walk = (d: string) => {
    out.add(d);
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      /* gone */
    }
  };
  for (const h of hierarchies) for (const p of parents) if (existsSync(join(h, p))) walk(join(h, p));
  return out;
}

/** rmdir (deepest first) the cgroup folders under `parents` that were not there `before`; empty ones only. */
export function removeNewCgroups(parents: string[], before: Set<string>): number {
  let n = 0;
  for (const d of [...cgroupDirs(parents)].filter((x) => !before.has(x)).sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(d);
      n++;
    } catch {
      /* busy or gone: left */
    }
  }
  return n;
}

// ---------------------------------------------------------------- a run's teardown

/** The cgroup parents of the engines the benches run: dockerd's, podman's and berthd's. */
const CGROUP_PARENTS = ['docker', 'libpod_parent', 'berth'];

/**
 * What one bench run made, taken down once, at its end or on SIGINT: the `whileUp` steps (the
 * latest first, daemons still running), then the daemons (`children`) and the registry by PID,
 * the mounts under the run's temp dir, the `afterDown` steps, the empty cgroup folders that
 * appeared during the run, and the temp dir.
 */
export class BenchRun {
  readonly dir: string;
  readonly children: Children = [];
  registry?: { stop(): Promise<void> };
  private readonly up: (() => unknown)[] = [];
  private readonly down: (() => unknown)[] = [];
  private readonly cgroupsBefore = cgroupDirs(CGROUP_PARENTS);
  private done = false;

  constructor(name: string) {
    this.dir = mkdtempSync(join(tmpdir(), `berth-bench-${name}-`));
    process.once('SIGINT', () => {
      void this.cleanup().then(() => process.exit(130));
    });
  }

  whileUp(step: () => unknown): void {
    this.up.push(step);
  }
  afterDown(step: () => unknown): void {
    this.down.push(step);
  }

  async cleanup(): Promise<void> {
    if (this.done) return;
    this.done = true;
    const run = async (steps: (() => unknown)[]) => {
      for (const step of steps.reverse()) {
        try {
          await step();
        } catch (e) {
          console.log(`cleanup: ${(e as Error).message}`);
        }
      }
    };
    await run(this.up);
    await stopChildren(this.children);
    await this.registry?.stop();
    unmountAll(this.dir);
    await run(this.down);
    const n = removeNewCgroups(CGROUP_PARENTS, this.cgroupsBefore);
    if (n) console.log(`cleanup: removed ${n} empty cgroup folder(s) made during the run`);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- memory of processes

/** Rss and Pss of a process in kB, from /proc/PID/smaps_rollup; undefined when it is gone. */
export function memoryOf(pid: number): { rss: number; pss: number } | undefined {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? 0);
    return { rss: kb('Rss'), pss: kb('Pss') };
  } catch {
    return undefined;
  }
}

/** PIDs of processes whose command line (NULs as spaces) matches `test`. */
export function pidsWhere(test: (cmdline: string) => boolean): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (test(readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ').trim())) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}
