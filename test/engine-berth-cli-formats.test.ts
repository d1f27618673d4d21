// logs --since/--until (durations, RFC 3339), stats' NET I/O, --format on network ls, volume ls
// and the inspects, inspect finding networks and volumes, and template errors: the berth CLI
// beside the docker 28 CLI, both against one berthd, where their output can be compared.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BERTH, DOCKER, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
const hasDocker = existsSync(DOCKER);

function cli(bin: string, args: string[]) {
  const r = spawnSync(bin, args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: eng.host },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const berth = (...args: string[]) => cli(BERTH, args);
/** berth's answer, checked to be docker's too (its name aside) where docker is here. */
function both(...args: string[]) {
  const b = berth(...args);
  if (hasDocker) {
    const d = cli(DOCKER, args);
    assert.deepEqual(b, { ...d, stderr: d.stderr.replace(/docker/g, 'berth') }, `docker ${args.join(' ')}`);
  }
  return b;
}

before(async () => {
  eng = await startEngine();
  assert.equal(berth('pull', 'busybox').status, 0);
});
after(async () => {
  await eng?.stop();
});

test('logs --since and --until take durations and RFC 3339 dates as docker does', async () => {
  assert.equal(berth('run', '--name', 'talker', 'busybox', 'sh', '-c', 'echo one; sleep 2; echo two').status, 0);
  const stamped = berth('logs', '-t', 'talker')
    .stdout.trim()
    .split('\n')
    .map((l) => l.split(' '));
  assert.deepEqual(
    stamped.map(([, line]) => line),
    ['one', 'two'],
  );
  const [t1, t2] = stamped.map(([t]) => t);
  // Between the two lines (2 s apart): RFC 3339 with a zone, and with a fraction.
  const mid = new Date(Date.parse(t1) + 1000).toISOString();
  assert.ok(Date.parse(mid) < Date.parse(t2));
  assert.equal(both('logs', '--since', mid, 'talker').stdout, 'two\n');
  assert.equal(both('logs', '--until', mid.replace('Z', '+00:00'), 'talker').stdout, 'one\n');
  assert.equal(both('logs', '--since', '1h', 'talker').stdout, 'one\ntwo\n');
  assert.equal(both('logs', '--until', '1h', 'talker').stdout, '');
  const bad = berth('logs', '--since', 'yesterday', 'talker');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /failed to parse value as time or duration: "yesterday"/);
  assert.equal(berth('rm', 'talker').status, 0);
});

test('stats shows the network bytes the API reports in NET I/O', async () => {
  assert.equal(
    berth('run', '-d', '--name', 'pinger', 'busybox', 'sh', '-c', 'ping -c 3 -i 0.2 $(ip route | awk "/default/ {print \\$3}"); sleep 60')
      .status,
    0,
  );
  let net = '';
  await until(() => {
    net = berth('stats', '--no-stream', '--format', '{{.NetIO}}', 'pinger').stdout.trim();
    return net !== '0B / 0B';
  }, 15_000);
  assert.match(net, /^\d+(\.\d+)?k?B \/ \d+(\.\d+)?k?B$/);
  assert.equal(berth('rm', '-f', 'pinger').status, 0);
});

test('network ls, volume ls and the inspects take --format; inspect finds networks and volumes', async () => {
  assert.equal(berth('network', 'create', '--label', 'k=v', 'fmtnet').status, 0);
  assert.equal(berth('volume', 'create', '--label', 'k=v', 'fmtvol').status, 0);
  const nets = both('network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}} {{.Labels}}', '--filter', 'name=fmtnet');
  assert.equal(nets.stdout, 'fmtnet bridge local false k=v\n');
  assert.equal(
    both('network', 'ls', '--format', 'table {{.Name}}\t{{.Driver}}', '-f', 'name=fmtnet')
      .stdout.split('\n')[0]
      .trim()
      .split(/\s+/)
      .join(' '),
    'NAME DRIVER',
  );
  assert.equal(both('network', 'ls', '-q', '--filter', 'name=fmtnet').stdout.length, 13);
  both('network', 'ls', '--format', '{{json .}}', '--filter', 'name=fmtnet');
  assert.equal(
    both('volume', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}} {{.Label "k"}}', '--filter', 'name=fmtvol').stdout,
    'fmtvol local local k=v v\n',
  );
  both('volume', 'ls', '--format', 'json', '--filter', 'name=fmtvol');
  assert.equal(both('network', 'inspect', '--format', '{{.Name}} {{.Driver}}', 'fmtnet').stdout, 'fmtnet bridge\n');
  assert.equal(both('volume', 'inspect', '-f', '{{.Name}} {{.Driver}}', 'fmtvol').stdout, 'fmtvol local\n');
  assert.equal(both('image', 'inspect', '-f', '{{.Os}}', 'busybox').stdout, 'linux\n');
  assert.equal(both('inspect', '-f', '{{.Name}}', 'fmtnet', 'fmtvol').stdout, 'fmtnet\nfmtvol\n');
  assert.equal(both('inspect', '--type', 'network', '-f', '{{.Name}}', 'fmtnet').stdout, 'fmtnet\n');
  for (const args of [
    ['inspect', 'nosuch'],
    ['network', 'inspect', 'nosuch'],
    ['volume', 'inspect', 'nosuch'],
    ['image', 'inspect', 'nosuch'],
  ]) {
    const r = both(...args);
    assert.equal(r.status, 1, args.join(' '));
  }
  assert.equal(berth('network', 'rm', 'fmtnet').status, 0);
  assert.equal(berth('volume', 'rm', 'fmtvol').status, 0);
});

test("a template naming a field a row lacks fails as docker's: images, ps, network ls", () => {
  for (const args of [
    ['images', '--format', '{{.Bad}}'],
    ['ps', '-a', '--format', '{{.Bad}}'],
    ['network', 'ls', '--format', '{{.Bad}}'],
  ]) {
    const r = berth(...args);
    assert.equal(r.status, 1, args.join(' '));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /can't evaluate field Bad/);
    if (hasDocker) assert.equal(cli(DOCKER, args).status, 1, args.join(' '));
  }
});

test("history --format: docker's fields, table, json and -H=false, as docker prints them", () => {
  for (const format of [
    '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}',
    'table {{.ID}}\t{{.CreatedSince}}\t{{.Size}}',
    'table',
    '{{.CreatedAt}} {{.CreatedSince}}',
    'json',
  ]) {
    assert.equal(both('history', '--format', format, 'busybox').status, 0, format);
    assert.equal(both('history', '--no-trunc', '-H=false', '--format', format, 'busybox').status, 0, format);
  }
  const bad = berth('history', '--format', '{{.Bad}}', 'busybox');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /can't evaluate field Bad/);
});
