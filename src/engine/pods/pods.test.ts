// Pods' verbs against the recording fake runtime (runtime/fake.ts) and the real containers'
// lifecycle, without root: the infra container made with the pod, a member's create joining its
// namespaces and its start starting the infra first, the infra's removal refused but by its pod,
// pod rm (with and without force), and a new berthd on the same roots reloading the pods and
// repairing what a killed one left half-made. The pods share `net` on the host's network and
// uts and pid, which ask nothing of the kernel here.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '../../errors.js';
import type { ImageStore, Snapshotter } from '../../image/index.js';
import type { Spec } from '../../oci/runtime-spec.js';
import { FakeRuntime } from '../../runtime/fake.js';
import { Containers } from '../containers/index.js';
import { Events } from '../events.js';
import { Pods } from './index.js';
import type { PodCreateOptions } from './types.js';

/** A berthd's containers and pods over roots in a temp dir; `open()` makes a new pair on the same roots. */
function harness(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-pods-unit-'));
  const runtime = new FakeRuntime();
  const opened: Containers[] = [];
  t.after(async () => {
    for (const c of opened) await c.close();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(runtime.errors, []);
  });
  const rootfs = (id: string) => join(dir, 'snapshots', id, 'rootfs');
  const images = {
    resolve: async () => ({
      id: `sha256:${'1'.repeat(64)}`,
      config: { config: { Cmd: ['sleep', '600'] } },
      record: { target: { digest: `sha256:${'2'.repeat(64)}` } },
    }),
  } as unknown as ImageStore;
  const snapshots = {
    prepare: async (id: string) => {
      mkdirSync(rootfs(id), { recursive: true });
      return { rootfs: rootfs(id) };
    },
    info: async (id: string) => ({ rootfs: rootfs(id) }),
    mount: async (id: string) => ({ rootfs: rootfs(id) }),
    unmount: async () => undefined,
    list: async () => (existsSync(join(dir, 'snapshots')) ? readdirSync(join(dir, 'snapshots')) : []),
    remove: async (id: string) => rmSync(join(dir, 'snapshots', id), { recursive: true, force: true }),
  } as unknown as Snapshotter;
  const logs: string[] = [];
  return {
    runtime,
    dir,
    logs,
    open() {
      const containers = new Containers({
        dataRoot: join(dir, 'data'),
        execRoot: join(dir, 'run'),
        images,
        snapshots,
        events: new Events(),
        runtime,
        log: (level, msg) => logs.push(`${level}: ${msg}`),
      });
      opened.push(containers);
      const pods = new Pods({
        dataRoot: join(dir, 'data'),
        containers,
        pauseImage: async () => 'localhost/berth-pause:test',
        networkDriver: () => 'bridge',
        log: (level, msg) => logs.push(`${level}: ${msg}`),
      });
      containers.pods = pods;
      return { containers, pods };
    },
  };
}

const WEB: PodCreateOptions = { Name: 'web', Network: 'host', Share: ['net', 'uts', 'pid'], Labels: { app: 'web' } };
const kind = (k: string) => (e: unknown) => e instanceof BerthError && e.kind === k;

test('a member joins the infra container, which its start starts first', async (t) => {
  const h = harness(t);
  const { containers, pods } = h.open();
  const pod = await pods.create(WEB);
  const infra = containers.get(pod.InfraId);
  assert.deepEqual([infra.Name, infra.Pod, infra.IsInfra, infra.Config.Hostname], [`/${pod.Id.slice(0, 12)}-infra`, pod.Id, true, 'web']);
  assert.equal(pods.inspect('web').state, 'Created');
  await assert.rejects(pods.create({ Name: 'web' }), /the pod name "web" is already in use/);

  const m = await containers.create({ Image: 'busybox' }, {}, 'member', undefined, undefined, { pod: 'web' });
  const via = `container:${pod.InfraId}`;
  assert.deepEqual(
    [m.Pod, m.HostConfig.NetworkMode, m.HostConfig.UTSMode, m.HostConfig.PidMode, m.Config.Hostname],
    [pod.Id, 'host', via, via, 'web'],
  );
  await containers.start('member');
  const started = h.runtime.calls.filter((c) => c.verb === 'start').map((c) => c.id);
  assert.deepEqual(started, [pod.InfraId, m.Id]);
  const spec = JSON.parse(readFileSync(join(h.dir, 'data', 'containers', m.Id, 'config.json'), 'utf8')) as Spec;
  const pid = containers.get(pod.InfraId).State.Pid;
  const ns = Object.fromEntries(spec.linux!.namespaces!.map((n) => [n.type, n.path]));
  assert.deepEqual([ns.uts, ns.pid], [`/proc/${pid}/ns/uts`, `/proc/${pid}/ns/pid`]);
  assert.equal(spec.hostname, undefined, "the infra's UTS namespace has the hostname");
  assert.equal(pods.inspect('web').state, 'Running');
  assert.deepEqual(
    pods.list({ label: ['app=web'] }).map((i) => i.pod.Name),
    ['web'],
  );
  assert.deepEqual(pods.list({ status: ['exited'] }), []);
  assert.throws(() => pods.list({ bogus: ['1'] }), /invalid filter 'bogus'/i);
});

test('the infra container goes only with its pod; pod rm needs force for running members', async (t) => {
  const h = harness(t);
  const { containers, pods } = h.open();
  const pod = await pods.create(WEB);
  const m = await containers.create({ Image: 'busybox' }, {}, 'member', undefined, undefined, { pod: 'web' });
  await pods.start('web');
  await assert.rejects(containers.remove(pod.InfraId, { force: true }), /is the infra container of pod/);
  await assert.rejects(pods.remove('web'), kind('conflict'));
  // A pod with a running container stays; one whose containers all stopped goes.
  const idle = await pods.create({ ...WEB, Name: 'idle' });
  assert.deepEqual(await pods.prune(), [idle.Id]);
  assert.deepEqual(await pods.remove('web', { force: true }), [m.Id, pod.InfraId]);
  assert.deepEqual(containers.list(), []);
  assert.deepEqual(readdirSync(join(h.dir, 'data', 'pods')), []);
  assert.throws(() => pods.get('web'), kind('not-found'));
  await assert.rejects(
    containers.create({ Image: 'busybox' }, {}, undefined, undefined, undefined, { pod: 'web' }),
    /no pod with name or ID web/,
  );
});

test('a new berthd reloads the pods and repairs what a killed one left half-made', async (t) => {
  const h = harness(t);
  const first = h.open();
  const kept = await first.pods.create(WEB);
  await first.pods.start('web');
  const lost = await first.pods.create({ ...WEB, Name: 'lost' });
  const orphan = await first.pods.create({ ...WEB, Name: 'orphan' });
  await first.containers.close();
  // As if killed mid-create (the record not yet written) and mid-remove (the infra container gone first).
  rmSync(join(h.dir, 'data', 'pods', `${orphan.Id}.json`));
  rmSync(join(h.dir, 'data', 'containers', lost.InfraId), { recursive: true });

  const second = h.open();
  assert.deepEqual(
    second.pods.list().map((i) => `${i.pod.Name} ${i.state}`),
    ['web Running'],
  );
  assert.equal(second.pods.get(kept.Id.slice(0, 6)).Name, 'web');
  const gone = async () => !second.containers.list().some((c) => c.Id === orphan.InfraId);
  for (let i = 0; i < 200 && !(await gone()); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(await gone(), 'the infra container of a pod whose record is gone is removed');
  assert.ok(h.logs.some((l) => /pod lost lost its infra container/.test(l)));
  assert.ok(!existsSync(join(h.dir, 'data', 'pods', `${lost.Id}.json`)));
});

test("a pod's network driver options need a network a CNI config makes: on a bridge they would do nothing", async (t) => {
  const { pods } = harness(t).open();
  await assert.rejects(pods.create({ Name: 'opts', Network: 'mynet', NetworkDriverOpts: { K8S_POD_NAME: 'x' } }), {
    message: 'network driver options are supported only for pods on a network a CNI config makes',
  });
  assert.deepEqual(pods.list({}), []);
});
