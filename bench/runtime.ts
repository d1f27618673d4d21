// berth-runtime against runc and crun on one busybox bundle: `run` of /bin/true, and `create`,
// `start`, `delete` timed apart; then the light verbs on a container that sleeps (`state`, `ps`
// in both formats, `pause`, `resume`, `kill`) and `delete --force` of a running one. Each
// executable runs as a user runs it (berth-runtime through its native front,
// native/build/berth-runtime, or BENCH_BERTH), with its own --root in a temp dir that goes at the end.
// A peer that is missing or refuses this machine is skipped, with its reason.
//
//   npm run build && npm run bench          (BENCH_N=50 for more iterations; default 20)
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSpec } from '../src/runtime/spec-template.js';
import { makeRootfs } from '../test/helpers/bundle.js';
import { percentile } from './common.js';

interface Peer {
  name: string;
  bin: string;
  root: string;
  skip?: string;
}
const OPS = ['run', 'create', 'start', 'delete', 'state', 'ps', 'ps json', 'pause', 'resume', 'kill', 'delete -f'] as const;
type Op = (typeof OPS)[number];

const N = Math.max(1, Number(process.env.BENCH_N ?? 20) || 20);
const WARMUP = 2;
const BERTH = realpathSync(process.env.BENCH_BERTH ?? new URL('../../native/build/berth-runtime', import.meta.url).pathname);

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Runs the peer with its --root; returns ms and the result. */
function call(p: Peer, args: string[]): { ms: number; status: number | null; err: string } {
  // Output to a file, not a pipe: after `create` the container's process holds its stdio,
  // and a pipe would keep us waiting until it exits.
  const errFile = join(p.root + '.err');
  const fd = openSync(errFile, 'w');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(p.bin, ['--root', p.root, ...args], { stdio: ['ignore', 'ignore', fd], timeout: 30000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  closeSync(fd);
  return { ms, status: r.status, err: (readFileSync(errFile, 'utf8') || r.error?.message || '').trim() };
}

function must(p: Peer, args: string[]): number {
  const r = call(p, args);
  if (r.status !== 0) throw new Error(`${p.name} ${args[0]}: exit ${r.status}: ${r.err.split('\n')[0]}`);
  return r.ms;
}

function waitStopped(p: Peer, id: string): void {
  for (let i = 0; i < 500; i++) {
    const r = spawnSync(p.bin, ['--root', p.root, 'state', id], { encoding: 'utf8' });
    try {
      if (JSON.parse(r.stdout).status === 'stopped') return;
    } catch {
      /* not yet */
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
  }
  throw new Error(`${p.name}: ${id} did not stop`);
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const peers: Peer[] = [];
  let seq = 0;
  const newId = () => `bench-${process.pid}-${seq++}`;
  const live = new Map<Peer, Set<string>>();
  const cleanup = () => {
    for (const [p, ids] of live) for (const id of ids) call(p, ['delete', '--force', id]);
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    makeRootfs(join(dir, 'rootfs'));
    const spec = defaultSpec();
    spec.process!.terminal = false;
    spec.process!.args = ['/bin/true'];
    spec.ociVersion = '1.0.2'; // what all three accept (crun 1.8 refuses 1.2.0)
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
    // A second bundle on the same root file system, whose process sleeps: the light verbs' target.
    const long = join(dir, 'long');
    mkdirSync(long);
    spec.process!.args = ['sleep', '1000'];
    spec.root = { path: join(dir, 'rootfs'), readonly: true };
    writeFileSync(join(long, 'config.json'), JSON.stringify(spec, null, 2));

    for (const [name, bin] of [
      ['berth', BERTH],
      ['runc', which('runc')],
      ['crun', which('crun')],
    ] as const) {
      const p: Peer = { name, bin: bin ?? name, root: join(dir, `state-${name}`) };
      live.set(p, new Set());
      peers.push(p);
      if (!bin) {
        p.skip = `${name} is not installed`;
        continue;
      }
      // One run to see that it works on this machine at all.
      const r = call(p, ['run', '--bundle', dir, newId()]);
      if (r.status !== 0) p.skip = `${name} refuses this machine: ${r.err.split('\n').pop()}`;
    }

    const times = new Map<Peer, Record<Op, number[]>>();
    for (const p of peers) times.set(p, Object.fromEntries(OPS.map((o) => [o, []])) as unknown as Record<Op, number[]>);
    const active = peers.filter((p) => !p.skip);
    // Peers take turns within each iteration, so that drift in the machine's load hits all alike.
    for (let i = 0; i < WARMUP + N; i++) {
      for (const p of active) {
        const t = times.get(p)!;
        const ids = live.get(p)!;
        const runMs = must(p, ['run', '--bundle', dir, newId()]);
        const id = newId();
        ids.add(id);
        const createMs = must(p, ['create', '--bundle', dir, id]);
        const startMs = must(p, ['start', id]);
        waitStopped(p, id);
        const deleteMs = must(p, ['delete', id]);
        ids.delete(id);
        const l = newId();
        ids.add(l);
        must(p, ['create', '--bundle', long, l]);
        must(p, ['start', l]);
        const light: Partial<Record<Op, number>> = {};
        light.state = must(p, ['state', l]);
        light.ps = must(p, ['ps', l]);
        light['ps json'] = must(p, ['ps', '--format', 'json', l]);
        light.pause = must(p, ['pause', l]);
        light.resume = must(p, ['resume', l]);
        light.kill = must(p, ['kill', l, 'KILL']);
        waitStopped(p, l);
        must(p, ['delete', l]);
        ids.delete(l);
        const f = newId();
        ids.add(f);
        must(p, ['create', '--bundle', long, f]);
        must(p, ['start', f]);
        light['delete -f'] = must(p, ['delete', '--force', f]);
        ids.delete(f);
        if (i < WARMUP) continue;
        t.run.push(runMs);
        t.create.push(createMs);
        t.start.push(startMs);
        t.delete.push(deleteMs);
        for (const [op, ms] of Object.entries(light)) t[op as Op].push(ms);
      }
    }

    const cas = process.env.NODE_EXTRA_CA_CERTS;
    console.log(`berth-runtime bench: ${N} iterations (+${WARMUP} warm-up), busybox bundle, /bin/true`);
    console.log(`berth-runtime: ${BERTH}`);
    console.log(`NODE_EXTRA_CA_CERTS: ${cas ? `set (${cas}); berth-runtime unsets it for the Node it starts` : 'not set'}`);
    console.log('');
    const fmt = (x: number) => x.toFixed(1).padStart(7);
    const active2 = peers.filter((p) => !p.skip);
    for (const p of peers.filter((p) => p.skip)) console.log(`${p.name}: skipped: ${p.skip}`);
    const berthP = active2.find((p) => p.name === 'berth');
    const others = active2.filter((p) => p.name !== 'berth');
    console.log(
      `${'verb'.padEnd(10)}${active2.map((p) => `${p.name} median`.padStart(14) + 'p90'.padStart(8)).join('')}${berthP ? others.map((o) => `berth/${o.name}`.padStart(13)).join('') : ''}   (ms)`,
    );
    for (const op of OPS) {
      const cells = active2.map(
        (p) => fmt(percentile(times.get(p)![op], 0.5)).padStart(14) + fmt(percentile(times.get(p)![op], 0.9)).padStart(8),
      );
      const ratios = berthP
        ? others.map((o) => (percentile(times.get(berthP)![op], 0.5) / percentile(times.get(o)![op], 0.5)).toFixed(2).padStart(13))
        : [];
      console.log(`${op.padEnd(10)}${cells.join('')}${ratios.join('')}`);
    }
    // The floor under every berth-runtime command: a bare Node.js start, without the CA bundle.
    const bare: number[] = [];
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    for (let i = 0; i < WARMUP + N; i++) {
      const t0 = process.hrtime.bigint();
      spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore', env });
      if (i >= WARMUP) bare.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    console.log(
      `${'node -e 0'.padEnd(10)}${fmt(percentile(bare, 0.5)).padStart(14)}${fmt(percentile(bare, 0.9)).padStart(8)}   (a bare Node.js start: the floor under each verb the front hands to Node)`,
    );
  } finally {
    cleanup();
  }
}

main();
