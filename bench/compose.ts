// Compose: `up -d` and `down` of one 10-service file (busybox waiting on a shell's trap, on the
// project's default network), timed end to end as a user runs them, in one run: berth compose →
// berthd, docker-compose 1.29 → berthd, docker-compose 1.29 → dockerd (on its own containerd).
// Medians of BENCH_ROUNDS rounds (default 5) and each one's ratio to docker-compose → dockerd;
// issue 14's aim is berth compose's `up -d` at a third of that or less.
//
//   npm run build && npm run bench:compose       BENCH_ROUNDS=N, BENCH_PEERS=berth,compose-berthd,compose-dockerd
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry } from '../test/helpers/registry.js';
import { BenchRun, percentile, pushBusybox, startBerthd, startDockerd } from './common.js';

const BERTH = new URL('../../bin/berth.cjs', import.meta.url).pathname;
const COMPOSE = '/usr/bin/docker-compose';
const SERVICES = 10;

function composeFile(image: string): string {
  const svc = (i: number) => `  s${i}:\n    image: ${image}\n    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 86400 & wait"]\n`;
  return `services:\n${Array.from({ length: SERVICES }, (_, i) => svc(i + 1)).join('')}`;
}

interface Peer {
  name: string;
  run: (args: string[]) => void;
}

/** Seconds the command took; it must succeed. */
function timed(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function cli(bin: string, pre: string[], dir: string, env: NodeJS.ProcessEnv): Peer['run'] {
  return (args) => {
    const r = spawnSync(bin, [...pre, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`${bin} ${[...pre, ...args].join(' ')}: ${r.stderr}`);
  };
}

async function main(): Promise<void> {
  const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5) || 5);
  const only = process.env.BENCH_PEERS?.split(',').map((s) => s.trim());
  const want = (n: string) => !only || only.includes(n);
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const bench = new BenchRun('compose');
  const dir = bench.dir;
  try {
    const registry = (bench.registry = await startRegistry());
    const ref = await pushBusybox(dir, registry.host);
    const project = join(dir, 'bench10');
    mkdirSync(project);
    writeFileSync(join(project, 'compose.yaml'), composeFile(ref));
    const peers: Peer[] = [];
    if (want('berth') || want('compose-berthd')) {
      const b = await startBerthd(join(dir, 'berthd'), registry.host, bench.children);
      const env = { ...process.env, BERTH_HOST: b.host, DOCKER_HOST: b.host };
      if (want('berth')) peers.push({ name: 'berth compose → berthd', run: cli(BERTH, ['compose'], project, env) });
      if (want('compose-berthd') && existsSync(COMPOSE)) {
        peers.push({ name: 'docker-compose 1.29 → berthd', run: cli(COMPOSE, ['-f', 'compose.yaml'], project, env) });
      }
    }
    if (want('compose-dockerd') && existsSync(COMPOSE)) {
      const d = await startDockerd(join(dir, 'docker'), registry.host, bench.children);
      peers.push({ name: 'docker-compose 1.29 → dockerd', run: cli(COMPOSE, ['-f', 'compose.yaml'], project, d.env) });
    }
    const times = new Map(peers.map((p) => [p.name, { up: [] as number[], down: [] as number[] }]));
    // The image is pulled once per engine before timing; each round brings the project up and down.
    for (const p of peers) {
      p.run(['pull', '-q']);
      bench.whileUp(() => p.run(['down', '-v']));
    }
    for (let r = 0; r < rounds; r++) {
      for (const p of peers) {
        times.get(p.name)!.up.push(timed(() => p.run(['up', '-d'])));
        times.get(p.name)!.down.push(timed(() => p.run(['down'])));
      }
    }
    const base = times.get('docker-compose 1.29 → dockerd');
    console.log(`compose: up -d and down of ${SERVICES} services, ${rounds} rounds, medians in seconds (load before: ${loadBefore})`);
    for (const [name, t] of times) {
      const up = percentile(t.up, 0.5);
      const down = percentile(t.down, 0.5);
      const ratio = (x: number, b?: number[]) => (b ? ` (${(x / percentile(b, 0.5)).toFixed(2)}×)` : '');
      console.log(`  ${name.padEnd(32)} up -d ${up.toFixed(2)}${ratio(up, base?.up)}   down ${down.toFixed(2)}${ratio(down, base?.down)}`);
    }
    console.log('  ratios are to docker-compose 1.29 → dockerd; the aim: berth compose up -d at 0.33× or less');
  } finally {
    await bench.cleanup();
  }
}

await main();
