// The cost of networking, side by side in one run, on one busybox image (made here, pushed to a
// private registry on 127.0.0.1, pulled into each engine):
//  1. `run --rm IMAGE true` on the engine's default network against `--network none`, peers
//     taking turns (and the two settings in alternating order): the berth CLI and the docker CLI
//     against a private berthd, the docker CLI against a private dockerd (on a containerd of its
//     own) whose default bridge is one this bench makes on a free private /24 (iptables on), and
//     podman (netavark) whose default network gets another free /24. The difference of the
//     medians is what the network adds.
//  2. A published port: per engine one busybox `httpd -f` serving a small file, published on
//     127.0.0.1:<free port>, loaded from the host with ab (ApacheBench, no keep-alive) through
//     the published port and directly at the container's own address; requests/s, median of 3.
// Traffic goes only to loopback and to the containers made here. Teardown: containers, daemons
// by PID (dockerd before its containerd), the registry, mounts, new empty cgroup folders, the
// bridges made here or by the daemons during the run, and every iptables rule and chain that
// appeared during the run naming them or the DOCKER/NETAVARK chains; the temp dir goes.
//
//   npm run build && npm run bench:network    (as root; BENCH_N=20 for more; default 10)
//   BENCH_REQUESTS=2000 BENCH_CONCURRENCY=8   (the load of one throughput run)
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { formatCidr, firstHost, hostRoutes, parseIp, pickSubnet, type Cidr } from '../src/network/subnet.js';
import { splitRule } from '../src/network/iptables.js';
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
  which,
} from './common.js';

const sh = (cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}) =>
  run(cmd, args, { timeout: 120_000, ...opts });

const N = Math.max(1, Number(process.env.BENCH_N ?? 10) || 10);
const WARMUP = 1;
const REQUESTS = Math.max(1, Number(process.env.BENCH_REQUESTS ?? 2000) || 2000);
const CONCURRENCY = Math.max(1, Number(process.env.BENCH_CONCURRENCY ?? 8) || 8);
const LOAD_RUNS = 3;
const BERTH = new URL('../../bin/berth.js', import.meta.url).pathname;
/** Rules and chains of these names that appear during the run are the daemons' (ours to remove). */
const DAEMON_CHAINS = /^(DOCKER|NETAVARK)/;
/** The httpd's document: 4 KiB. */
const HTTPD = "mkdir -p /www && head -c 4096 /dev/zero | tr '\\0' x > /www/index.html && exec httpd -f -p 80 -h /www";

function must(what: string, argv: string[], env: NodeJS.ProcessEnv): string {
  const r = sh(argv[0], argv.slice(1), { env });
  if (r.status !== 0)
    throw new Error(
      `${what}: exit ${r.status ?? r.signal}: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-2).join(' | ')}`,
    );
  return r.stdout;
}

function timed(what: string, argv: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0)
    throw new Error(
      `${what}: exit ${r.status ?? r.signal}: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-2).join(' | ')}`,
    );
  return ms;
}

/** A TCP port free on 127.0.0.1 now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A /24 under 10.213.0.0/16 that no host route (and none of `also`) overlaps. */
function freeSubnet(also: Cidr[] = []): Cidr {
  const pools: Cidr[] = [];
  for (let c = 0; c < 256; c++) pools.push({ addr: parseIp(`10.213.${c}.0`), bits: 24 });
  return pickSubnet([...hostRoutes(), ...also], pools);
}

/** ab's requests/s for REQUESTS GETs at CONCURRENCY (no keep-alive); throws on failed requests. */
function load(url: string): number {
  const r = sh('ab', ['-q', '-n', String(REQUESTS), '-c', String(CONCURRENCY), '-s', '10', url]);
  const rps = /Requests per second:\s+([\d.]+)/.exec(r.stdout)?.[1];
  const failed = Number(/Failed requests:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx responses:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0);
  if (r.status !== 0 || !rps)
    throw new Error(`ab ${url}: exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}`);
  if (failed || non2xx) throw new Error(`ab ${url}: ${failed} failed, ${non2xx} non-2xx of ${REQUESTS}`);
  return Number(rps);
}

/** Waits (10 s at most) until `url` answers 200 to one GET. */
async function answers(url: string): Promise<void> {
  for (let t = 0; t < 100; t++) {
    const out = sh('ab', ['-q', '-n', '1', '-s', '2', url]).stdout;
    if (/Complete requests:\s+1\b/.test(out) && /Failed requests:\s+0\b/.test(out) && !/Non-2xx/.test(out)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within 10 s`);
}

/** iptables-save of filter and nat, as `table line` strings. */
function iptablesLines(): Set<string> {
  const out = new Set<string>();
  for (const table of ['filter', 'nat']) {
    const r = sh('iptables-save', ['-t', table]);
    for (const line of r.stdout.split('\n'))
      if (line.startsWith('-A ') || line.startsWith(':')) out.add(`${table} ${line.replace(/ \[\d+:\d+\]$/, '')}`);
  }
  return out;
}

/**
 * Removes the rules and chains that appeared since `before` and are the bench's daemons': in a
 * DOCKER or NETAVARK chain, jumping to one, or naming one of `bridges` or `subnets`. Returns how many.
 */
function removeNewRules(before: Set<string>, bridges: string[], subnets: string[]): number {
  let n = 0;
  const fresh = [...iptablesLines()].filter((l) => !before.has(l));
  const ours = (args: string[]) =>
    DAEMON_CHAINS.test(args[1] ?? '') ||
    args.some((a, i) => (a === '-j' && DAEMON_CHAINS.test(args[i + 1] ?? '')) || bridges.includes(a) || subnets.includes(a));
  for (const l of fresh) {
    const [table, ...rest] = l.split(' ');
    if (!rest[0].startsWith('-A')) continue;
    const args = splitRule(rest.join(' '));
    if (ours(args) && sh('iptables', ['-w', '-t', table, '-D', ...args.slice(1)]).status === 0) n++;
  }
  for (const l of fresh) {
    const [table, chain] = l.split(' ');
    if (!chain.startsWith(':') || !DAEMON_CHAINS.test(chain.slice(1))) continue;
    sh('iptables', ['-w', '-t', table, '-F', chain.slice(1)]);
    if (sh('iptables', ['-w', '-t', table, '-X', chain.slice(1)]).status === 0) n++;
  }
  return n;
}

interface Peer {
  name: string;
  skip?: string;
  env: NodeJS.ProcessEnv;
  /** argv of a command, given the arguments after the engine's own. */
  cli: (...a: string[]) => string[];
  includes: string;
  net: number[];
  none: number[];
}

interface Server {
  engine: string;
  peer: Peer;
  port: number;
  ip?: string;
  viaPort: number[];
  direct: number[];
  skip?: string;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) console.log('note: not root; the engines need root');
  if (!which('ab')) throw new Error('ab is not installed (apt-get install apache2-utils)');
  const rulesBefore = iptablesLines();
  const forwardPolicy = /^-P FORWARD (\w+)/m.exec(sh('iptables', ['-w', '-S', 'FORWARD']).stdout)?.[1];
  const podman0Before = existsSync('/sys/class/net/podman0');
  const bench = new BenchRun('network');
  const dir = bench.dir;
  const children = bench.children;
  const runId = `bench-net-${process.pid}`;
  const dockerBridge = `bnb${process.pid % 1_000_000}`;
  const dockerNet = freeSubnet();
  const podmanNet = freeSubnet([dockerNet]);
  const bridges = [dockerBridge, ...(podman0Before ? [] : ['podman0'])];
  const subnets = [formatCidr(dockerNet), formatCidr(podmanNet)];
  // Once the daemons are down: their bridges, the rules they leave, FORWARD's policy as it was.
  bench.afterDown(() => {
    for (const b of bridges)
      if (existsSync(`/sys/class/net/${b}`)) {
        sh('ip', ['link', 'del', b]);
        if (!b.startsWith('bnb')) console.log(`cleanup: removed bridge ${b} left by its engine`);
      }
    const r = removeNewRules(rulesBefore, bridges, subnets);
    if (r) console.log(`cleanup: removed ${r} iptables rule(s)/chain(s) the daemons left`);
    if (forwardPolicy) sh('iptables', ['-w', '-P', 'FORWARD', forwardPolicy]);
  });
  try {
    const registry = (bench.registry = await startRegistry());
    const ref = await pushBusybox(dir, registry.host);
    const peers: Peer[] = [];
    const rmAll = (p: Peer, ps: string[], rm: string[]) => () => {
      const ids = sh(p.cli(...ps)[0], p.cli(...ps).slice(1), { env: p.env })
        .stdout.trim()
        .split('\n')
        .filter(Boolean);
      if (ids.length) sh(p.cli(...rm)[0], [...p.cli(...rm).slice(1), ...ids], { env: p.env });
    };

    // ------------------------------------------------------------ berthd (berth CLI and docker CLI)
    const bRoot = join(dir, 'berthd');
    let bHost = `unix://${join(bRoot, 'berth.sock')}`;
    let berthdErr: string | undefined;
    const berth: Peer = {
      name: 'berth',
      env: { ...process.env },
      cli: (...a) => [BERTH, '-H', bHost, ...a],
      includes: 'berth CLI → berthd',
      net: [],
      none: [],
    };
    const dockerBerthd: Peer = {
      name: 'docker-berthd',
      env: { ...process.env, DOCKER_CONFIG: join(dir, 'docker-cli-berthd') },
      cli: (...a) => [DOCKER, ...a],
      includes: 'docker CLI → berthd',
      net: [],
      none: [],
    };
    try {
      bHost = (await startBerthd(bRoot, registry.host, children)).host;
      dockerBerthd.env.DOCKER_HOST = bHost;
      mkdirSync(dockerBerthd.env.DOCKER_CONFIG!, { recursive: true });
      must('berth pull', berth.cli('pull', ref), berth.env);
      const [net] = JSON.parse(must('berth network inspect', berth.cli('network', 'inspect', 'bridge'), berth.env)) as {
        Options: Record<string, string>;
        IPAM: { Config: { Subnet: string }[] };
      }[];
      const [dev, subnet] = [net.Options['com.docker.network.bridge.name'], net.IPAM.Config[0].Subnet];
      bridges.push(dev);
      subnets.push(subnet);
      berth.includes += ` [bridge ${dev} ${subnet}]`;
      bench.whileUp(rmAll(berth, ['ps', '-a', '-q'], ['rm', '-f']));
    } catch (e) {
      berthdErr = (e as Error).message;
    }
    if (berthdErr) berth.skip = dockerBerthd.skip = `berthd: ${berthdErr}`;
    if (!existsSync(DOCKER)) dockerBerthd.skip = `${DOCKER} is not there`;
    peers.push(berth, dockerBerthd);

    // ------------------------------------------------------------ dockerd with a bridge of its own
    {
      const root = join(dir, 'docker');
      const p: Peer = {
        name: 'docker-dockerd',
        env: { ...process.env },
        cli: (...a) => [DOCKER, ...a],
        includes: 'docker CLI → dockerd → containerd → runc',
        net: [],
        none: [],
      };
      try {
        sh('ip', ['link', 'add', dockerBridge, 'type', 'bridge']);
        must('bridge address', ['ip', 'addr', 'add', `${firstHost(dockerNet)}/${dockerNet.bits}`, 'dev', dockerBridge], process.env);
        must('bridge up', ['ip', 'link', 'set', dockerBridge, 'up'], process.env);
        Object.assign(p.env, (await startDockerd(root, registry.host, children, dockerBridge)).env);
        must('docker pull', p.cli('pull', '-q', ref), p.env);
        bench.whileUp(rmAll(p, ['ps', '-a', '-q'], ['rm', '-f']));
        p.includes += ` [dockerd ${sh(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env: p.env }).stdout.trim()}, bridge ${dockerBridge} ${formatCidr(dockerNet)}, userland-proxy on (its default)]`;
      } catch (e) {
        p.skip = `docker: ${(e as Error).message}`;
      }
      peers.push(p);
    }

    // ------------------------------------------------------------ podman (netavark) with its own roots, config and subnet
    {
      let pm: ReturnType<typeof podmanSetup> | undefined;
      const p: Peer = {
        name: 'podman',
        env: { ...process.env },
        cli: (...a) => ['podman', ...a],
        includes: 'podman → conmon → OCI runtime',
        net: [],
        none: [],
      };
      try {
        pm = podmanSetup(join(dir, 'podman'), registry.host);
      } catch (e) {
        p.skip = (e as Error).message;
      }
      if (pm) {
        const root = join(dir, 'podman');
        appendFileSync(
          pm.env.CONTAINERS_CONF!,
          `\n[network]\nnetwork_config_dir = "${join(root, 'networks')}"\ndefault_subnet = "${formatCidr(podmanNet)}"\n`,
        );
        p.env = pm.env;
        p.cli = pm.argv;
        bench.whileUp(() => {
          for (const a of [pm!.argv('rm', '-a', '-f', '-t', '0'), pm!.argv('rmi', '-a', '-f')]) sh(a[0], a.slice(1), { env: p.env });
          unmountAll(root);
        });
        try {
          must('podman pull', p.cli('pull', '-q', '--tls-verify=false', ref), p.env);
          p.includes += ` [${sh(p.cli()[0], p.cli('info', '--format', '{{.Host.OCIRuntime.Name}}, {{.Host.NetworkBackend}}').slice(1), { env: p.env }).stdout.trim()}, podman0 ${formatCidr(podmanNet)}]`;
        } catch (e) {
          p.skip = `podman refuses this machine: ${(e as Error).message}`;
        }
      }
      peers.push(p);
    }

    // ------------------------------------------------------------ run --rm: default network vs none
    const active = () => peers.filter((p) => !p.skip);
    for (let i = 0; i < WARMUP + N; i++) {
      for (const p of active()) {
        const order = i % 2 ? (['none', 'net'] as const) : (['net', 'none'] as const);
        for (const mode of order) {
          try {
            const ms = timed(
              `${p.name} run (${mode})`,
              p.cli('run', '--rm', ...(mode === 'none' ? ['--network', 'none'] : []), ref, 'true'),
              p.env,
            );
            if (i >= WARMUP) p[mode].push(ms);
          } catch (e) {
            p.skip = (e as Error).message;
            break;
          }
        }
      }
      process.stderr.write(`run: iteration ${i + 1 - WARMUP}/${N}${i < WARMUP ? ' (warm-up)' : ''} done\n`);
    }

    // ------------------------------------------------------------ a published port under load
    const servers: Server[] = [];
    for (const [engine, peerName] of [
      ['berthd', 'berth'],
      ['dockerd', 'docker-dockerd'],
      ['podman', 'podman'],
    ] as const) {
      const peer = peers.find((p) => p.name === peerName)!;
      const s: Server = { engine, peer, port: await freePort(), viaPort: [], direct: [] };
      servers.push(s);
      if (peer.skip) {
        s.skip = peer.skip;
        continue;
      }
      try {
        must(
          `${engine} run -d httpd`,
          peer.cli('run', '-d', '--name', `${runId}-${engine}`, '-p', `127.0.0.1:${s.port}:80`, ref, 'sh', '-c', HTTPD),
          peer.env,
        );
        s.ip = must(
          `${engine} inspect`,
          peer.cli('inspect', '--format', '{{.NetworkSettings.IPAddress}}', `${runId}-${engine}`),
          peer.env,
        ).trim();
        await answers(`http://127.0.0.1:${s.port}/index.html`);
        await answers(`http://${s.ip}/index.html`);
      } catch (e) {
        s.skip = (e as Error).message;
      }
    }
    for (let i = 0; i < LOAD_RUNS; i++) {
      for (const s of servers.filter((x) => !x.skip)) {
        try {
          s.viaPort.push(load(`http://127.0.0.1:${s.port}/index.html`));
          s.direct.push(load(`http://${s.ip}/index.html`));
        } catch (e) {
          s.skip = (e as Error).message;
        }
      }
      process.stderr.write(`load: run ${i + 1}/${LOAD_RUNS} done\n`);
    }

    // ------------------------------------------------------------ report
    const ver = (cmd: string, args: string[]) => {
      const r = sh(cmd, args);
      return r.status === 0 ? r.stdout.trim().split('\n')[0] : '?';
    };
    const cas = process.env.NODE_EXTRA_CA_CERTS;
    console.log('');
    console.log(
      `network bench: ${N} iterations (+${WARMUP} warm-up) of each command; peers take turns, default network and none in alternating order`,
    );
    console.log(
      `versions: node ${process.version}; docker CLI: ${ver(DOCKER, ['--version'])}; ${ver('dockerd', ['--version'])}; ${ver('podman', ['--version'])}; ${ver('ab', ['-V'])}`,
    );
    console.log(
      `NODE_EXTRA_CA_CERTS: ${cas ? `set (${cas}); bin/berth.js's shebang unsets it for the CLI; berthd was started with it` : 'not set'}`,
    );
    console.log(
      `machine: ${ver('nproc', [])} CPUs, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}, ${ver('uname', ['-r'])}`,
    );
    const fmt = (x: number, w = 9) => x.toFixed(1).padStart(w);
    const med = (xs: number[]) => percentile(xs, 0.5);
    const base = peers.find((p) => p.name === 'docker-dockerd' && !p.skip && p.net.length);
    console.log('');
    console.log('run --rm IMAGE true (ms, medians)');
    console.log(
      `${'peer'.padEnd(16)}${'bridge'.padStart(9)}${'none'.padStart(9)}${'added'.padStart(9)}${'/dockerd'.padStart(10)}${'added/dockerd'.padStart(15)}`,
    );
    for (const p of peers) {
      if (p.skip || !p.net.length) {
        console.log(`${p.name.padEnd(16)}skipped: ${p.skip ?? 'no times'}`);
        continue;
      }
      const added = med(p.net) - med(p.none);
      const r = base ? (med(p.net) / med(base.net)).toFixed(2) : '';
      const ra = base ? (added / (med(base.net) - med(base.none))).toFixed(2) : '';
      console.log(
        `${p.name.padEnd(16)}${fmt(med(p.net))}${fmt(med(p.none))}${fmt(added)}${r.padStart(10)}${ra.padStart(15)}   ${p.includes}`,
      );
    }
    console.log(
      "added: bridge median − none median; /dockerd: the bridge median over docker → dockerd's; added/dockerd: the added cost over dockerd's",
    );
    console.log('');
    console.log(
      `published port: busybox httpd -f, a 4 KiB file; ab -n ${REQUESTS} -c ${CONCURRENCY} (no keep-alive) from the host; requests/s, median of ${LOAD_RUNS}`,
    );
    console.log(
      `${'engine'.padEnd(10)}${'127.0.0.1:port'.padStart(16)}${'container IP'.padStart(14)}${'port/IP'.padStart(9)}${'port/dockerd'.padStart(14)}`,
    );
    const bs = servers.find((s) => s.engine === 'dockerd' && !s.skip && s.viaPort.length);
    for (const s of servers) {
      if (s.skip || !s.viaPort.length) {
        console.log(`${s.engine.padEnd(10)}skipped: ${s.skip ?? 'no runs'}`);
        continue;
      }
      console.log(
        `${s.engine.padEnd(10)}${fmt(med(s.viaPort), 16)}${fmt(med(s.direct), 14)}${(med(s.viaPort) / med(s.direct)).toFixed(2).padStart(9)}${(bs ? (med(s.viaPort) / med(bs.viaPort)).toFixed(2) : '').padStart(14)}   (${s.ip})`,
      );
    }
  } finally {
    await bench.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
