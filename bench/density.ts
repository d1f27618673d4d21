// Density and memory: N idle busybox containers (`sleep 86400`) per engine, started four at a
// time, engines in turn: berthd and dockerd (on a containerd of its own) through the Docker
// Engine API from this process (create + start, `NetworkMode: none`, as `docker run -d
// --network none` asks), podman through its CLI (`podman run -d --network none`: it has no
// daemon). Timed: from the first create to the last start returning (every container running).
// Then the engine's own memory, from /proc/PID/smaps_rollup: the daemons' RSS and PSS (berthd;
// dockerd + containerd), and the PSS of each per-container process (berth's monitors,
// containerd-shims, conmons), idle (before any container) and with the N containers. The
// containers' own processes are not counted. Every container is removed before the next
// engine's turn; at the end the daemons and the registry are stopped by PID, mounts under the
// temp dir unmounted, new empty cgroup folders removed, the temp dir goes.
// For berthd it also prints the CPU a start costs: berthd's event-loop thread, berthd with its
// threads and reaped children, berthd's cgroup (it is moved into a cpuacct cgroup of the
// bench's own, which its monitors and berth-nsexec inherit), the containers' own cgroups, this
// process (the API client), and the whole machine (/proc/stat: other work on it included).
//
//   npm run build && npm run bench:density    (as root; BENCH_N containers per engine, default 200)
//   npm run bench:memory                      (the same with BENCH_N default 100)
//   BENCH_PEERS=berth,docker,podman           (only these)
//   BENCH_CLIENT=cli                          (berthd and dockerd through the docker CLI, `docker run -d`, instead of the API)
//   BENCH_BERTHD=/other/checkout/bin/berthd.js (another build of berthd, to set a change beside its base)
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { startRegistry } from '../test/helpers/registry.js';
import {
  BenchRun,
  DOCKER_CLI,
  memoryOf,
  pidsWhere,
  podmanSetup,
  pushBusybox,
  sh,
  startBerthd,
  startDockerd,
  unmountAll,
} from './common.js';

const PARALLEL = 4;

/** One API call over a unix socket: status and parsed JSON body (if any). */
function api(socket: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        agent: false,
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: any;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode!, json });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function must(p: Promise<{ status: number; json: any }>, what: string): Promise<any> {
  const r = await p;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

function cmd(argv: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(argv[0], argv.slice(1), { env, maxBuffer: 16 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${argv.slice(0, 3).join(' ')}: ${(stderr || err.message).trim().split('\n').pop()}`));
      else resolve(stdout);
    });
  });
}

/** Runs `job(i)` for i in 0..n-1, `PARALLEL` at a time. */
async function pool(n: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < n) await job(next++);
    }),
  );
}

interface Memory {
  daemons: { name: string; rss: number; pss: number }[];
  perContainer: { n: number; pss: number };
}

interface Engine {
  name: string;
  includes: string;
  skip?: string;
  /** Starts container i (detached, `sleep 86400`); resolves once it runs. */
  start(i: number): Promise<void>;
  /** Removes every container the bench made. */
  removeAll(): Promise<void>;
  daemonPids(): { name: string; pid: number }[];
  /** Per-container engine processes: monitors, shims, conmons. */
  perContainerPids(): number[];
  idle?: Memory;
  loaded?: Memory;
  seconds?: number;
  /** berthd's: what the CPU figures need, and the start's CPU per container once run. */
  cpu?: { pid: number; group?: string; ids: string[] };
  cpuPer?: CpuPer;
}

// ---------------------------------------------------------------- the CPU of a start (berthd)

const TICK_MS = 10; // USER_HZ
/** The cpuacct hierarchy (v1) or the unified one (v2), where a cgroup's CPU time is read. */
const CPUACCT = existsSync('/sys/fs/cgroup/cpuacct/cpuacct.usage')
  ? '/sys/fs/cgroup/cpuacct'
  : existsSync('/sys/fs/cgroup/cgroup.controllers')
    ? '/sys/fs/cgroup'
    : undefined;

/** ms of CPU used by a cgroup (`rel` below the hierarchy's root); undefined when there is none. */
function cgroupCpuMs(rel: string): number | undefined {
  if (!CPUACCT) return undefined;
  try {
    if (CPUACCT.endsWith('/cpuacct')) return Number(readFileSync(join(CPUACCT, rel, 'cpuacct.usage'), 'utf8')) / 1e6;
    return Number(/^usage_usec (\d+)$/m.exec(readFileSync(join(CPUACCT, rel, 'cpu.stat'), 'utf8'))?.[1]) / 1e3;
  } catch {
    return undefined;
  }
}

/** A cgroup of the bench's own holding berthd, so that its monitors and berth-nsexec count with it; undefined without cpuacct. */
function groupBerthd(pid: number): string | undefined {
  if (!CPUACCT) return undefined;
  const rel = `berth-bench-density-${process.pid}`;
  mkdirSync(join(CPUACCT, rel));
  writeFileSync(join(CPUACCT, rel, 'cgroup.procs'), String(pid));
  return rel;
}

interface CpuSample {
  loop: number;
  berthd: number;
  engine?: number;
  client: number;
  machine: number;
}
type CpuPer = CpuSample & { containers?: number; load: string };

/** CPU ms so far: berthd's loop thread; berthd with its threads and reaped children; its cgroup; this process; every CPU but idle. */
function sampleCpu(cpu: NonNullable<Engine['cpu']>): CpuSample {
  const f = readFileSync(`/proc/${cpu.pid}/stat`, 'utf8').split(') ')[1].split(' ').map(Number);
  // user nice system idle iowait irq softirq steal (guest time is inside user already)
  const all = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const u = process.cpuUsage();
  return {
    loop: Number(readFileSync(`/proc/${cpu.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6,
    // utime, stime, cutime, cstime: the 14th to 17th fields of the line, the 12th to 15th after the command
    berthd: (f[11] + f[12] + f[13] + f[14]) * TICK_MS,
    engine: cpu.group ? cgroupCpuMs(cpu.group) : undefined,
    client: (u.user + u.system) / 1000,
    machine: (all.reduce((a, b) => a + b, 0) - all[3] - all[4]) * TICK_MS,
  };
}

/** Per container started: the difference of two samples over `n`, and the containers' own cgroups (berthd's default parent). */
function cpuPer(a: CpuSample, b: CpuSample, cpu: NonNullable<Engine['cpu']>, n: number): CpuPer {
  const d = (k: 'loop' | 'berthd' | 'client' | 'machine') => (b[k] - a[k]) / n;
  const ctrs = cpu.ids.map((id) => cgroupCpuMs(`berth/${id}`));
  return {
    loop: d('loop'),
    berthd: d('berthd'),
    engine: a.engine !== undefined && b.engine !== undefined ? (b.engine - a.engine) / n : undefined,
    containers: ctrs.every((x) => x !== undefined) ? ctrs.reduce((x, y) => x! + y!, 0)! / n : undefined,
    client: d('client'),
    machine: d('machine'),
    load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
}

function measure(e: Engine): Memory {
  const daemons = e.daemonPids().map(({ name, pid }) => ({ name, ...(memoryOf(pid) ?? { rss: 0, pss: 0 }) }));
  const pids = e.perContainerPids();
  return { daemons, perContainer: { n: pids.length, pss: pids.reduce((a, p) => a + (memoryOf(p)?.pss ?? 0), 0) } };
}

/** An engine served over the Docker API at `socket` (berthd, dockerd): create + start, or the docker CLI with BENCH_CLIENT=cli. */
function apiEngine(
  socket: string,
  ref: string,
  runId: string,
  env: NodeJS.ProcessEnv,
  ids: string[] = [],
): Pick<Engine, 'start' | 'removeAll'> {
  const viaCli = process.env.BENCH_CLIENT === 'cli';
  return {
    async start(i) {
      const name = `${runId}-${i}`;
      if (viaCli) {
        ids.push((await cmd([DOCKER_CLI, 'run', '-d', '--network', 'none', '--name', name, ref, 'sleep', '86400'], env)).trim());
        return;
      }
      const c = await must(
        api(socket, 'POST', `/containers/create?name=${name}`, {
          Image: ref,
          Cmd: ['sleep', '86400'],
          HostConfig: { NetworkMode: 'none' },
        }),
        'create',
      );
      ids.push(c.Id);
      await must(api(socket, 'POST', `/containers/${c.Id}/start`), 'start');
    },
    async removeAll() {
      const list: { Id: string; Names: string[] }[] = await must(api(socket, 'GET', '/containers/json?all=1'), 'list');
      const ours = list.filter((c) => c.Names.some((n) => n.startsWith(`/${runId}-`)));
      await pool(ours.length, async (i) => {
        await api(socket, 'DELETE', `/containers/${ours[i].Id}?force=1`);
      });
    },
  };
}

const mb = (kb: number) => (kb / 1024).toFixed(1);

export async function densityBench(defaultN: number, title: string): Promise<void> {
  const N = Math.max(1, Number(process.env.BENCH_N ?? defaultN) || defaultN);
  if (process.getuid?.() !== 0) console.log('note: not root; the engines need root');
  const only = process.env.BENCH_PEERS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const want = (n: string) => !only || only.includes(n);
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const bench = new BenchRun('density');
  const dir = bench.dir;
  const children = bench.children;
  const runId = `bench-density-${process.pid}`;
  const engines: Engine[] = [];
  // Containers go through their engines while these still run.
  bench.whileUp(async () => {
    for (const e of engines) if (!e.skip) await e.removeAll().catch((err) => console.log(`cleanup ${e.name}: ${(err as Error).message}`));
  });
  try {
    const registry = (bench.registry = await startRegistry());
    const ref = await pushBusybox(dir, registry.host);

    if (want('berth')) {
      const root = join(dir, 'berthd');
      let b: Awaited<ReturnType<typeof startBerthd>> | undefined;
      let skip: string | undefined;
      try {
        b = await startBerthd(root, registry.host, children);
        await must(api(b.sock, 'POST', `/images/create?fromImage=${encodeURIComponent(ref)}`), 'pull');
      } catch (e) {
        skip = `berthd: ${(e as Error).message}`;
      }
      const env = { ...process.env, DOCKER_HOST: `unix://${join(root, 'berth.sock')}`, DOCKER_CONFIG: join(root, 'cli') };
      const cpu = b && { pid: b.pid, group: groupBerthd(b.pid), ids: [] as string[] };
      // (Empty once berthd and its monitors are gone.)
      if (cpu?.group) bench.afterDown(() => rmdirSync(join(CPUACCT!, cpu.group!)));
      engines.push({
        name: 'berth',
        skip,
        cpu,
        includes:
          process.env.BENCH_CLIENT === 'cli'
            ? 'docker CLI → berthd → a monitor per container'
            : 'API create+start → berthd → a monitor per container',
        ...apiEngine(join(root, 'berth.sock'), ref, runId, env, cpu?.ids),
        daemonPids: () => (b ? [{ name: 'berthd', pid: b.pid }] : []),
        perContainerPids: () => pidsWhere((c) => c.includes(' monitor --log ') && c.includes(root)),
      });
    }
    if (want('docker')) {
      const root = join(dir, 'docker');
      let d: Awaited<ReturnType<typeof startDockerd>> | undefined;
      let skip: string | undefined;
      try {
        d = await startDockerd(root, registry.host, children);
        await must(api(d.sock, 'POST', `/images/create?fromImage=${encodeURIComponent(ref)}`), 'pull');
      } catch (e) {
        skip = `docker: ${(e as Error).message}`;
      }
      const cdSock = d?.containerdSock ?? '';
      engines.push({
        name: 'docker',
        skip,
        includes: `${process.env.BENCH_CLIENT === 'cli' ? 'docker CLI' : 'API create+start'} → dockerd ${sh('dockerd', ['--version'])
          .stdout.trim()
          .replace(/^Docker version /, '')} → containerd → a containerd-shim-runc-v2 per container → runc`,
        ...apiEngine(join(root, 'docker.sock'), ref, runId, d?.env ?? process.env),
        daemonPids: () =>
          d
            ? [
                { name: 'dockerd', pid: d.dockerdPid },
                { name: 'containerd', pid: d.containerdPid },
              ]
            : [],
        perContainerPids: () => pidsWhere((c) => /containerd-shim/.test(c.split(' ')[0]) && c.includes(cdSock)),
      });
    }
    if (want('podman')) {
      let skip: string | undefined;
      let pm: ReturnType<typeof podmanSetup> | undefined;
      try {
        pm = podmanSetup(join(dir, 'podman'), registry.host);
        await cmd(pm.argv('pull', '-q', '--tls-verify=false', ref), pm.env);
      } catch (e) {
        skip = `podman: ${(e as Error).message}`;
      }
      engines.push({
        name: 'podman',
        skip,
        includes: `podman CLI (${sh('podman', ['--version']).stdout.trim()}) → a conmon per container → runc; no daemon`,
        async start(i) {
          await cmd(pm!.argv('run', '-d', '--network', 'none', '--name', `${runId}-${i}`, ref, 'sleep', '86400'), pm!.env);
        },
        async removeAll() {
          await cmd(pm!.argv('rm', '-a', '-f', '-t', '0'), pm!.env);
          unmountAll(join(dir, 'podman'));
        },
        daemonPids: () => [],
        perContainerPids: () => pidsWhere((c) => /(^|\/)conmon$/.test(c.split(' ')[0]) && c.includes(pm!.runroot)),
      });
    }

    for (const e of engines.filter((x) => !x.skip)) {
      await new Promise((r) => setTimeout(r, 2000)); // the pull and the last engine's removals settle
      e.idle = measure(e);
      const cpu0 = e.cpu && sampleCpu(e.cpu);
      const t0 = process.hrtime.bigint();
      let done = 0;
      try {
        await pool(N, async (i) => {
          await e.start(i);
          if (++done % 100 === 0) process.stderr.write(`${e.name}: ${done}/${N} running\n`);
        });
        e.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        if (e.cpu && cpu0) e.cpuPer = cpuPer(cpu0, sampleCpu(e.cpu), e.cpu, N);
        await new Promise((r) => setTimeout(r, 2000));
        e.loaded = measure(e);
      } catch (err) {
        e.skip = `after ${done} containers: ${(err as Error).message}`;
      }
      process.stderr.write(`${e.name}: removing\n`);
      await e.removeAll().catch((err) => {
        e.skip ??= `remove: ${(err as Error).message}`;
      });
    }

    const cas = process.env.NODE_EXTRA_CA_CERTS;
    console.log('');
    console.log(
      `${title}: ${N} idle containers (busybox sleep 86400, --network none) per engine, ${PARALLEL} started at a time; engines in turn`,
    );
    console.log(
      `machine: ${sh('nproc', []).stdout.trim()} CPUs, load average ${loadBefore} before the run and ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} after, kernel ${sh('uname', ['-r']).stdout.trim()}, node ${process.version}`,
    );
    console.log(`NODE_EXTRA_CA_CERTS: ${cas ? 'set; berthd was started with it' : 'not set'}`);
    console.log('');
    console.log(
      `${'engine'.padEnd(8)}${'all running s'.padStart(14)}${'per s'.padStart(8)}${'idle MB'.padStart(9)}${'daemons MB'.padStart(12)}${'per-ctr MB'.padStart(12)}${'per-ctr kB'.padStart(12)}${'engine MB'.padStart(11)}   (PSS)`,
    );
    for (const e of engines) {
      if (e.skip || !e.loaded || !e.idle) {
        console.log(`${e.name.padEnd(8)}skipped: ${e.skip ?? 'no figures'}`);
        continue;
      }
      const idle = e.idle.daemons.reduce((a, d) => a + d.pss, 0) + e.idle.perContainer.pss;
      const daemons = e.loaded.daemons.reduce((a, d) => a + d.pss, 0);
      const per = e.loaded.perContainer;
      console.log(
        `${e.name.padEnd(8)}${e.seconds!.toFixed(1).padStart(14)}${(N / e.seconds!).toFixed(1).padStart(8)}${mb(idle).padStart(9)}${mb(daemons).padStart(12)}` +
          `${mb(per.pss).padStart(12)}${(per.n ? per.pss / per.n : 0).toFixed(0).padStart(12)}${mb(daemons + per.pss).padStart(11)}   ${e.includes}`,
      );
    }
    console.log('');
    for (const e of engines.filter((x) => x.loaded)) {
      const d = (m: Memory) => m.daemons.map((x) => `${x.name} RSS ${mb(x.rss)} PSS ${mb(x.pss)}`).join(', ');
      console.log(
        `${e.name}: idle ${d(e.idle!) || 'no daemon'}; with ${N}: ${d(e.loaded!) || 'no daemon'}; ${e.loaded!.perContainer.n} per-container processes`,
      );
    }
    for (const e of engines.filter((x) => x.cpuPer)) {
      const c = e.cpuPer!;
      const ms = (x: number | undefined) => (x === undefined ? 'n/a' : `${x.toFixed(1)} ms`);
      console.log(
        `${e.name}: CPU per container started: berthd's loop thread ${ms(c.loop)}, berthd with threads and reaped children ${ms(c.berthd)}, ` +
          `berthd's cgroup (with the monitors and berth-nsexec) ${ms(c.engine)}, the containers' cgroups ${ms(c.containers)}, ` +
          `this bench (API client) ${ms(c.client)}; the whole machine ${ms(c.machine)} (all its work, load ${c.load} at the end)`,
      );
    }
    console.log(
      'idle MB: the daemons before any container; daemons MB: with the containers; per-ctr: monitors / shims / conmons (sum, and each); engine MB = daemons + per-ctr',
    );
  } finally {
    await bench.cleanup();
  }
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  densityBench(200, 'density').catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
