// berth-runtime against runc and crun on one busybox bundle: `run` of /bin/true, and `create`,
// `start`, `delete` timed apart. Each executable runs as a user runs it (berth-runtime through
// bin/berth-runtime.js and its shebang), with its own --root in a temp dir that goes at the end.
// A peer that is missing or refuses this machine is skipped, with its reason.
//
//   npm run build && npm run bench          (BENCH_N=50 for more iterations; default 20)
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
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
type Op = 'run' | 'create' | 'start' | 'delete';
const OPS: Op[] = ['run', 'create', 'start', 'delete'];

const N = Math.max(1, Number(process.env.BENCH_N ?? 20) || 20);
const WARMUP = 2;
const BERTH = realpathSync(new URL('../../bin/berth-runtime.js', import.meta.url).pathname);

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
    for (const p of peers) times.set(p, { run: [], create: [], start: [], delete: [] });
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
        if (i < WARMUP) continue;
        t.run.push(runMs);
        t.create.push(createMs);
        t.start.push(startMs);
        t.delete.push(deleteMs);
      }
    }

    const cas = process.env.NODE_EXTRA_CA_CERTS;
    console.log(`berth-runtime bench: ${N} iterations (+${WARMUP} warm-up), busybox bundle, /bin/true`);
    console.log(`berth-runtime: ${BERTH}`);
    console.log(`NODE_EXTRA_CA_CERTS: ${cas ? `set (${cas}); berth-runtime's shebang unsets it for itself` : 'not set'}`);
    console.log('');
    const fmt = (x: number) => x.toFixed(1).padStart(7);
    console.log(`${'peer'.padEnd(6)} ${OPS.map((o) => `${o} median`.padStart(14) + `${'p90'.padStart(8)}`).join(' ')}   (ms)`);
    for (const p of peers) {
      if (p.skip) {
        console.log(`${p.name.padEnd(6)} skipped: ${p.skip}`);
        continue;
      }
      const t = times.get(p)!;
      console.log(
        `${p.name.padEnd(6)} ${OPS.map((o) => fmt(percentile(t[o], 0.5)).padStart(14) + fmt(percentile(t[o], 0.9)).padStart(8)).join(' ')}`,
      );
    }
    const berth = peers.find((p) => p.name === 'berth' && !p.skip);
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
      `${'node -e 0'.padEnd(6)} ${fmt(percentile(bare, 0.5)).padStart(14)}${fmt(percentile(bare, 0.9)).padStart(8)}   (a bare Node.js start, the floor under each berth-runtime command)`,
    );
    console.log('');
    for (const other of peers.filter((p) => p.name !== 'berth' && !p.skip)) {
      if (!berth) break;
      const b = times.get(berth)!,
        o = times.get(other)!;
      console.log(
        `berth/${other.name} (median ratio): ${OPS.map((op) => `${op} ${(percentile(b[op], 0.5) / percentile(o[op], 0.5)).toFixed(2)}`).join('  ')}`,
      );
    }
  } finally {
    cleanup();
  }
}

main();
