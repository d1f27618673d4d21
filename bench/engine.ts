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
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry } from '../test/helpers/registry.js';
import {
  BenchRun,
  DOCKER_CLI as DOCKER,
  percentile,
  podmanSetup,
  pushBusybox,
  sh as run,
  startBerthd,
  startDockerd,
  unmountAll,
} from './common.js';

/** Commands the engines are given: two minutes at most. */
const sh = (cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}) =>
  run(cmd, args, { timeout: 120_000, ...opts });

const N = Math.max(1, Number(process.env.BENCH_N ?? 15) || 15);
const WARMUP = 1;
const DO_EXEC = process.env.BENCH_EXEC !== '0';
const BERTH = new URL('../../bin/berth.js', import.meta.url).pathname;
/** Parent cgroup names the engines make (dockerd cgroupfs, podman cgroupfs, berth). */

function must(what: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  const r = sh(cmd, args, { env: env ?? process.env });
  if (r.status !== 0)
    throw new Error(
      `${what}: exit ${r.status ?? r.signal}: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-2).join(' | ')}`,
    );
  return r.stdout;
}

/** Wall time of one command in ms; throws on a non-zero exit. */
function timed(what: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0)
    throw new Error(
      `${what}: exit ${r.status ?? r.signal}: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-2).join(' | ')}`,
    );
  return ms;
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
  const only = process.env.BENCH_PEERS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const want = (n: string) => !only || only.includes(n);
  const bench = new BenchRun('engine');
  const dir = bench.dir;
  const children = bench.children;
  const runId = `bench-engine-${process.pid}`;
  try {
    // ------------------------------------------------------------ the image, in a private registry
    const registry = (bench.registry = await startRegistry());
    const ref = await pushBusybox(dir, registry.host);
    const peers: Peer[] = [];

    // ------------------------------------------------------------ berthd (berth CLI and docker CLI)
    const bRoot = join(dir, 'berthd');
    let bHost = `unix://${join(bRoot, 'berth.sock')}`;
    let berthdErr: string | undefined;
    if (want('berth') || want('docker-berthd')) {
      try {
        bHost = (await startBerthd(bRoot, registry.host, children)).host;
        must('berth pull', BERTH, ['-H', bHost, 'pull', ref]);
        bench.whileUp(() => {
          // Any container left (a failed iteration) goes through the API before berthd stops.
          const ids = sh(BERTH, ['-H', bHost, 'ps', '-a', '-q']).stdout.trim().split('\n').filter(Boolean);
          if (ids.length) sh(BERTH, ['-H', bHost, 'rm', '-f', ...ids]);
        });
      } catch (e) {
        berthdErr = (e as Error).message;
      }
    }
    // berth's shebang unsets NODE_EXTRA_CA_CERTS for itself; the env is passed as it is.
    {
      const env = { ...process.env };
      const p: Peer = {
        name: 'berth',
        env,
        runTimes: [],
        execTimes: [],
        includes: 'bin/berth.js (Node start) → berthd: create, start, attach, wait, remove, --network none',
        run: [BERTH, '-H', bHost, 'run', '--rm', '--network', 'none', ref, 'true'],
        startSleeper: () => {
          must('berth run -d', BERTH, ['-H', bHost, 'run', '-d', '--name', `${runId}-b`, ref, 'sleep', '3600'], env);
          return [BERTH, '-H', bHost, 'rm', '-f', `${runId}-b`];
        },
      };
      p.exec = [BERTH, '-H', bHost, 'exec', `${runId}-b`, 'true'];
      if (!want('berth')) p.skip = 'not in BENCH_PEERS';
      else if (berthdErr) p.skip = `berthd: ${berthdErr}`;
      peers.push(p);
    }
    {
      const env = { ...process.env, DOCKER_HOST: bHost, DOCKER_CONFIG: join(dir, 'docker-cli-berthd') };
      const p: Peer = {
        name: 'docker-berthd',
        env,
        runTimes: [],
        execTimes: [],
        includes: 'docker CLI (Go) → berthd, --network none',
        run: [DOCKER, 'run', '--rm', '--network', 'none', ref, 'true'],
        startSleeper: () => {
          must('docker run -d (berthd)', DOCKER, ['run', '-d', '--network', 'none', '--name', `${runId}-db`, ref, 'sleep', '3600'], env);
          return [DOCKER, 'rm', '-f', `${runId}-db`];
        },
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
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DOCKER_CONFIG: join(root, 'cli'),
        DOCKER_HOST: `unix://${join(root, 'docker.sock')}`,
      };
      const p: Peer = {
        name: 'docker-dockerd',
        env,
        runTimes: [],
        execTimes: [],
        includes: 'docker CLI → dockerd → containerd → shim → runc, --network none',
        run: [DOCKER, 'run', '--rm', '--network', 'none', ref, 'true'],
        startSleeper: () => {
          must('docker run -d', DOCKER, ['run', '-d', '--network', 'none', '--name', `${runId}-dd`, ref, 'sleep', '3600'], env);
          return [DOCKER, 'rm', '-f', `${runId}-dd`];
        },
        exec: [DOCKER, 'exec', `${runId}-dd`, 'true'],
      };
      if (!want('docker-dockerd')) p.skip = 'not in BENCH_PEERS';
      else {
        try {
          Object.assign(env, (await startDockerd(root, registry.host, children)).env);
          must('docker pull', DOCKER, ['pull', '-q', ref], env);
          bench.whileUp(() => {
            const ids = sh(DOCKER, ['ps', '-a', '-q'], { env }).stdout.trim().split('\n').filter(Boolean);
            if (ids.length) sh(DOCKER, ['rm', '-f', ...ids], { env });
          });
          p.includes += ` [dockerd ${sh(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env }).stdout.trim()}, ${sh(DOCKER, ['info', '--format', '{{.Driver}}, {{.CgroupDriver}} cgroups v{{.CgroupVersion}}'], { env }).stdout.trim()}]`;
        } catch (e) {
          p.skip = `docker: ${(e as Error).message}`;
        }
      }
      peers.push(p);
    }

    // ------------------------------------------------------------ podman with its own roots and config
    {
      let pm: ReturnType<typeof podmanSetup> | undefined;
      let pmErr: string | undefined;
      try {
        if (want('podman')) pm = podmanSetup(join(dir, 'podman'), registry.host);
      } catch (e) {
        pmErr = (e as Error).message;
      }
      const env: NodeJS.ProcessEnv = pm?.env ?? { ...process.env };
      const pa = pm?.argv ?? ((...a: string[]) => ['podman', ...a]);
      const p: Peer = {
        name: 'podman',
        env,
        runTimes: [],
        execTimes: [],
        includes: 'podman → conmon → OCI runtime, --network none',
        run: pa('run', '--rm', '--network', 'none', ref, 'true'),
        startSleeper: () => {
          const a = pa('run', '-d', '--network', 'none', '--name', `${runId}-p`, ref, 'sleep', '3600');
          must('podman run -d', a[0], a.slice(1), env);
          return pa('rm', '-f', '-t', '0', `${runId}-p`);
        },
        exec: pa('exec', `${runId}-p`, 'true'),
      };
      if (!want('podman')) p.skip = 'not in BENCH_PEERS';
      else if (pmErr) p.skip = pmErr;
      else {
        const root = join(dir, 'podman');
        bench.whileUp(() => {
          const a = pa('rm', '-a', '-f', '-t', '0');
          sh(a[0], a.slice(1), { env });
          const b = pa('rmi', '-a', '-f');
          sh(b[0], b.slice(1), { env });
          unmountAll(root);
        });
        try {
          const a = pa('pull', '-q', '--tls-verify=false', ref);
          must('podman pull', a[0], a.slice(1), env);
          const i = pa('info', '--format', '{{.Host.OCIRuntime.Name}}, {{.Store.GraphDriverName}}, {{.Host.CgroupManager}}');
          p.includes += ` [${sh(i[0], i.slice(1), { env }).stdout.trim()}]`;
        } catch (e) {
          p.skip = `podman refuses this machine: ${(e as Error).message}`;
        }
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
        } catch (e) {
          p.skip = (e as Error).message;
        }
      }
      process.stderr.write(`run: iteration ${i + 1 - WARMUP}/${N}${i < WARMUP ? ' (warm-up)' : ''} done\n`);
    }

    // ------------------------------------------------------------ exec into a running `sleep`
    if (DO_EXEC) {
      const ready: Peer[] = [];
      for (const p of active()) {
        try {
          const rm = p.startSleeper!();
          bench.whileUp(() => {
            sh(rm[0], rm.slice(1), { env: p.env });
          });
          ready.push(p);
        } catch (e) {
          p.execSkip = (e as Error).message;
        }
      }
      for (let i = 0; i < WARMUP + N; i++) {
        for (const p of ready.filter((x) => !x.execSkip)) {
          try {
            const ms = timed(`${p.name} exec`, p.exec![0], p.exec!.slice(1), p.env);
            if (i >= WARMUP) p.execTimes.push(ms);
          } catch (e) {
            p.execSkip = (e as Error).message;
          }
        }
        process.stderr.write(`exec: iteration ${i + 1 - WARMUP}/${N}${i < WARMUP ? ' (warm-up)' : ''} done\n`);
      }
    }

    // ------------------------------------------------------------ report
    const ver = (cmd: string, args: string[]) => {
      const r = sh(cmd, args);
      return r.status === 0 ? r.stdout.trim().split('\n')[0] : '?';
    };
    const cas = process.env.NODE_EXTRA_CA_CERTS;
    console.log('');
    console.log(`engine bench: ${N} iterations (+${WARMUP} warm-up) of each command; peers take turns within each iteration`);
    console.log(
      `image: busybox (makeRootfs, one gzip layer) pushed to a private docker-registry on ${registry.host}, pulled into each engine before timing`,
    );
    console.log(
      `versions: node ${process.version}; docker CLI: ${ver(DOCKER, ['--version'])}; ${ver('dockerd', ['--version'])}; ${ver('podman', ['--version'])}`,
    );
    console.log(
      `NODE_EXTRA_CA_CERTS: ${cas ? `set (${cas}); bin/berth.js's shebang unsets it for the CLI; berthd was started with it` : 'not set'}`,
    );
    console.log(
      `machine: ${ver('nproc', [])} CPUs, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}, ${ver('uname', ['-r'])}`,
    );
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
        if (skip || !xs.length) {
          console.log(`${p.name.padEnd(16)}skipped: ${skip ?? 'no times'}`);
          continue;
        }
        const bx = base ? get(base) : [];
        const ratio = bx.length ? (percentile(xs, 0.5) / percentile(bx, 0.5)).toFixed(2) : '';
        console.log(
          `${p.name.padEnd(16)}${fmt(percentile(xs, 0.5))}${fmt(percentile(xs, 0.9))}${fmt(Math.min(...xs))}${ratio.padStart(10)}   ${what.startsWith('run') ? p.includes : ''}`,
        );
      }
    }
    console.log('');
    console.log("/dockerd: the peer's median over docker CLI → dockerd's median (below 1: faster than docker)");
  } finally {
    await bench.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
