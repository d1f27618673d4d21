// dockerode against a private berthd: the same scenarios as the CLIs' — version and info,
// pull with progress, images, run (output demultiplexed, exit code), a detached container
// with logs, list, inspect, stop and remove, image removal — plus a non-hijacked attach.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
let docker: Docker;
before(async () => {
  eng = await startEngine();
  docker = new Docker({ socketPath: eng.socket });
});
after(async () => {
  await eng?.stop();
});

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

async function pull(name: string): Promise<any[]> {
  const stream = await docker.pull(name);
  return new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: any[]) => (err ? reject(err) : resolve(out))),
  );
}

test('version, info, ping', async () => {
  const v = await docker.version();
  assert.equal(v.ApiVersion, '1.50');
  assert.equal(v.Os, 'linux');
  const info = await docker.info();
  assert.equal(info.OSType, 'linux');
  assert.equal(info.LoggingDriver, 'json-file');
  assert.equal(String(await docker.ping()), 'OK');
});

test('pull with progress, list and inspect images, remove one', async () => {
  const events = await pull('busybox:latest');
  assert.ok(events.some((e) => e.status === 'Pull complete'));
  assert.match(events.at(-1).status, /^Status: (Downloaded newer image|Image is up to date) for busybox:latest$/);
  await pull(eng.directImage);
  const list = await docker.listImages();
  assert.ok(list.some((i) => i.RepoTags?.includes('busybox:latest')));
  assert.ok(list.some((i) => i.RepoTags?.includes(eng.directImage)));
  const img = await docker.getImage('busybox').inspect();
  assert.match(img.Id, /^sha256:/);
  assert.deepEqual(img.Config.Cmd, ['/bin/sh']);
  const removed = await docker.getImage(eng.directImage).remove();
  assert.deepEqual(removed, [{ Untagged: eng.directImage }]);
  await assert.rejects(docker.getImage('no-such-image').inspect(), (e: any) => e.statusCode === 404);
});

test('run: demultiplexed output and the exit code', async () => {
  const out = collect(),
    err = collect();
  const [data, container] = await docker.run('busybox', ['sh', '-c', 'echo out; echo err >&2; exit 4'], [out.stream, err.stream], {
    Tty: false,
    HostConfig: { AutoRemove: false },
  });
  assert.equal(data.StatusCode, 4);
  assert.equal(out.text(), 'out\n');
  assert.equal(err.text(), 'err\n');
  const ins = await container.inspect();
  assert.equal(ins.State.Status, 'exited');
  assert.equal(ins.State.ExitCode, 4);
  await container.remove();
});

test('run with a terminal: raw output', async () => {
  const out = collect();
  const [data, container] = await docker.run('busybox', ['sh', '-c', 'test -t 1 && echo tty'], out.stream, { Tty: true });
  assert.equal(data.StatusCode, 0);
  assert.equal(out.text().replace(/\r/g, ''), 'tty\n');
  await container.remove();
});

test('detached: logs, list, inspect, stop, remove', async () => {
  const c = await docker.createContainer({
    Image: 'busybox',
    Cmd: ['sh', '-c', 'echo hello $FOO; sleep 100'],
    Env: ['FOO=bar'],
    WorkingDir: '/tmp',
    name: 'svc',
    Labels: { app: 'berth' },
    HostConfig: { Memory: 64 << 20, PidsLimit: 50 },
  });
  await c.start();
  await until(async () => (await c.logs({ stdout: true, stderr: true })).toString().includes('hello bar'));
  const logs = await c.logs({ stdout: true, stderr: true, timestamps: true });
  assert.match(logs.subarray(8).toString(), /^\d{4}-\d\d-\d\dT\S+Z hello bar\n$/);
  assert.equal(logs[0], 1, 'stdout frame');
  const list = await docker.listContainers({ filters: {} });
  const mine = list.find((x) => x.Id === c.id);
  assert.ok(mine);
  assert.deepEqual(mine.Names, ['/svc']);
  assert.equal(mine.State, 'running');
  assert.deepEqual(mine.Labels, { app: 'berth' });
  const ins = await c.inspect();
  assert.equal(ins.Name, '/svc');
  assert.equal(ins.State.Running, true);
  assert.ok(ins.State.Pid > 0);
  assert.equal(ins.Config.WorkingDir, '/tmp');
  assert.ok(ins.Config.Env.includes('FOO=bar'));
  assert.equal(ins.HostConfig.Memory, 64 << 20);
  assert.equal(ins.HostConfig.PidsLimit, 50);
  await assert.rejects(c.remove(), (e: any) => e.statusCode === 409);
  await c.stop({ t: 1 });
  const after = await c.inspect();
  assert.equal(after.State.Status, 'exited');
  assert.equal(after.State.ExitCode, 137);
  const waited = await c.wait();
  assert.equal(waited.StatusCode, 137);
  await c.remove();
  await assert.rejects(c.inspect(), (e: any) => e.statusCode === 404);
});

test('attach without hijacking streams the output', async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo one; echo two >&2'], Tty: false });
  const stream = await c.attach({ stream: true, stdout: true, stderr: true });
  const out = collect(),
    err = collect();
  c.modem.demuxStream(stream, out.stream, err.stream);
  const ended = new Promise((r) => stream.on('end', r));
  await c.start();
  await ended;
  assert.equal(out.text(), 'one\n');
  assert.equal(err.text(), 'two\n');
  assert.equal((await c.wait()).StatusCode, 0);
  await c.remove();
});

test('auto-removed container is gone after wait(removed)', async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['true'], HostConfig: { AutoRemove: true } });
  const waiting = c.wait({ condition: 'removed' });
  await c.start();
  assert.equal((await waiting).StatusCode, 0);
  await assert.rejects(c.inspect(), (e: any) => e.statusCode === 404);
});
