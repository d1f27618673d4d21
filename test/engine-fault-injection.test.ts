// Fault injection: berthd is SIGKILLed at a random instant (seeded, so a failure can be
// replayed with BERTH_FAULT_SEED) while a mix of operations is in flight — creates, starts,
// commits, pulls and removes — a bounded number of times. After each restart the store must be
// whole: every container `ps -a` lists can be inspected, started and removed, and once all are
// removed nothing of theirs is left (runtime state, cgroups, snapshots, netns pins, endpoints).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startEngine, until, type EngineFixture } from './engine-fixture.js';

const SEED = Number(process.env.BERTH_FAULT_SEED ?? 20261206);
const ROUNDS = 3;
const BATCH = 6;
/** How long one request may take before the test names it as hung (a slow machine's start is ~2 s). */
const REQUEST_MS = 30_000;

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
  assert.equal((await eng.api('POST', '/images/create?fromImage=busybox&tag=latest')).status, 200);
});
after(async () => {
  await eng?.stop();
});

/** mulberry32: a small seeded generator, so a failing round can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
const cgroupDirs = (id: string) =>
  [...ls('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c)), '/sys/fs/cgroup']
    .map((r) => join(r, 'berth', id))
    .filter((d) => existsSync(d));

/** A request to berthd that must answer within REQUEST_MS; a hang fails naming the step and the seed. */
async function api(step: string, method: string, path: string, body?: unknown): ReturnType<EngineFixture['api']> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`seed ${SEED}, ${step}: ${method} ${path} had no answer within ${REQUEST_MS / 1000} s (berthd ${eng.pid()})`)),
      REQUEST_MS,
    );
  });
  try {
    return await Promise.race([eng.api(method, path, body), hung]);
  } finally {
    clearTimeout(timer);
  }
}

const KINDS = ['create+start', 'commit', 'pull', 'rm', 'run --rm'];

/** One operation, its answer ignored: berthd may die under it. A hang is not ignored. */
async function operation(step: string, kind: number, n: string, existing: string[]): Promise<void> {
  const call = (m: string, p: string, b?: unknown) =>
    api(step, m, p, b).catch((e: Error) => {
      if (e.message.includes('no answer within')) throw e;
      return undefined;
    });
  switch (kind) {
    case 0: {
      // create and start
      const r = await call('POST', `/containers/create?name=${n}`, { Image: 'busybox', Cmd: ['sleep', '1000'] });
      if (r?.status === 201) await call('POST', `/containers/${n}/start`);
      break;
    }
    case 1: // commit a running one (it is frozen meanwhile)
      if (existing[0]) await call('POST', `/commit?container=${existing[0]}&repo=fault&tag=${n}`);
      break;
    case 2: // pull again (the layers are there: the manifest and config are written anew)
      await call('POST', '/images/create?fromImage=busybox&tag=latest');
      break;
    case 3: // remove
      if (existing.at(-1)) await call('DELETE', `/containers/${existing.at(-1)}?force=1`);
      break;
    default: {
      // run --rm
      const r = await call('POST', `/containers/create?name=${n}`, { Image: 'busybox', Cmd: ['true'], HostConfig: { AutoRemove: true } });
      if (r?.status === 201) await call('POST', `/containers/${n}/start`);
    }
  }
}

async function containers(step: string): Promise<{ Id: string; State: string; Command: string }[]> {
  const r = await api(step, 'GET', '/containers/json?all=1');
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body) as { Id: string; State: string; Command: string }[];
}

test(
  `berthd SIGKILLed at ${ROUNDS} random instants of create, start, commit, pull and rm leaves a whole store and nothing leaked (seed ${SEED})`,
  // Each round is a few seconds on a quiet machine; a hung request fails in REQUEST_MS, naming itself.
  { timeout: 180_000 },
  async () => {
    try {
      await rounds();
    } catch (e) {
      // berthd's side of a failure: what it logged up to it.
      if (process.env.BERTH_FAULT_LOG) writeFileSync(process.env.BERTH_FAULT_LOG, eng.daemonLog());
      process.stderr.write(`berthd's log (end):\n${eng.daemonLog().slice(-30_000)}\n`);
      throw e;
    }
  },
);

async function rounds(): Promise<void> {
  const rand = random(SEED);
  const seen = new Set<string>();
  for (let round = 0; round < ROUNDS; round++) {
    const existing = (await containers(`round ${round}: list`)).filter((c) => c.State === 'running').map((c) => c.Id);
    const ops = Array.from({ length: BATCH }, (_, i) => {
      const kind = Math.floor(rand() * 5);
      return operation(`round ${round}: ${KINDS[kind]} fault${round}x${i}`, kind, `fault${round}x${i}`, existing);
    });
    await delay(Math.floor(rand() * 400));
    await eng.restart('SIGKILL');
    await Promise.all(ops);

    // The store is whole: every container listed can be inspected and started, and runs.
    for (const c of await containers(`round ${round}: list after restart`)) {
      seen.add(c.Id);
      const id = c.Id.slice(0, 12);
      const i = await api(`round ${round}: inspect ${id}`, 'GET', `/containers/${c.Id}/json`);
      assert.equal(i.status, 200, `round ${round}: inspect ${id}: ${i.body}`);
      const s = await api(`round ${round}: start ${id}`, 'POST', `/containers/${c.Id}/start`);
      // (An AutoRemove container may end and go meanwhile: gone, or still being removed, a 409 as dockerd's.)
      const removing = s.status === 409 && c.Command === 'true' && /is marked for removal/.test(s.body);
      assert.ok([204, 304, 404].includes(s.status) || removing, `round ${round}: start ${id}: ${s.status} ${s.body}`);
    }
    for (const c of await containers(`round ${round}: list running`)) {
      // (The long-running ones: a run --rm one may end meanwhile.)
      if (c.State !== 'running' || !c.Command.startsWith('sleep')) continue;
      const id = c.Id.slice(0, 12);
      const p = await api(`round ${round}: pause ${id}`, 'POST', `/containers/${c.Id}/pause`);
      assert.equal(p.status, 204, `round ${round}: a running container can be paused: ${p.body}`);
      assert.equal((await api(`round ${round}: unpause ${id}`, 'POST', `/containers/${c.Id}/unpause`)).status, 204);
    }
  }
  for (const c of await containers('list at the end')) {
    const r = await api(`rm ${c.Id.slice(0, 12)}`, 'DELETE', `/containers/${c.Id}?force=1`);
    assert.equal(r.status, 204, `rm ${c.Id.slice(0, 12)}: ${r.body}`);
  }
  const images = JSON.parse((await api('list images', 'GET', '/images/json')).body) as { Id: string; RepoTags: string[] | null }[];
  for (const img of images.filter((i) => (i.RepoTags ?? []).some((t) => t.startsWith('fault:')))) {
    assert.equal((await api(`rmi ${img.Id}`, 'DELETE', `/images/${img.Id}?force=1`)).status, 200);
  }

  const runtime = join(eng.dir, 'run', 'runtime'),
    snapshots = join(eng.dir, 'data', 'snapshots', 'containers');
  const netns = join(eng.dir, 'run', 'netns'),
    endpoints = join(eng.dir, 'run', 'networks');
  const left = () => [
    ...ls(runtime).map((x) => `runtime state ${x}`),
    ...ls(snapshots).map((x) => `snapshot ${x}`),
    ...ls(netns).map((x) => `netns pin ${x}`),
    ...ls(endpoints).map((x) => `endpoints ${x}`),
    ...[...seen].flatMap((id) => cgroupDirs(id).map((d) => `cgroup ${d}`)),
  ];
  // (Removals' network teardowns run on after their answers.)
  await until(() => left().length === 0, 15_000).catch(() => {
    /* the assertion below names what is left */
  });
  assert.deepEqual(left(), []);
}
