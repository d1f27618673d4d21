// berthd's one event loop stays free while it works: /_ping, asked again and again, answers with
// a p99 under 20 ms while 100 containers are created and started through the API, 8 at a time
// (each on the default bridge network, so CNI and iptables run too). Anything berthd does
// synchronously on its thread — a sleep, a child process waited for, an fsync — shows here as a
// late ping. The figures go to the test's diagnostics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startEngine, type EngineFixture } from './engine-fixture.js';

const CONTAINERS = 100;
const PARALLEL = 8;
const P99_MS = 20;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function ok(eng: EngineFixture, method: string, path: string, body?: unknown): Promise<string> {
  const r = await eng.api(method, path, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.body}`);
  return r.body;
}

test(`/_ping keeps a p99 under ${P99_MS} ms while ${CONTAINERS} containers start ${PARALLEL} at a time`, { timeout: 600_000 }, async (t) => {
  const eng = await startEngine();
  t.after(() => eng.stop());
  await ok(eng, 'POST', '/images/create?fromImage=busybox&tag=latest');

  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < CONTAINERS) {
      next++;
      const { Id } = JSON.parse(await ok(eng, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '600'] })) as { Id: string };
      ids.push(Id);
      await ok(eng, 'POST', `/containers/${Id}/start`);
    }
  };

  const samples: number[] = [];
  let starting = true;
  const sampler = (async () => {
    while (starting) {
      const t0 = performance.now();
      const r = await eng.api('GET', '/_ping');
      samples.push(performance.now() - t0);
      assert.equal(r.status, 200);
      await delay(5);
    }
  })();
  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: PARALLEL }, worker));
  } finally {
    starting = false;
    await sampler;
  }
  const wall = performance.now() - t0;

  const sorted = [...samples].sort((a, b) => a - b);
  const [p50, p99, max] = [percentile(sorted, 50), percentile(sorted, 99), sorted.at(-1)!];
  t.diagnostic(`${CONTAINERS} containers started in ${(wall / 1000).toFixed(1)} s; /_ping over ${samples.length} samples: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
  const running = JSON.parse(await ok(eng, 'GET', '/containers/json')) as unknown[];
  assert.equal(running.length, CONTAINERS);

  // Taken apart 8 at a time too (the fixture's stop would remove them one by one).
  let i = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (i < ids.length) await ok(eng, 'DELETE', `/containers/${ids[i++]}?force=1`);
  }));
  assert.ok(samples.length >= 50, `only ${samples.length} pings`);
  assert.ok(p99 < P99_MS, `p99 ${p99.toFixed(1)} ms (p50 ${p50.toFixed(1)}, max ${max.toFixed(1)})`);
});
