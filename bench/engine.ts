// `run --rm IMAGE true` (and `exec CONTAINER true`) through whole engines, side by side in one
// run, on one busybox image: the `berth` CLI against a private berthd, the real docker CLI
// against that berthd, the docker CLI against a private dockerd (on a containerd of its own),
// and podman with roots and config of its own. The image is made here with no network
// (makeRootfs from test/helpers/bundle.ts, one gzip layer), pushed once to a private
// docker-registry on 127.0.0.1 and pulled from there into each engine, so all four run the
// same bytes. Both docker runs and podman use `--network none`: berthd gives containers
// loopback only (it has no networks yet), so that is the like-for-like setting.
// Everything the run starts (registry, berthd, dockerd, containerd) is stopped by PID, mounts
// under its temp dir are unmounted, cgroup folders that appeared under the engines' own
// parent names during the run are removed when empty, the temp dir goes.
//
//   npm run build && npm run bench:engine     (as root; BENCH_N=30 for more; default 15)
//   BENCH_PEERS=berth,docker-berthd           (only these: berth, docker-berthd, docker-dockerd, podman)
//   BENCH_EXEC=0                              (skip the exec timings)
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../src/image/store.js';
import { push } from '../src/image/registry/push.js';
import { makeRootfs } from '../test/helpers/bundle.js';
import { storeImage } from '../test/helpers/images.js';
import { startRegistry, type TestRegistry } from '../test/helpers/registry.js';
import { percentile, sh as run, stopChildren, unmountAll, which } from './common.js';

/** Commands the engines are given: two minutes at most. */
const sh = (cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}) => run(cmd, args, { timeout: 120_000, ...opts });

const N = Math.max(1, Number(process.env.BENCH_N ?? 15) || 15);
const WARMUP = 1;
const DO_EXEC = process.env.BENCH_EXEC !== '0';
const BERTH = new URL('../../bin/berth.js', import.meta.url).pathname;
const BERTHD = new URL('../../bin/berthd.js', import.meta.url).pathname;
const DOCKER = '/usr/local/bin/docker';
const CGROUP = '/sys/fs/cgroup';
/** Parent cgroup names the engines make (dockerd cgroupfs, podman cgroupfs, berth). */
const CGROUP_PARENTS = ['docker', 'libpod_parent', 'berth'];

function must(what: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  const r = sh(cmd, args, { env: env ?? process.env });
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status ?? r.signal}: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-2).join(' | ')}`);
  return r.stdout;
}

/** Wall time of one command in ms; throws on a non-zero exit. */
function timed(what: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status ?? r.signal}: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-2).join(' | ')}`);
  return ms;
}

/** Every cgroup folder (all hierarchies) at or below the engines' parent names, as paths. */
function cgroupDirs(): Set<string> {
  const out = new Set<string>();
  let hierarchies: string[] = [];
  try { hierarchies = readdirSync(CGROUP).map((h) => join(CGROUP, h)); } catch { return out; }
  if (existsSync(join(CGROUP, 'cgroup.controllers'))) hierarchies = [CGROUP]; // v2 only
  const walk = (d: string) => {
    out.add(d);
    try { for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name)); } catch { /* gone */ }
  };
  for (const h of hierarchies) for (const p of CGROUP_PARENTS) if (existsSync(join(h, p))) walk(join(h, p));
  return out;
}

/** rmdir (deepest first) the cgroup folders that were not there before the run; empty ones only. */
function removeNewCgroups(before: Set<string>): number {
  let n = 0;
  for (const d of [...cgroupDirs()].filter((x) => !before.has(x)).sort((a, b) => b.length - a.length)) {
    try { rmdirSync(d); n++; } catch { /* busy or gone: left */ }
  }
  return n;
}

function ping(socket: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, agent: false, method: 'GET', path: '/_ping' }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); });
    req.on('error', reject);
    req.end();
  });
}

interface Peer {
  name: string;
  includes: string;
  skip?: string;
  /** argv (command first) of one `run --rm IMAGE true`. */
  run: string[];
  /** argv of `exec` into the long-running container, set once that container runs. */
  exec?: string[];
  env: NodeJS.ProcessEnv;
  /** Starts the `sleep` container for exec; returns the argv to remove it. */
  startSleeper?: () => string[];
  runTimes: number[];
  execTimes: number[];
  execSkip?: string;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) console.log('note: not root; the engines need root');
  const only = process.env.BENCH_PEERS?.split(',').map((s) => s.trim()).filter(Boolean);
  const want = (n: string) => !only || only.includes(n);
  const cgBefore = cgroupDirs();
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-engine-'));
  const runId = `bench-engine-${process.pid}`;
  let registry: TestRegistry | undefined;
  const children: { name: string; child: ChildProcess }[] = [];
  const cleanups: (() => void)[] = [];
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const c of cleanups.reverse()) { try { c(); } catch (e) { console.log(`cleanup: ${(e as Error).message}`); } }
    await stopChildren(children);
    await registry?.stop();
    unmountAll(dir);
    const n = removeNewCgroups(cgBefore);
    if (n) console.log(`cleanup: removed ${n} empty cgroup folder(s) made during the run`);
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => { void cleanup().then(() => process.exit(130)); });
  try {
    // ------------------------------------------------------------ the image, in a private registry
    registry = await startRegistry();
    const ref = `${registry.host}/bench/busybox:latest`;
    {
      const rootfs = join(dir, 'seed-rootfs');
      makeRootfs(rootfs);
      const tar = execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', '-', '.'], { maxBuffer: 64 << 20 });
      const store = new ImageStore(join(dir, 'seed-store'));
      await storeImage(store, 'seed/busybox:latest', [tar]);
      await push(store, 'seed/busybox:latest', ref);
      rmSync(rootfs, { recursive: true, force: true });
      rmSync(join(dir, 'seed-store'), { recursive: true, force: true });
    }
    const log = (n: string) => openSync(join(dir, n), 'w');
    const peers: Peer[] = [];

    // ------------------------------------------------------------ berthd (berth CLI and docker CLI)
    const bRoot = join(dir, 'berthd');
    const bSock = join(bRoot, 'berth.sock');
    const bHost = `unix://${bSock}`;
    let berthdErr: string | undefined;
    if (want('berth') || want('docker-berthd')) {
      try {
        mkdirSync(bRoot, { recursive: true });
        const fd = log('berthd.log');
        const child = spawn(process.execPath, [BERTHD, '--data-root', join(bRoot, 'data'), '--exec-root', join(bRoot, 'run'),
          '-H', bHost, '--insecure-registry', registry.host], { stdio: ['ignore', fd, fd] });
        closeSync(fd);
        children.push({ name: 'berthd', child });
        for (let t = 0; ; t++) {
          if (child.exitCode !== null) throw new Error(`berthd exited ${child.exitCode}: ${readFileSync(join(dir, 'berthd.log'), 'utf8').trim().split('\n').pop()}`);
          try { if (await ping(bSock) === 200) break; } catch { /* not yet */ }
          if (t > 200) throw new Error('berthd did not answer within 10 s');
          await new Promise((r) => setTimeout(r, 50));
        }
        must('berth pull', BERTH, ['-H', bHost, 'pull', ref]);
        cleanups.push(() => {
          // Any container left (a failed iteration) goes through the API before berthd stops.
          const ids = sh(BERTH, ['-H', bHost, 'ps', '-a', '-q']).stdout.trim().split('\n').filter(Boolean);
          if (ids.length) sh(BERTH, ['-H', bHost, 'rm', '-f', ...ids]);
        });
      } catch (e) { berthdErr = (e as Error).message; }
    }
    // berth's shebang unsets NODE_EXTRA_CA_CERTS for itself; the env is passed as it is.
    {
      const env = { ...process.env };
      const p: Peer = {
        name: 'berth', env, runTimes: [], execTimes: [],
        includes: 'bin/berth.js (Node start) → berthd: create, start, attach, wait, remove',
        run: [BERTH, '-H', bHost, 'run', '--rm', ref, 'true'],
        startSleeper: () => { must('berth run -d', BERTH, ['-H', bHost, 'run', '-d', '--name', `${runId}-b`, ref, 'sleep', '3600'], env); return [BERTH, '-H', bHost, 'rm', '-f', `${runId}-b`]; },
      };
      p.exec = [BERTH, '-H', bHost, 'exec', `${runId}-b`, 'true'];
      if (!want('berth')) p.skip = 'not in BENCH_PEERS';
      else if (berthdErr) p.skip = `berthd: ${berthdErr}`;
      peers.push(p);
    }
    {
      const env = { ...process.env, DOCKER_HOST: bHost, DOCKER_CONFIG: join(dir, 'docker-cli-berthd') };
      const p: Peer = {
        name: 'docker-berthd', env, runTimes: [], execTimes: [],
        includes: 'docker CLI (Go) → berthd, --network none',
        run: [DOCKER, 'run', '--rm', '--network', 'none', ref, 'true'],
        startSleeper: () => { must('docker run -d (berthd)', DOCKER, ['run', '-d', '--network', 'none', '--name', `${runId}-db`, ref, 'sleep', '3600'], env); return [DOCKER, 'rm', '-f', `${runId}-db`]; },
        exec: [DOCKER, 'exec', `${runId}-db`, 'true'],
      };
      if (!existsSync(DOCKER)) p.skip = `${DOCKER} is not there`;
      else if (!want('docker-berthd')) p.skip = 'not in BENCH_PEERS';
      else if (berthdErr) p.skip = `berthd: ${berthdErr}`;
      else mkdirSync(env.DOCKER_CONFIG, { recursive: true });
      peers.push(p);
    }

    // ------------------------------------------------------------ dockerd on a containerd of its own
    {
      const root = join(dir, 'docker');
      const sock = join(root, 'docker.sock');
      const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: join(root, 'cli'), DOCKER_HOST: `unix://${sock}` };
      const p: Peer = {
        name: 'docker-dockerd', env, runTimes: [], execTimes: [],
        includes: 'docker CLI → dockerd → containerd → shim → runc, --network none',
        run: [DOCKER, 'run', '--rm', '--network', 'none', ref, 'true'],
        startSleeper: () => { must('docker run -d', DOCKER, ['run', '-d', '--network', 'none', '--name', `${runId}-dd`, ref, 'sleep', '3600'], env); return [DOCKER, 'rm', '-f', `${runId}-dd`]; },
        exec: [DOCKER, 'exec', `${runId}-dd`, 'true'],
      };
      const missing = ['dockerd', 'containerd'].filter((c) => !which(c));
      if (!existsSync(DOCKER)) missing.unshift(DOCKER);
      if (missing.length) p.skip = `${missing.join(', ')} not installed (apt-get install docker.io)`;
      else if (!want('docker-dockerd')) p.skip = 'not in BENCH_PEERS';
      else {
        try {
          mkdirSync(join(root, 'cli'), { recursive: true });
          const cd = join(root, 'containerd');
          mkdirSync(cd, { recursive: true });
          const cdSock = join(cd, 'containerd.sock');
          writeFileSync(join(cd, 'config.toml'), `version = 2\nroot = "${join(cd, 'root')}"\nstate = "${join(cd, 'state')}"\n`
            + 'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            + `[grpc]\n  address = "${cdSock}"\n[ttrpc]\n  address = "${cdSock}.ttrpc"\n[debug]\n  address = ""\n[metrics]\n  address = ""\n`);
          const cfd = log('containerd.log');
          const containerd = spawn('containerd', ['--config', join(cd, 'config.toml')], { stdio: ['ignore', cfd, cfd] });
          closeSync(cfd);
          children.push({ name: 'containerd', child: containerd });
          for (let t = 0; !existsSync(cdSock); t++) {
            if (containerd.exitCode !== null || t > 300) throw new Error(`containerd did not start; log ${join(dir, 'containerd.log')}`);
            await new Promise((r) => setTimeout(r, 50));
          }
          writeFileSync(join(root, 'daemon.json'), '{}\n');
          const dfd = log('dockerd.log');
          const dockerd = spawn('dockerd', ['--data-root', join(root, 'data'), '--exec-root', join(root, 'exec'), '-H', `unix://${sock}`,
            '--pidfile', join(root, 'dockerd.pid'), '--containerd', cdSock, '--bridge=none', '--iptables=false', '--ip6tables=false',
            '--storage-driver', 'overlay2', '--insecure-registry', registry.host, '--config-file', join(root, 'daemon.json')],
          { stdio: ['ignore', dfd, dfd] });
          closeSync(dfd);
          children.push({ name: 'dockerd', child: dockerd });
          for (let t = 0; ; t++) {
            if (dockerd.exitCode !== null) throw new Error(`dockerd exited ${dockerd.exitCode}: ${readFileSync(join(dir, 'dockerd.log'), 'utf8').trim().split('\n').pop()}`);
            if (existsSync(sock) && sh(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env }).status === 0) break;
            if (t > 150) throw new Error('dockerd did not answer within 30 s');
            await new Promise((r) => setTimeout(r, 200));
          }
          must('docker pull', DOCKER, ['pull', '-q', ref], env);
          cleanups.push(() => {
            const ids = sh(DOCKER, ['ps', '-a', '-q'], { env }).stdout.trim().split('\n').filter(Boolean);
            if (ids.length) sh(DOCKER, ['rm', '-f', ...ids], { env });
          });
          p.includes += ` [dockerd ${sh(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env }).stdout.trim()}, ${sh(DOCKER, ['info', '--format', '{{.Driver}}, {{.CgroupDriver}} cgroups v{{.CgroupVersion}}'], { env }).stdout.trim()}]`;
        } catch (e) { p.skip = `docker refuses this machine: ${(e as Error).message}`; }
      }
      peers.push(p);
    }

    // ------------------------------------------------------------ podman with its own roots and config
    {
      const root = join(dir, 'podman');
      const env: NodeJS.ProcessEnv = { ...process.env };
      const pa = (...a: string[]) => ['podman', '--root', join(root, 'storage'), '--runroot', join(root, 'run'), '--storage-driver', 'overlay', ...a];
      const p: Peer = {
        name: 'podman', env, runTimes: [], execTimes: [],
        includes: 'podman → conmon → OCI runtime, --network none',
        run: pa('run', '--rm', '--network', 'none', ref, 'true'),
        startSleeper: () => { const a = pa('run', '-d', '--network', 'none', '--name', `${runId}-p`, ref, 'sleep', '3600'); must('podman run -d', a[0], a.slice(1), env); return pa('rm', '-f', '-t', '0', `${runId}-p`); },
        exec: pa('exec', `${runId}-p`, 'true'),
      };
      if (!which('podman')) p.skip = 'podman is not installed (apt-get install podman)';
      else if (!want('podman')) p.skip = 'not in BENCH_PEERS';
      else {
        mkdirSync(join(root, 'tmp'), { recursive: true });
        // Rootful podman raises RLIMIT_NPROC to 4194304 unless told otherwise; a host (or a
        // container) without CAP_SYS_RESOURCE refuses that, so the limits are the current hard ones.
        const nproc = sh('sh', ['-c', 'ulimit -Hu']).stdout.trim() || '1024';
        const nofile = sh('sh', ['-c', 'ulimit -Hn']).stdout.trim() || '1024';
        writeFileSync(join(root, 'containers.conf'), `[containers]\ndefault_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]\n\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n`
          // runc, as under dockerd (crun 1.8 refuses hybrid cgroup layouts); podman's default where runc is missing.
          + (which('runc') ? 'runtime = "runc"\n' : '')
          + `events_logfile_path = "${join(root, 'events.log')}"\ntmp_dir = "${join(root, 'tmp')}"\n`);
        writeFileSync(join(root, 'storage.conf'), `[storage]\ndriver = "overlay"\ngraphroot = "${join(root, 'storage')}"\nrunroot = "${join(root, 'run')}"\n`);
        writeFileSync(join(root, 'registries.conf'), `unqualified-search-registries = []\n[[registry]]\nlocation = "${registry.host}"\ninsecure = true\n`);
        env.CONTAINERS_CONF = join(root, 'containers.conf');
        env.CONTAINERS_STORAGE_CONF = join(root, 'storage.conf');
        env.CONTAINERS_REGISTRIES_CONF = join(root, 'registries.conf');
        env.TMPDIR = join(root, 'tmp');
        cleanups.push(() => { const a = pa('rm', '-a', '-f', '-t', '0'); sh(a[0], a.slice(1), { env }); const b = pa('rmi', '-a', '-f'); sh(b[0], b.slice(1), { env }); unmountAll(root); });
        try {
          const a = pa('pull', '-q', '--tls-verify=false', ref);
          must('podman pull', a[0], a.slice(1), env);
          const i = pa('info', '--format', '{{.Host.OCIRuntime.Name}}, {{.Store.GraphDriverName}}, {{.Host.CgroupManager}}');
          p.includes += ` [${sh(i[0], i.slice(1), { env }).stdout.trim()}]`;
        } catch (e) { p.skip = `podman refuses this machine: ${(e as Error).message}`; }
      }
      peers.push(p);
    }

    // ------------------------------------------------------------ run --rm, peers taking turns
    const active = () => peers.filter((p) => !p.skip);
    for (let i = 0; i < WARMUP + N; i++) {
      for (const p of active()) {
        try {
          const ms = timed(`${p.name} run`, p.run[0], p.run.slice(1), p.env);
          if (i >= WARMUP) p.runTimes.push(ms);
        } catch (e) { p.skip = (e as Error).message; }
      }
      process.stderr.write(`run: iteration ${i + 1 - WARMUP}/${N}${i < WARMUP ? ' (warm-up)' : ''} done\n`);
    }

    // ------------------------------------------------------------ exec into a running `sleep`
    if (DO_EXEC) {
      const ready: Peer[] = [];
      for (const p of active()) {
        try {
          const rm = p.startSleeper!();
          cleanups.push(() => { sh(rm[0], rm.slice(1), { env: p.env }); });
          ready.push(p);
        } catch (e) { p.execSkip = (e as Error).message; }
      }
      for (let i = 0; i < WARMUP + N; i++) {
        for (const p of ready.filter((x) => !x.execSkip)) {
          try {
            const ms = timed(`${p.name} exec`, p.exec![0], p.exec!.slice(1), p.env);
            if (i >= WARMUP) p.execTimes.push(ms);
          } catch (e) { p.execSkip = (e as Error).message; }
        }
        process.stderr.write(`exec: iteration ${i + 1 - WARMUP}/${N}${i < WARMUP ? ' (warm-up)' : ''} done\n`);
      }
    }

    // ------------------------------------------------------------ report
    const ver = (cmd: string, args: string[]) => { const r = sh(cmd, args); return r.status === 0 ? r.stdout.trim().split('\n')[0] : '?'; };
    const cas = process.env.NODE_EXTRA_CA_CERTS;
    console.log('');
    console.log(`engine bench: ${N} iterations (+${WARMUP} warm-up) of each command; peers take turns within each iteration`);
    console.log(`image: busybox (makeRootfs, one gzip layer) pushed to a private docker-registry on ${registry.host}, pulled into each engine before timing`);
    console.log(`versions: node ${process.version}; docker CLI: ${ver(DOCKER, ['--version'])}; ${ver('dockerd', ['--version'])}; ${ver('podman', ['--version'])}`);
    console.log(`NODE_EXTRA_CA_CERTS: ${cas ? `set (${cas}); bin/berth.js's shebang unsets it for the CLI; berthd was started with it` : 'not set'}`);
    console.log(`machine: ${ver('nproc', [])} CPUs, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}, ${ver('uname', ['-r'])}`);
    const base = peers.find((p) => p.name === 'docker-dockerd' && !p.skip);
    const fmt = (x: number) => x.toFixed(1).padStart(9);
    for (const [what, get, skipOf] of [
      ['run --rm IMAGE true', (p: Peer) => p.runTimes, (p: Peer) => p.skip],
      ['exec CONTAINER true', (p: Peer) => p.execTimes, (p: Peer) => p.skip ?? p.execSkip ?? (DO_EXEC ? undefined : 'BENCH_EXEC=0')],
    ] as const) {
      console.log('');
      console.log(`${what}`);
      console.log(`${'peer'.padEnd(16)}${'median'.padStart(9)}${'p90'.padStart(9)}${'min'.padStart(9)}${'/dockerd'.padStart(10)}   (ms)`);
      for (const p of peers) {
        const xs = get(p);
        const skip = skipOf(p);
        if (skip || !xs.length) { console.log(`${p.name.padEnd(16)}skipped: ${skip ?? 'no times'}`); continue; }
        const bx = base ? get(base) : [];
        const ratio = bx.length ? (percentile(xs, 0.5) / percentile(bx, 0.5)).toFixed(2) : '';
        console.log(`${p.name.padEnd(16)}${fmt(percentile(xs, 0.5))}${fmt(percentile(xs, 0.9))}${fmt(Math.min(...xs))}${ratio.padStart(10)}   ${what.startsWith('run') ? p.includes : ''}`);
      }
    }
    console.log('');
    console.log('/dockerd: the peer\'s median over docker CLI → dockerd\'s median (below 1: faster than docker)');
  } finally {
    await cleanup();
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
