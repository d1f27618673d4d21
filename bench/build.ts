// Build: one project of three stages (two independent ones the last copies from), a
// `RUN --mount=type=cache` and a context of 2,000 files, built cold (no build cache, the base
// image present), warm (nothing changed) and with one source file changed, in one run, by
// `berth build` → berthd, the docker 28 CLI's classic builder → berthd, and the same CLI →
// dockerd 20.10 (on its own containerd). dockerd's classic builder has no RUN --mount, so it
// builds the same Dockerfile with that step's cache directory as a plain directory of the step.
// Medians of BENCH_ROUNDS rounds (default 3) and each one's ratio to docker CLI → dockerd; for
// the changed file, which steps ran (the aim: only those after the COPY that reads it).
//
//   npm run build && npm run bench:build          BENCH_ROUNDS=N, BENCH_PEERS=berth,docker-berthd,docker-dockerd
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry } from '../test/helpers/registry.js';
import { BenchRun, DOCKER_CLI, percentile, pushBusybox, startBerthd, startDockerd } from './common.js';

const BERTH = new URL('../../bin/berth.cjs', import.meta.url).pathname;
const FILES = { src: 1800, assets: 190, deps: 10 };
const TAG = 'bench-build:1';

/** The Dockerfile; `cacheMount` false: the classic builder's form of the cache step. */
function dockerfile(base: string, cacheMount: boolean): string {
  const mount = cacheMount ? '--mount=type=cache,target=/cache ' : '';
  return `FROM ${base} AS deps
COPY deps/ /deps/
RUN ${mount}mkdir -p /cache && find /deps -type f -exec cat {} + > /cache/deps.txt && cp /cache/deps.txt /deps.out
FROM ${base} AS assets
COPY assets/ /assets/
RUN find /assets -type f | wc -l > /assets.count
FROM ${base}
COPY --from=deps /deps.out /app/deps.out
COPY --from=assets /assets.count /app/assets.count
COPY src/ /app/src/
RUN find /app/src -type f | xargs cat | wc -c > /app/size
CMD ["cat", "/app/size"]
`;
}
/** The step (of 12) whose COPY reads src/: with one file of src/ changed, it and the steps after it run. */
const COPY_SRC_STEP = 10;
const STEPS = 12;

function project(dir: string, base: string): void {
  for (const [sub, n] of Object.entries(FILES)) {
    for (let i = 0; i < n; i++) {
      const d = join(dir, sub, `d${i % 20}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, `f${i}.txt`), `${sub} file ${i}\n`.repeat(8));
    }
  }
  writeFileSync(join(dir, 'Dockerfile'), dockerfile(base, true));
  writeFileSync(join(dir, 'Dockerfile.classic'), dockerfile(base, false));
}

interface Peer {
  name: string;
  /** Builds the project; its stdout. */
  build: () => string;
  /** Empties the build cache and removes the image, so the next build is cold. */
  cold: () => void;
  /** The steps a build's output says ran (not taken from the cache), when its output says so. */
  ran?: (out: string) => number[];
}

function cli(bin: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): string {
  const r = spawnSync(bin, args, { env, cwd, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')}: exit ${r.status}: ${r.stderr}${r.stdout.slice(-2000)}`);
  return r.stdout;
}

/** The classic builder's output (and berth's, off a terminal): `Step N/M : …`, then ` ---> Using cache` for a hit. */
function classicRan(out: string): number[] {
  const ran: number[] = [];
  for (const part of out.split(/^Step /m).slice(1)) {
    const m = /^(\d+)\/\d+ : (.*)/.exec(part);
    if (m && !m[2].startsWith('FROM ') && !part.includes(' ---> Using cache')) ran.push(Number(m[1]));
  }
  return ran;
}

function timed(fn: () => string): { s: number; out: string } {
  const t = process.hrtime.bigint();
  const out = fn();
  return { s: Number(process.hrtime.bigint() - t) / 1e9, out };
}

async function main(): Promise<void> {
  const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3) || 3);
  const only = process.env.BENCH_PEERS?.split(',').map((s) => s.trim());
  const want = (n: string) => !only || only.includes(n);
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const bench = new BenchRun('build');
  const dir = bench.dir;
  try {
    const registry = (bench.registry = await startRegistry());
    const base = await pushBusybox(dir, registry.host);
    const proj = join(dir, 'project');
    project(proj, base);
    const peers: Peer[] = [];
    const classic = (env: NodeJS.ProcessEnv, file: string): Peer => ({
      name: '',
      build: () => cli(DOCKER_CLI, ['build', '-f', join(proj, file), '-t', TAG, proj], env),
      cold: () => {
        spawnSync(DOCKER_CLI, ['rmi', '-f', TAG], { env });
        cli(DOCKER_CLI, ['image', 'prune', '-f'], env);
        cli(DOCKER_CLI, ['builder', 'prune', '-af'], env);
      },
      ran: classicRan,
    });
    if (want('berth') || want('docker-berthd')) {
      const b = await startBerthd(join(dir, 'berthd'), registry.host, bench.children);
      const env = { ...process.env, BERTH_HOST: b.host, DOCKER_HOST: b.host, DOCKER_CONFIG: join(dir, 'cli-berthd'), DOCKER_BUILDKIT: '0' };
      mkdirSync(env.DOCKER_CONFIG, { recursive: true });
      cli(DOCKER_CLI, ['pull', '-q', base], env);
      if (want('berth')) {
        peers.push({
          name: 'berth build → berthd',
          build: () => cli(BERTH, ['build', '-t', TAG, proj], env),
          cold: classic(env, 'Dockerfile').cold,
          ran: classicRan,
        });
      }
      if (want('docker-berthd')) peers.push({ ...classic(env, 'Dockerfile'), name: 'docker CLI → berthd' });
    }
    if (want('docker-dockerd')) {
      const d = await startDockerd(join(dir, 'docker'), registry.host, bench.children);
      const env = { ...d.env, DOCKER_BUILDKIT: '0' };
      cli(DOCKER_CLI, ['pull', '-q', base], env);
      peers.push({ ...classic(env, 'Dockerfile.classic'), name: 'docker CLI → dockerd 20.10' });
    }
    const times = new Map(peers.map((p) => [p.name, { cold: [] as number[], warm: [] as number[], changed: [] as number[] }]));
    const changedRan = new Map<string, number[][]>();
    let edit = 0;
    for (let r = 0; r < rounds; r++) {
      for (const p of peers) {
        const t = times.get(p.name)!;
        p.cold();
        const cold = timed(p.build);
        if (p.ran && p.ran(cold.out).length !== STEPS - 3) console.log(`  note: ${p.name}'s cold build took steps from a cache`);
        t.cold.push(cold.s);
        t.warm.push(timed(p.build).s);
        // One file of src/ changed: its content, so every peer's cache sees a new file.
        writeFileSync(join(proj, 'src', 'd7', 'f7.txt'), `edited ${++edit}\n`);
        const changed = timed(p.build);
        t.changed.push(changed.s);
        if (p.ran) changedRan.set(p.name, [...(changedRan.get(p.name) ?? []), p.ran(changed.out)]);
      }
    }
    const base0 = times.get('docker CLI → dockerd 20.10');
    console.log(
      `build: 3 stages, a RUN --mount=type=cache (a plain directory for dockerd), ${FILES.src + FILES.assets + FILES.deps} files of context; ` +
        `${rounds} rounds, medians in seconds (load before: ${loadBefore})`,
    );
    for (const [name, t] of times) {
      const cell = (k: 'cold' | 'warm' | 'changed') => {
        const m = percentile(t[k], 0.5);
        return `${k} ${m.toFixed(2)}${base0 ? ` (${(m / percentile(base0[k], 0.5)).toFixed(2)}×)` : ''}`;
      };
      console.log(`  ${name.padEnd(28)} ${cell('cold')}   ${cell('warm')}   ${cell('changed')}`);
    }
    const want0 = Array.from({ length: STEPS - COPY_SRC_STEP + 1 }, (_, i) => COPY_SRC_STEP + i);
    for (const [name, ran] of changedRan) {
      const ok = ran.every((x) => JSON.stringify(x) === JSON.stringify(want0));
      console.log(
        `  one changed file, ${name}: steps run ${JSON.stringify(ran[0])}${ok ? ` (only COPY src/ and after: yes)` : ' — NOT only those after the COPY'}`,
      );
    }
    console.log('  ratios are to docker CLI → dockerd 20.10; the aims: cold below 1.00×, warm at 0.50× or less');
  } finally {
    await bench.cleanup();
  }
}

await main();
