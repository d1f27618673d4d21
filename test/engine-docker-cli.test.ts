// The real docker CLI (28.x, API 1.50) against a private berthd: the same scenarios as the
// berth CLI's — version and info, pull, images, run --rm (output, exit code), run -d with
// logs, ps, inspect, stop, kill and rm, rmi.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
});
after(async () => {
  await eng?.stop();
});

function docker(...args: string[]) {
  return eng.docker(args);
}

test('docker version and info', { skip: !existsSync(DOCKER) && 'no docker CLI' }, () => {
  const v = docker('version', '--format', '{{.Server.Platform.Name}} {{.Server.Version}} {{.Server.APIVersion}} {{.Client.APIVersion}}');
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), 'berth 0.1.0 1.50 1.50');
  const i = docker('info', '--format', '{{.ServerVersion}} {{.OSType}} {{.LoggingDriver}} {{.Containers}}');
  assert.equal(i.status, 0, i.stderr);
  assert.equal(i.stdout.trim(), '0.1.0 linux json-file 0');
});

test('docker pull, images, rmi', { skip: !existsSync(DOCKER) && 'no docker CLI' }, () => {
  const p = docker('pull', 'busybox');
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /Status: Downloaded newer image for busybox:latest/);
  assert.match(p.stdout, /Digest: sha256:[0-9a-f]{64}/);
  const d = docker('pull', eng.directImage);
  assert.equal(d.status, 0, d.stderr);
  const imgs = docker('images', '--format', '{{.Repository}}:{{.Tag}}');
  assert.deepEqual(imgs.stdout.trim().split('\n').sort(), [eng.directImage, 'busybox:latest'].sort());
  const id = docker('image', 'inspect', '--format', '{{.Id}} {{.Os}} {{json .Config.Cmd}}', 'busybox');
  assert.match(id.stdout.trim(), /^sha256:[0-9a-f]{64} linux \["\/bin\/sh"\]$/);
  const rmi = docker('rmi', eng.directImage);
  assert.equal(rmi.status, 0, rmi.stderr);
  assert.match(rmi.stdout, new RegExp(`Untagged: ${eng.directImage.replace(/\./g, '\\.')}`));
  assert.equal(docker('images', '-q').stdout.trim().split('\n').length, 1);
  const missing = docker('rmi', 'no-such-image');
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /No such image: no-such-image/);
});

test('docker run --rm: output, stderr and exit code', { skip: !existsSync(DOCKER) && 'no docker CLI' }, () => {
  const r = docker('run', '--rm', 'busybox', 'echo', 'hello');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'hello\n');
  const e = docker('run', '--rm', '-e', 'X=1', '-w', '/tmp', 'busybox', 'sh', '-c', 'echo out $X $(pwd); echo err >&2; exit 7');
  assert.equal(e.status, 7);
  assert.equal(e.stdout, 'out 1 /tmp\n');
  assert.equal(e.stderr, 'err\n');
  assert.equal(docker('ps', '-aq').stdout, '');
});

test('docker run -i passes stdin, and its end, to the container', { skip: !existsSync(DOCKER) && 'no docker CLI' }, () => {
  const r = spawnSync(DOCKER, ['run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo done'], {
    encoding: 'utf8',
    timeout: 30_000,
    input: 'one\ntwo\n',
    env: { ...process.env, DOCKER_HOST: eng.host, DOCKER_CONFIG: join(eng.dir, 'docker-config') },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'one\ntwo\ndone\n');
});

test('docker run -d, logs, ps, inspect, stop, kill, rm', { skip: !existsSync(DOCKER) && 'no docker CLI' }, async () => {
  const d = docker('run', '-d', '--name', 'web', '--label', 'app=berth', 'busybox', 'sh', '-c', 'echo started; sleep 100');
  assert.equal(d.status, 0, d.stderr);
  const id = d.stdout.trim();
  await until(() => docker('logs', 'web').stdout === 'started\n');
  const ps = docker('ps', '--format', '{{.ID}} {{.Names}} {{.Image}} {{.State}} {{.Labels}}');
  assert.equal(ps.stdout.trim(), `${id.slice(0, 12)} web busybox running app=berth`);
  const ins = docker(
    'inspect',
    '--format',
    '{{.Name}} {{.State.Status}} {{.State.Running}} {{.Config.Image}} {{.Path}} {{json .Args}}',
    'web',
  );
  assert.equal(ins.stdout.trim(), '/web running true busybox sh ["-c","echo started; sleep 100"]');
  assert.match(docker('inspect', '--format', '{{.State.Pid}}', 'web').stdout.trim(), /^[1-9]\d*$/);
  const t0 = Date.now();
  const s = docker('stop', '-t', '1', 'web');
  assert.equal(s.status, 0, s.stderr);
  assert.ok(Date.now() - t0 < 8000, 'stop -t 1 kills after a second');
  assert.equal(docker('inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'web').stdout.trim(), 'exited 137');
  assert.match(docker('ps', '-a', '--format', '{{.Status}}').stdout, /^Exited \(137\)/);
  const again = docker('stop', 'web');
  assert.equal(again.status, 0, 'stopping a stopped container is not an error');
  assert.equal(docker('rm', 'web').status, 0);

  const k = docker('run', '-d', 'busybox', 'sleep', '100').stdout.trim();
  // sleep as the namespace's init ignores SIGTERM (no handler), as under docker: kill's default is SIGKILL.
  const kr = docker('kill', k);
  assert.equal(kr.status, 0, kr.stderr);
  await until(() => docker('inspect', '--format', '{{.State.Status}}', k).stdout.trim() === 'exited');
  assert.equal(docker('inspect', '--format', '{{.State.ExitCode}}', k).stdout.trim(), '137');
  const notRunning = docker('kill', k);
  assert.notEqual(notRunning.status, 0);
  assert.match(notRunning.stderr, /is not running/);
  assert.equal(docker('rm', k).status, 0);

  const busy = docker('run', '-d', 'busybox', 'sleep', '100').stdout.trim();
  const refused = docker('rm', busy);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /stop the container before removing or force remove/);
  assert.equal(docker('rm', '-f', busy).status, 0);
  assert.equal(docker('ps', '-aq').stdout, '');
});

test('docker logs -f follows and ends with the container', { skip: !existsSync(DOCKER) && 'no docker CLI' }, () => {
  const id = docker('run', '-d', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo n$i; sleep 0.2; done; echo bye >&2').stdout.trim();
  const f = docker('logs', '-f', '-t', id);
  assert.equal(f.status, 0, f.stderr);
  assert.match(f.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z n1\n.*n2\n.*n3\n$/);
  assert.match(f.stderr, /Z bye\n$/);
  const tail = docker('logs', '--tail', '2', id); // the last two lines of both streams
  assert.equal(tail.stdout, 'n3\n');
  assert.equal(tail.stderr, 'bye\n');
  assert.equal(docker('rm', id).status, 0);
});

test('docker run of a missing command exits 127, --rm still removes', { skip: !existsSync(DOCKER) && 'no docker CLI' }, () => {
  const r = docker('run', '--rm', 'busybox', 'nosuchcmd');
  assert.equal(r.status, 127, r.stderr);
  assert.match(r.stderr, /executable file not found/);
  assert.equal(docker('ps', '-aq').stdout, '');
});

test('docker run of a missing image reports it', { skip: !existsSync(DOCKER) && 'no docker CLI' }, () => {
  const r = docker('run', '--rm', 'no-such-image-here');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /Unable to find image 'no-such-image-here:latest' locally/);
});

test('docker run --log-opt max-size/max-file rotates the json-file log', { skip: !existsSync(DOCKER) && 'no docker CLI' }, async () => {
  const id = docker(
    'run',
    '-d',
    '--log-opt',
    'max-size=2k',
    '--log-opt',
    'max-file=2',
    'busybox',
    'sh',
    '-c',
    'i=0; while [ $i -lt 300 ]; do echo "line $i of the output"; i=$((i+1)); done',
  ).stdout.trim();
  await until(() => docker('inspect', '--format', '{{.State.Status}}', id).stdout.trim() === 'exited');
  assert.equal(docker('inspect', '--format', '{{index .HostConfig.LogConfig.Config "max-size"}}', id).stdout.trim(), '2k');
  const lines = docker('logs', id).stdout.trim().split('\n');
  assert.equal(lines.at(-1), 'line 299 of the output');
  assert.ok(lines.length < 300 && lines.length > 20, `${lines.length} lines kept`);
  for (let i = 1; i < lines.length; i++)
    assert.equal(Number(lines[i].split(' ')[1]), Number(lines[i - 1].split(' ')[1]) + 1, 'in order, none missing');
  assert.equal(docker('rm', id).status, 0);
});
