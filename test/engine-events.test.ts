// Events: `docker events --since … --until …` (28 and 20.10) and dockerode's getEvents replay
// what containers went through (create, attach, start, exec_*, kill, die, stop, destroy) in
// Docker's message shape; a live stream sees what happens next; filters narrow both.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import Docker from 'dockerode';
import { DOCKER, noDocker20, DOCKER_20, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
let dockerode: Docker;
const noDocker = !existsSync(DOCKER) && 'no docker CLI';

function docker(args: string[], bin = DOCKER) {
  return eng.docker(args, { bin });
}

/** Unix seconds with nanoseconds, as the docker CLI sends them. */
const stamp = () => (Date.now() / 1000).toFixed(9);

let t0: string, t1: string;
let id: string;
before(async () => {
  eng = await startEngine();
  dockerode = new Docker({ socketPath: eng.socket });
  assert.equal((await eng.api('POST', '/images/create?fromImage=busybox&tag=latest')).status, 200);
  await new Promise((r) => setTimeout(r, 10));
  t0 = stamp();
  // One container's life: run, exec, stop (kill 15 → die → stop), start, kill, rm.
  const r = docker(['run', '-d', '--name', 'ev1', '--label', 'tier=front', 'busybox', 'sleep', '1000']);
  assert.equal(r.status, 0, r.stderr);
  id = r.stdout.trim();
  assert.equal(docker(['exec', 'ev1', 'sh', '-c', 'exit 4']).status, 4);
  // sleep as PID 1 ignores SIGTERM: after 1 s comes SIGKILL.
  assert.equal(docker(['stop', '-t', '1', 'ev1']).status, 0);
  assert.equal(docker(['start', 'ev1']).status, 0);
  assert.equal(docker(['kill', 'ev1']).status, 0);
  assert.equal(docker(['wait', 'ev1']).stdout.trim(), '137');
  assert.equal(docker(['rm', 'ev1']).status, 0);
  // And one that is not filtered in below.
  const ev2 = docker(['run', '--rm', '--name', 'ev2', 'busybox', 'sh', '-c', 'exit 3']);
  assert.equal(ev2.status, 3, ev2.stderr);
  await new Promise((r) => setTimeout(r, 10));
  t1 = stamp();
});
after(async () => {
  await eng?.stop();
});

const EXPECTED = [
  'create ev1 ',
  'start ev1 ',
  'exec_create: sh -c exit 4 ev1 ',
  'exec_start: sh -c exit 4 ev1 ',
  'exec_die ev1 4',
  'kill ev1 ',
  'kill ev1 ',
  'die ev1 137',
  'stop ev1 ',
  'start ev1 ',
  'kill ev1 ',
  'die ev1 137',
  'destroy ev1 ',
];

test("docker events --since --until replays a container's life and ends", { skip: noDocker }, () => {
  const r = docker([
    'events',
    '--since',
    t0,
    '--until',
    t1,
    '--filter',
    'container=ev1',
    '--format',
    '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(
    lines.map((l) => l.replace(' <no value>', '')),
    EXPECTED.map((l) => l.trimEnd()),
    r.stdout,
  );
  // Docker's kill attribute is the signal's number: stop's SIGTERM, its SIGKILL after the timeout, kill's.
  const kills = docker(['events', '--since', t0, '--until', t1, '--filter', 'event=kill', '--format', '{{.Actor.Attributes.signal}}']);
  assert.deepEqual(kills.stdout.trim().split('\n'), ['15', '9', '9']);
  // Every container event carries the name, the image and the labels; JSON has Docker's shape.
  const json = docker([
    'events',
    '--since',
    t0,
    '--until',
    t1,
    '--filter',
    'event=create',
    '--filter',
    'label=tier=front',
    '--format',
    '{{json .}}',
  ]);
  const ev = JSON.parse(json.stdout.trim());
  assert.equal(ev.Type, 'container');
  assert.equal(ev.Action, 'create');
  assert.equal(ev.status, 'create');
  assert.equal(ev.id, id);
  assert.equal(ev.from, 'busybox');
  assert.equal(ev.scope, 'local');
  assert.deepEqual(ev.Actor, { ID: id, Attributes: { image: 'busybox', name: 'ev1', tier: 'front' } });
  assert.equal(ev.time, Math.floor(ev.timeNano / 1e9));
  // ev2 has no label, so only ev1's create passes.
  assert.equal(json.stdout.trim().split('\n').length, 1);
});

test('docker events filters: type, event with a suffix, image; a bad filter is a 400', { skip: noDocker }, () => {
  const f = (...args: string[]) =>
    docker(['events', '--since', t0, '--until', t1, ...args, '--format', '{{.Action}} {{.Actor.Attributes.name}}'])
      .stdout.trim()
      .split('\n');
  assert.deepEqual(f('--filter', 'event=exec_create'), ['exec_create: sh -c exit 4 ev1']);
  assert.deepEqual(f('--filter', 'container=ev2', '--filter', 'event=die'), ['die ev2']);
  assert.deepEqual(f('--filter', 'type=volume'), ['']);
  assert.equal(f('--filter', 'image=busybox', '--filter', 'event=create').length, 2);
  const bad = docker(['events', '--since', t0, '--until', t1, '--filter', 'colour=red']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /Invalid filter 'colour'/);
});

test("Debian's docker 20.10 reads the same events", { skip: noDocker20 }, () => {
  const r = docker(['events', '--since', t0, '--until', t1, '--filter', 'container=ev1', '--format', '{{.Status}} {{.ID}}'], DOCKER_20);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, EXPECTED.length);
  assert.equal(lines[0], `create ${id}`);
  assert.equal(lines.at(-1), `destroy ${id}`);
});

test('volume events: create, mount, unmount, destroy and prune; filters by volume name', { skip: noDocker }, () => {
  const v0 = stamp();
  assert.equal(docker(['volume', 'create', 'evvol']).status, 0);
  assert.equal(docker(['run', '--rm', '-v', 'evvol:/data', 'busybox', 'true']).status, 0);
  assert.equal(docker(['volume', 'rm', 'evvol']).status, 0);
  assert.equal(docker(['volume', 'prune', '-f']).status, 0);
  const v1 = stamp();
  const evs = docker([
    'events',
    '--since',
    v0,
    '--until',
    v1,
    '--filter',
    'volume=evvol',
    '--format',
    '{{.Type}} {{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "destination"}} {{index .Actor.Attributes "read/write"}}',
  ]);
  assert.deepEqual(
    evs.stdout
      .trim()
      .split('\n')
      .map((l) => l.trimEnd()),
    // The run names the volume: its create is told again, as dockerd tells it.
    ['volume create evvol', 'volume create evvol', 'volume mount evvol /data true', 'volume unmount evvol', 'volume destroy evvol'],
  );
  const prune = docker([
    'events',
    '--since',
    v0,
    '--until',
    v1,
    '--filter',
    'type=volume',
    '--filter',
    'event=prune',
    '--format',
    '{{.Actor.Attributes.reclaimed}}',
  ]);
  assert.match(prune.stdout.trim(), /^\d+$/);
});

test('dockerode getEvents: replay with filters, then a live stream that sees new events', async () => {
  const since = Number(t0),
    until2 = Number(t1);
  const replay = (await dockerode.getEvents({ since, until: until2, filters: { container: ['ev2'] } })) as unknown as NodeJS.ReadableStream;
  let text = '';
  for await (const c of replay) text += c.toString();
  assert.deepEqual(
    text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).Action),
    ['create', 'attach', 'start', 'die', 'destroy'],
  );

  const live = (await dockerode.getEvents({
    filters: { type: ['container'], event: ['create', 'destroy'] },
  })) as unknown as NodeJS.ReadableStream & { destroy(): void };
  const seen: any[] = [];
  let buf = '';
  live.on('data', (c: Buffer) => {
    buf += c.toString();
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) seen.push(JSON.parse(buf.slice(0, i)));
  });
  const c = await dockerode.createContainer({ Image: 'busybox', Cmd: ['true'], name: 'ev3' });
  await c.remove();
  await until(() => seen.length >= 2, 5000);
  live.destroy();
  assert.deepEqual(
    seen.map((e) => `${e.Action} ${e.Actor.Attributes.name}`),
    ['create ev3', 'destroy ev3'],
  );
  assert.equal(seen[0].id, c.id);
});

test('/events: since after until is a 400; a future until ends the stream when it comes', async () => {
  const bad = await eng.api('GET', `/events?since=${t1}&until=${t0}`);
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).message, /cannot be after/);
  const start = Date.now();
  const r = await eng.api(
    'GET',
    `/events?until=${((Date.now() + 300) / 1000).toFixed(3)}&filters=${encodeURIComponent('{"container":["nothing"]}')}`,
  );
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.body, '');
  assert.ok(Date.now() - start >= 250, `ended after ${Date.now() - start} ms`);
});
