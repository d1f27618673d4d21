// The containers' state machine against the recording fake runtime (runtime/fake.ts), without
// root: create, start, stop (and its SIGKILL after the timeout), restart policy, health, adoption
// by a new Containers on the same roots, remove, a failed create or start taken apart by the
// same path as `rm`, and legacy links made, listed, removed and refused. Images and snapshots are
// small fakes; networks are the real module with `--network host`, which asks nothing of the kernel.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { BerthError } from '../../errors.js';
import type { ImageStore, Snapshotter } from '../../image/index.js';
import { FakeRuntime } from '../../runtime/fake.js';
import { Events } from '../events.js';
import { Execs } from '../exec.js';
import { execProbe } from '../probe.js';
import type { ContainerRecord } from '../types.js';
import { Containers } from './index.js';

const MS = 1_000_000; // Docker's durations are nanoseconds

interface Harness {
  runtime: FakeRuntime;
  events: Events;
  /** `holdUnmount`: a snapshot's unmount (a step of an exit's recording) waits for it. */
  snapshots: { removed: string[]; failPrepare?: Error; holdUnmount?: Promise<void>; dir: string };
  open(): Containers;
  logs: string[];
}

/** Roots in a temp dir, a fake runtime, fake images and snapshots; `open()` makes a Containers over them (as a berthd would). */
function harness(t: TestContext): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-engine-unit-'));
  const opened: Containers[] = [];
  const runtime = new FakeRuntime();
  t.after(async () => {
    for (const c of opened) await c.close();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(runtime.errors, [], "the fake runtime's exits were all written");
  });
  const events = new Events();
  const logs: string[] = [];
  const snap = {
    removed: [] as string[],
    failPrepare: undefined as Error | undefined,
    holdUnmount: undefined as Promise<void> | undefined,
    dir: join(dir, 'snapshots'),
  };
  const rootfs = (id: string) => join(dir, 'snapshots', id, 'rootfs');
  const images = {
    resolve: async (ref: string) => ({
      id: `sha256:${'1'.repeat(64)}`,
      config: { config: { Cmd: ['sleep', '600'] } },
      record: { target: { digest: `sha256:${'2'.repeat(64)}` } },
      ref,
    }),
  } as unknown as ImageStore;
  const snapshots = {
    prepare: async (id: string) => {
      if (snap.failPrepare) throw snap.failPrepare;
      mkdirSync(rootfs(id), { recursive: true });
      return { rootfs: rootfs(id) };
    },
    info: async (id: string) => ({ rootfs: rootfs(id) }),
    mount: async (id: string) => ({ rootfs: rootfs(id) }),
    unmount: async () => {
      await snap.holdUnmount;
    },
    list: async () => (existsSync(snap.dir) ? readdirSync(snap.dir) : []),
    remove: async (id: string) => {
      snap.removed.push(id);
      rmSync(join(dir, 'snapshots', id), { recursive: true, force: true });
    },
  } as unknown as Snapshotter;
  return {
    runtime,
    events,
    snapshots: snap,
    logs,
    open() {
      const c = new Containers({
        dataRoot: join(dir, 'data'),
        execRoot: join(dir, 'run'),
        images,
        snapshots,
        events,
        runtime,
        log: (level, msg) => {
          logs.push(`${level}: ${msg}`);
        },
      });
      c.prober = (id, cmd, timeoutMs) => execProbe(new Execs(c, runtime), id, cmd, timeoutMs);
      opened.push(c);
      return c;
    },
  };
}

const hostConfig = { NetworkMode: 'host' };

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** The container events recorded so far for `id` (exec events left out), in order. */
function actions(h: Harness, id: string): string[] {
  const sub = h.events.subscribe({ since: 0n }, () => undefined);
  sub.unsubscribe();
  return sub.past.filter((e) => e.Type === 'container' && e.Actor.ID === id && !e.Action.startsWith('exec_')).map((e) => e.Action);
}
/** The runtime calls so far, less the `list` of the recovery that runs at adoption (recover.ts). */
const calls = (h: Harness) => h.runtime.log().filter((c) => c !== 'list ');
const kind = (k: string) => (e: unknown) => e instanceof BerthError && e.kind === k;

test('create, start, stop: the runtime is driven in order and every state change is saved and an event', async (t) => {
  const h = harness(t);
  const c = h.open();
  const rec = await c.create({ Image: 'busybox' }, { ...hostConfig });
  assert.equal(rec.State.Status, 'created');
  assert.deepEqual(calls(h), [], 'create asks nothing of the runtime');
  assert.equal(await c.start(rec.Id), 'started');
  assert.equal(c.get(rec.Id).State.Status, 'running');
  assert.equal(c.get(rec.Id).State.Pid, h.runtime.containers.get(rec.Id)!.pid);
  // (A runtime container a killed berthd may have left under the id goes first.)
  assert.deepEqual(calls(h), [`delete ${rec.Id}`, `create ${rec.Id}`, `start ${rec.Id}`]);
  assert.equal(await c.start(rec.Id), 'already');

  assert.equal(await c.stop(rec.Id, { timeout: 5 }), 'stopped');
  const s = c.get(rec.Id).State;
  assert.equal(s.Status, 'exited');
  assert.equal(s.ExitCode, 143);
  assert.ok(h.runtime.calls.some((x) => x.verb === 'kill' && (x.args as { signal: number }).signal === 15));
  assert.ok(!h.runtime.containers.has(rec.Id), 'the runtime container is deleted once it exited');
  assert.deepEqual(actions(h, rec.Id), ['create', 'start', 'kill', 'die', 'stop']);
  assert.equal(await c.stop(rec.Id), 'not-running');

  // What was saved is what a new berthd reads.
  await c.close();
  assert.equal(h.open().get(rec.Id).State.ExitCode, 143);
});

test('stop: a process that ignores the stop signal is killed after the timeout', async (t) => {
  const h = harness(t);
  const c = h.open();
  const { Id } = await c.create({ Image: 'busybox' }, { ...hostConfig });
  await c.start(Id);
  h.runtime.ignored.add(15);
  const t0 = Date.now();
  await c.stop(Id, { timeout: 1 });
  assert.ok(Date.now() - t0 >= 900, 'waited for the timeout');
  assert.equal(c.get(Id).State.ExitCode, 137);
  const kills = h.runtime.calls.filter((x) => x.verb === 'kill').map((x) => x.args);
  assert.deepEqual(kills, [
    { signal: 15, all: false },
    { signal: 9, all: true },
  ]);
});

test("kill: SIGKILL answers once the exit is recorded (dockerd's Kill waits), another signal at once", async (t) => {
  const h = harness(t);
  const c = h.open();
  const { Id } = await c.create({ Image: 'busybox' }, { ...hostConfig });
  await c.start(Id);
  h.runtime.ignored.add(10);
  await c.kill(Id, 'SIGUSR1');
  assert.equal(c.get(Id).State.Status, 'running');
  await c.kill(Id);
  assert.equal(c.get(Id).State.Status, 'exited');
  assert.equal(c.get(Id).State.ExitCode, 137);
  assert.deepEqual(actions(h, Id), ['create', 'start', 'kill', 'kill', 'die']);
});

test('restart policy: on-failure restarts a failed exit up to its count, not a clean one', async (t) => {
  const h = harness(t);
  const c = h.open();
  const { Id } = await c.create({ Image: 'busybox' }, { ...hostConfig, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 1 } });
  await c.start(Id);
  await h.runtime.exit(Id, 3);
  await until(() => c.get(Id).State.Status === 'running' && c.get(Id).RestartCount === 1, 'the restart');
  assert.equal(h.runtime.calls.filter((x) => x.verb === 'create').length, 2);
  await h.runtime.exit(Id, 3);
  await until(() => c.get(Id).State.Status === 'exited', 'the second exit');
  await delay(300); // no third start comes
  assert.equal(c.get(Id).State.Status, 'exited');
  assert.equal(c.get(Id).RestartCount, 1);
  assert.equal(h.runtime.calls.filter((x) => x.verb === 'create').length, 2);
});

test('an exit the policy restarts reads as restarting from the first, never exited; a stop meanwhile cancels the restart', async (t) => {
  const h = harness(t);
  const c = h.open();
  const { Id } = await c.create({ Image: 'busybox' }, { ...hostConfig, RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } });
  await c.start(Id);
  let release!: () => void;
  h.snapshots.holdUnmount = new Promise((r) => (release = r));
  await h.runtime.exit(Id, 3);
  await until(() => c.get(Id).State.Status !== 'running', 'the exit');
  // (A prune skips a restarting container: it removed one that read as exited here.)
  assert.deepEqual([c.get(Id).State.Status, c.get(Id).State.ExitCode, c.get(Id).RestartCount], ['restarting', 3, 1]);
  assert.equal(await c.stop(Id), 'stopped');
  release();
  await delay(300);
  assert.equal(c.get(Id).State.Status, 'exited');
  assert.equal(h.runtime.calls.filter((x) => x.verb === 'create').length, 1, 'no start after the stop');
});

test("health: probes run through the runtime's exec; failures past the retries make it unhealthy, a success healthy", async (t) => {
  const h = harness(t);
  const c = h.open();
  let code = 1;
  h.runtime.execHandler = () => ({ exitCode: code, stdout: `probe ${code}\n` });
  const { Id } = await c.create(
    { Image: 'busybox', Healthcheck: { Test: ['CMD', 'check'], Interval: 20 * MS, Timeout: 1000 * MS, Retries: 2 } },
    { ...hostConfig },
  );
  await c.start(Id);
  assert.equal(c.get(Id).State.Health?.Status, 'starting');
  await until(() => c.get(Id).State.Health?.Status === 'unhealthy', 'unhealthy');
  assert.ok(h.runtime.calls.some((x) => x.verb === 'exec' && (x.args as string[])[0] === 'check'));
  code = 0;
  await until(() => c.get(Id).State.Health?.Status === 'healthy', 'healthy');
  assert.equal(c.get(Id).State.Health?.Log.at(-1)?.Output, 'probe 0\n');
  assert.ok(actions(h, Id).includes('health_status: unhealthy') && actions(h, Id).includes('health_status: healthy'));
  await c.stop(Id, { timeout: 1 });
});

test('adoption: a new Containers watches what runs and records what ended while it was away', async (t) => {
  const h = harness(t);
  const first = h.open();
  const a = await first.create({ Image: 'busybox' }, { ...hostConfig });
  const b = await first.create({ Image: 'busybox' }, { ...hostConfig });
  await first.start(a.Id);
  await first.start(b.Id);
  await first.close(); // berthd goes; the containers stay under their monitors
  await h.runtime.exit(b.Id, 7); // b ends while no berthd watches

  const second = h.open();
  await until(() => second.get(b.Id).State.Status === 'exited', 'b recorded as exited');
  assert.equal(second.get(b.Id).State.ExitCode, 7);
  assert.equal(second.get(a.Id).State.Status, 'running');
  await h.runtime.exit(a.Id, 0);
  await until(() => second.get(a.Id).State.Status === 'exited', "a's exit seen by the new watcher");
  assert.ok(!h.runtime.containers.has(a.Id) && !h.runtime.containers.has(b.Id));
});

test('recovery runs at open, before it resolves, never at first use, where a build snapshot without a record may be in use', async (t) => {
  const h = harness(t);
  // What a berthd killed mid-remove left: a runtime container and a snapshot without a record.
  const orphan = 'f'.repeat(64);
  mkdirSync(join(h.snapshots.dir, orphan, 'bundle'), { recursive: true });
  writeFileSync(join(h.snapshots.dir, orphan, 'bundle', 'config.json'), '{}');
  await h.runtime.create({ id: orphan, bundle: join(h.snapshots.dir, orphan, 'bundle') });
  // An in-process builder's snapshot, in use, with no container record.
  mkdirSync(join(h.snapshots.dir, 'build-0123456789abcdef'), { recursive: true });
  const lazy = h.open();
  const { Id } = await lazy.create({ Image: 'busybox' }, { ...hostConfig });
  await lazy.start(Id);
  await delay(20);
  assert.ok(h.runtime.containers.has(orphan), 'first use recovers nothing');
  assert.deepEqual(h.snapshots.removed, []);
  await lazy.close();

  const c = h.open();
  await c.open();
  assert.ok(!h.runtime.containers.has(orphan), 'the unowned runtime container is deleted before open resolves');
  assert.deepEqual(h.snapshots.removed.sort(), ['build-0123456789abcdef', orphan].sort(), 'leftover snapshots are removed');
  assert.equal(c.get(Id).State.Status, 'running', 'an owned container is left running');
  assert.ok(h.runtime.containers.has(Id));
  assert.ok(h.logs.some((l) => l.startsWith(`warn: runtime container ${orphan.slice(0, 12)} left without an owner`)));
  const lists = h.runtime.log().filter((x) => x === 'list ').length;
  await c.open();
  assert.equal(h.runtime.log().filter((x) => x === 'list ').length, lists, 'a second open does not recover again');
  await c.stop(Id, { timeout: 1 });
});

test('remove: refused while running, forced with SIGKILL; runtime container, snapshot and record go', async (t) => {
  const h = harness(t);
  const c = h.open();
  const { Id } = await c.create({ Image: 'busybox' }, { ...hostConfig });
  await c.start(Id);
  await assert.rejects(c.remove(Id), kind('conflict'));
  await c.remove(Id, { force: true });
  assert.throws(() => c.get(Id), kind('not-found'));
  assert.ok(h.runtime.calls.some((x) => x.verb === 'kill' && (x.args as { signal: number; all: boolean }).signal === 9));
  assert.ok(h.runtime.calls.some((x) => x.verb === 'delete' && x.id === Id));
  assert.deepEqual(h.snapshots.removed, [Id]);
  assert.equal(actions(h, Id).at(-1), 'destroy');
  await c.close();
  assert.deepEqual(h.open().list(), [], 'no record left on disk');
});

test("a failed create is taken apart by rm's path: the runtime asked to delete, the snapshot removed, no record", async (t) => {
  const h = harness(t);
  const c = h.open();
  // A bind mount whose source does not exist fails after the snapshot was prepared.
  await assert.rejects(
    c.create({ Image: 'busybox' }, { ...hostConfig, Mounts: [{ Type: 'bind', Source: '/no/such/dir/berth-test', Target: '/data' }] }),
    /does not exist/,
  );
  assert.deepEqual(c.list(), []);
  assert.equal(h.snapshots.removed.length, 1, 'the snapshot went');
  const id = h.snapshots.removed[0];
  assert.deepEqual(calls(h), [`delete ${id}`], 'the same runtime delete as rm');
  assert.deepEqual(actions(h, id), [], 'nothing announced for a container that never was');
  await c.close();
  assert.deepEqual(h.open().list(), []);
});

test('a failed start: the runtime side is taken apart, the container keeps its state with the error and can start again', async (t) => {
  const h = harness(t);
  const c = h.open();
  const { Id } = await c.create({ Image: 'busybox' }, { ...hostConfig });
  h.runtime.failNext('start', new BerthError('system', 'exec: "nope": executable file not found in $PATH'));
  await assert.rejects(c.start(Id), (e: unknown) => (e as { exitCode?: number }).exitCode === 127);
  const s = c.get(Id).State;
  // dockerd's: never started, so still created; FinishedAt unset.
  assert.deepEqual([s.Status, s.FinishedAt], ['created', '0001-01-01T00:00:00Z']);
  assert.equal(s.ExitCode, 127);
  assert.match(s.Error, /executable file not found/);
  assert.ok(!h.runtime.containers.has(Id), 'the half-started runtime container was deleted');
  assert.equal(await c.start(Id), 'started');
  assert.equal(c.get(Id).State.Status, 'running');
  await c.stop(Id, { timeout: 0 });
  // One that ran before is exited by a failed start.
  h.runtime.failNext('start', new BerthError('system', 'exec: "nope": executable file not found in $PATH'));
  await assert.rejects(c.start(Id));
  assert.equal(c.get(Id).State.Status, 'exited');
  await c.remove(Id, { force: true });
  assert.ok(!existsSync(join(c.bundleDir(Id))));
});

test("pause and unpause go to the runtime; a paused container is not probed or exec'd into", async (t) => {
  const h = harness(t);
  const c = h.open();
  const { Id } = await c.create({ Image: 'busybox' }, { ...hostConfig });
  await c.start(Id);
  await c.pause(Id);
  assert.equal(c.get(Id).State.Status, 'paused');
  assert.equal(h.runtime.containers.get(Id)!.status, 'paused');
  await assert.rejects(c.pause(Id), kind('conflict'));
  await c.unpause(Id);
  assert.equal((c.get(Id) as ContainerRecord).State.Status, 'running');
  assert.deepEqual(actions(h, Id).slice(-2), ['pause', 'unpause']);
  await c.remove(Id, { force: true });
});

test('legacy links: made at create, named in the list and inspect, removed by rm --link; refusals in dockerd words', async (t) => {
  const h = harness(t);
  const c = h.open();
  const none = { NetworkMode: 'none' };
  const db = await c.create({ Image: 'busybox' }, { ...none }, 'db');
  const web = await c.create({ Image: 'busybox' }, { ...none, Links: ['db:data', '/db:/other/db'] }, 'web');
  assert.deepEqual(c.links(web), ['/db:/web/data', '/db:/web/db']);
  assert.deepEqual(c.names(db), ['/db', '/web/data', '/web/db']);
  assert.equal(c.get('web/data').Id, db.Id, "a link's name finds the container it links to");
  await assert.rejects(c.removeLink('db'), { message: 'Conflict, cannot remove the default link name of the container' });
  await assert.rejects(c.removeLink('web/nosuch'), { message: 'No such container: web/nosuch' });
  await c.removeLink('/web/data');
  assert.deepEqual(c.links(web), ['/db:/web/db']);
  const refused = (hc: Record<string, unknown>, message: string) =>
    assert.rejects(c.create({ Image: 'busybox' }, hc), (e: unknown) => kind('invalid')(e) && (e as Error).message === message);
  await refused({ ...none, Links: ['nosuch:a'] }, 'could not get container for nosuch: No such container: nosuch');
  await refused({ ...none, Links: [':a'] }, 'could not get container for : invalid name or ID supplied: ""');
  await refused(
    { ...hostConfig, Links: ['db:a'] },
    "conflicting options: host type networking can't be used with links. This would result in undefined behavior",
  );
  await refused({ ...none, Links: ['db:'] }, 'invalid link db:: the alias is empty');
  const hostly = await c.create({ Image: 'busybox' }, { ...hostConfig }, 'hostly');
  await refused(
    { ...none, Links: [`${hostly.Name}:h`] },
    "conflicting options: host type networking can't be used with links. This would result in undefined behavior",
  );
  // On a user-defined network HostConfig's links are the endpoint's, for its DNS.
  await c.networks.create({ Name: 'lnk', IPAM: { Config: [{ Subnet: '10.219.77.0/24' }] } });
  const u = await c.create({ Image: 'busybox' }, { NetworkMode: 'lnk', Links: ['db:data'] });
  assert.deepEqual(u.NetworkSettings?.Networks.lnk.Links, ['db:data']);
  assert.equal(c.links(u), null);
  assert.deepEqual(c.names(db), ['/db', '/web/db']);
});
