// Health checks in berthd, driven with the docker CLI (28 and 20.10) and dockerode: starting →
// unhealthy → healthy with events and ps STATUS, a probe past its timeout, the start period,
// the image's HEALTHCHECK merged under the user's, probes stopping at exit and resuming
// when a new berthd adopts the container.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import Docker from 'dockerode';
import { DOCKER, noDocker20, DOCKER_20, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
let dockerode: Docker;
const skip = !existsSync(DOCKER) && 'no docker CLI';

const ok = (args: string[], bin = DOCKER) => eng.dockerOk(args, { bin });
const health = (name: string) => JSON.parse(ok(['inspect', '--format', '{{json .State.Health}}', name]));
const psStatus = (name: string, bin = DOCKER) =>
  ok(['ps', '-a', '--format', '{{.Names}}\t{{.Status}}'], bin)
    .split('\n')
    .find((l) => l.startsWith(`${name}\t`))
    ?.split('\t')[1] ?? '';
const stamp = () => (Date.now() / 1000).toFixed(9);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  eng = await startEngine();
  dockerode = new Docker({ socketPath: eng.socket });
  assert.equal((await eng.api('POST', '/images/create?fromImage=busybox&tag=latest')).status, 200);
});
after(async () => {
  await eng?.stop();
});

test('starting, then unhealthy after the retries, then healthy: inspect, ps and events', { skip }, async () => {
  const t0 = stamp();
  ok([
    'run',
    '-d',
    '--name',
    'h1',
    '--health-cmd',
    'echo probing; test -e /tmp/ok',
    '--health-interval',
    '200ms',
    '--health-retries',
    '2',
    '--health-timeout',
    '2s',
    'busybox',
    'sleep',
    '1000',
  ]);
  assert.equal(health('h1').Status, 'starting');
  assert.match(psStatus('h1'), /^Up .* \(health: starting\)$/);
  await until(() => health('h1').Status === 'unhealthy', 5000);
  const h = health('h1');
  assert.equal(h.FailingStreak, 2);
  assert.equal(h.Log.length, 2);
  assert.equal(h.Log[0].ExitCode, 1);
  assert.equal(h.Log[0].Output, 'probing\n');
  assert.ok(Date.parse(h.Log[0].End) >= Date.parse(h.Log[0].Start));
  assert.match(psStatus('h1'), /^Up .* \(unhealthy\)$/);
  ok(['exec', 'h1', 'touch', '/tmp/ok']);
  await until(() => health('h1').Status === 'healthy', 5000);
  assert.equal(health('h1').FailingStreak, 0);
  assert.match(psStatus('h1'), /^Up .* \(healthy\)$/);
  await until(() => health('h1').Log.length === 5, 5000);
  const evs = ok([
    'events',
    '--since',
    t0,
    '--until',
    stamp(),
    '--filter',
    'event=health_status',
    '--format',
    '{{.Action}} {{.Actor.Attributes.name}}',
  ]);
  assert.deepEqual(evs.split('\n'), ['health_status: unhealthy h1', 'health_status: healthy h1']);
  // Probes run as execs, as Docker's do.
  const execs = ok([
    'events',
    '--since',
    t0,
    '--until',
    stamp(),
    '--filter',
    'container=h1',
    '--filter',
    'event=exec_create',
    '--format',
    '{{.Action}}',
  ]);
  assert.match(execs.split('\n')[0], /^exec_create: \/bin\/sh -c echo probing; test -e \/tmp\/ok$/);

  // Checks stop with the container: the log stays as it was and, as dockerd has it, the
  // status reads unhealthy.
  ok(['stop', '-t', '0', 'h1']);
  const after1 = health('h1').Log.at(-1).End;
  await sleep(600);
  assert.equal(health('h1').Log.at(-1).End, after1);
  assert.equal(health('h1').Status, 'unhealthy');
  assert.match(psStatus('h1'), /^Exited/);
  ok(['rm', 'h1']);
});

test('a probe past its timeout is a failure with exit -1', { skip }, async () => {
  ok([
    'run',
    '-d',
    '--name',
    'h2',
    '--health-cmd',
    'sleep 5',
    '--health-interval',
    '200ms',
    '--health-timeout',
    '300ms',
    '--health-retries',
    '1',
    'busybox',
    'sleep',
    '1000',
  ]);
  await until(() => health('h2').Status === 'unhealthy', 5000);
  const entry = health('h2').Log[0];
  assert.equal(entry.ExitCode, -1);
  assert.equal(entry.Output, 'Health check exceeded timeout (300ms)');
  assert.ok(Date.parse(entry.End) - Date.parse(entry.Start) < 2000);
  // A timed-out probe is killed: at most the one under way is left.
  await sleep(800);
  const probes = ok(['exec', 'h2', 'ps', '-o', 'args'])
    .split('\n')
    .filter((l) => l.trim() === 'sleep 5');
  assert.ok(probes.length <= 1, `${probes.length} probes still running`);
  ok(['rm', '-f', 'h2']);
});

test('the start period forgives failures until the first success', { skip }, async () => {
  ok([
    'run',
    '-d',
    '--name',
    'h3',
    '--health-cmd',
    'false',
    '--health-interval',
    '100ms',
    '--health-start-period',
    '1s',
    '--health-start-interval',
    '100ms',
    '--health-retries',
    '1',
    'busybox',
    'sleep',
    '1000',
  ]);
  await until(() => health('h3').Log.length >= 2, 5000);
  const h = health('h3');
  assert.equal(h.Status, 'starting');
  assert.equal(h.FailingStreak, 0);
  await until(() => health('h3').Status === 'unhealthy', 5000);
  ok(['rm', '-f', 'h3']);
});

test("the image's HEALTHCHECK (kept by commit) is merged under the user's; --no-healthcheck turns it off", { skip }, async () => {
  ok(['create', '--name', 'base', '--health-cmd', 'test -e /etc/passwd', '--health-retries', '4', 'busybox', 'sleep', '1000']);
  ok(['commit', 'base', 'healthy-box:1']);
  ok(['rm', 'base']);
  assert.match(
    ok(['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', 'healthy-box:1']),
    /"Test":\["CMD-SHELL","test -e \/etc\/passwd"\]/,
  );
  ok(['run', '-d', '--name', 'h4', '--health-interval', '150ms', 'healthy-box:1']);
  const hc = JSON.parse(ok(['inspect', '--format', '{{json .Config.Healthcheck}}', 'h4']));
  assert.deepEqual(hc.Test, ['CMD-SHELL', 'test -e /etc/passwd']);
  assert.equal(hc.Interval, 150_000_000);
  assert.equal(hc.Retries, 4);
  await until(() => health('h4').Status === 'healthy', 5000);
  ok(['run', '-d', '--name', 'h5', '--no-healthcheck', 'healthy-box:1']);
  assert.equal(ok(['inspect', '--format', '{{json .State.Health}}', 'h5']), 'null');
  assert.match(psStatus('h5'), /^Up [^(]*$/);
  ok(['rm', '-f', 'h4', 'h5']);
  ok(['rmi', 'healthy-box:1']);
});

test('dockerode: CMD health checks turning healthy and unhealthy; bad ones are 400s', async () => {
  const c = await dockerode.createContainer({
    Image: 'busybox',
    Cmd: ['sleep', '1000'],
    Healthcheck: { Test: ['CMD', 'true'], Interval: 100e6, Retries: 1 },
  });
  await c.start();
  await until(async () => (await c.inspect()).State.Health?.Status === 'healthy', 5000);
  await c.remove({ force: true });
  const u = await dockerode.createContainer({
    Image: 'busybox',
    Cmd: ['sleep', '1000'],
    Healthcheck: { Test: ['CMD', 'false'], Interval: 100e6, Retries: 2 },
  });
  await u.start();
  await until(async () => (await u.inspect()).State.Health?.Status === 'unhealthy', 5000);
  const h = (await u.inspect()).State.Health!;
  assert.equal(h.FailingStreak >= 2, true);
  assert.equal(h.Log?.[0].ExitCode, 1);
  await u.remove({ force: true });
  await assert.rejects(
    dockerode.createContainer({ Image: 'busybox', Healthcheck: { Test: ['CMD', 'true'], Interval: 10 } }),
    (e: any) => e.statusCode === 400 && /Interval in Healthcheck cannot be less than 1ms/.test(e.message),
  );
});

test('probes resume when a new berthd adopts the container', { skip }, async () => {
  ok([
    'run',
    '-d',
    '--name',
    'h6',
    '--health-cmd',
    'test -e /tmp/ok',
    '--health-interval',
    '150ms',
    '--health-retries',
    '1',
    'busybox',
    'sleep',
    '1000',
  ]);
  await until(() => health('h6').Status === 'unhealthy', 5000);
  await eng.restart('SIGKILL');
  assert.equal(health('h6').Status, 'unhealthy');
  ok(['exec', 'h6', 'touch', '/tmp/ok']);
  await until(() => health('h6').Status === 'healthy', 5000);
  ok(['rm', '-f', 'h6']);
});

test("Debian's docker 20.10 shows the health in ps and inspect", { skip: noDocker20 }, async () => {
  ok(['run', '-d', '--name', 'h7', '--health-cmd', 'true', '--health-interval', '100ms', 'busybox', 'sleep', '1000'], DOCKER_20);
  await until(() => /\(healthy\)$/.test(psStatus('h7', DOCKER_20)), 5000);
  assert.equal(ok(['inspect', '--format', '{{.State.Health.Status}}', 'h7'], DOCKER_20), 'healthy');
  ok(['rm', '-f', 'h7'], DOCKER_20);
});

test(
  'HealthOnFailure kill (Kubernetes liveness): an unhealthy container is killed and its restart policy starts it again; bad values are 400s',
  { skip },
  async () => {
    const create = (body: object) => eng.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '1000'], ...body });
    const hc = { Test: ['CMD', 'false'], Interval: 200e6, Retries: 1 };
    const bad = await create({ Healthcheck: hc, HealthOnFailure: 'restart-it' });
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).message, 'invalid HealthOnFailure "restart-it": berth has none and kill');
    const none = await create({ HealthOnFailure: 'kill' });
    assert.equal(none.status, 400);
    assert.equal(JSON.parse(none.body).message, 'HealthOnFailure kill needs a health check');

    const r = await create({ Healthcheck: hc, HealthOnFailure: 'kill', HostConfig: { RestartPolicy: { Name: 'always' } } });
    assert.equal(r.status, 201, r.body);
    const { Id } = JSON.parse(r.body) as { Id: string };
    try {
      assert.equal((await eng.api('POST', `/containers/${Id}/start`)).status, 204);
      const inspect = async () => JSON.parse((await eng.api('GET', `/containers/${Id}/json`)).body);
      await until(async () => (await inspect()).RestartCount >= 1, 20_000);
      const c = await inspect();
      assert.equal(c.Config.HealthOnFailure, 'kill');
      // Killed (SIGKILL, its exit 137), not stopped by a user: the policy started it again.
      const now = Math.ceil(Date.now() / 1000) + 1;
      const events = (
        await eng.api('GET', `/events?since=0&until=${now}&filters=${encodeURIComponent(JSON.stringify({ container: [Id] }))}`)
      ).body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { Action: string; Actor: { Attributes: Record<string, string> } });
      const order = events.map((e) => e.Action).filter((a) => ['health_status: unhealthy', 'kill', 'die', 'start'].includes(a));
      assert.deepEqual(order.slice(0, 5), ['start', 'health_status: unhealthy', 'kill', 'die', 'start']);
      assert.equal(events.find((e) => e.Action === 'kill')!.Actor.Attributes.signal, '9');
      assert.equal(events.find((e) => e.Action === 'die')!.Actor.Attributes.exitCode, '137');
    } finally {
      await eng.api('DELETE', `/containers/${Id}?force=1`);
    }
  },
);
