// The berth CLI on the same lifecycle scenarios as docker's: run with --restart, health flags,
// --stop-signal/--stop-timeout; pause, unpause, rename, update, restart; events with
// --since/--until, filters and --format '{{json .}}'.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BERTH, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;

function berth(...args: string[]) {
  const r = spawnSync(process.execPath, [BERTH, '-H', eng.host, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const ok = (...args: string[]) => {
  const r = berth(...args);
  assert.equal(r.status, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
const inspect = async (name: string) => JSON.parse((await eng.api('GET', `/containers/${name}/json`)).body);
const stamp = () => (Date.now() / 1000).toFixed(9);

before(async () => {
  eng = await startEngine();
  assert.equal((await eng.api('POST', '/images/create?fromImage=busybox&tag=latest')).status, 200);
});
after(async () => {
  await eng?.stop();
});

test('berth run --restart on-failure:1 and the health flags', async () => {
  ok('run', '-d', '--name', 'b1', '--restart', 'on-failure:1', 'busybox', 'sh', '-c', 'exit 3');
  await until(async () => {
    const c = await inspect('b1');
    return c.State.Status === 'exited' && c.RestartCount === 1;
  });
  assert.deepEqual((await inspect('b1')).HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 1 });
  ok(
    'run',
    '-d',
    '--name',
    'b2',
    '--health-cmd',
    'true',
    '--health-interval',
    '100ms',
    '--health-retries',
    '2',
    'busybox',
    'sleep',
    '1000',
  );
  assert.deepEqual((await inspect('b2')).Config.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 100_000_000, Retries: 2 });
  await until(async () => (await inspect('b2')).State.Health?.Status === 'healthy', 5000);
  assert.match(ok('ps'), /\(healthy\)/);
  ok(
    'run',
    '-d',
    '--name',
    'b7',
    '--health-cmd',
    'exit 1',
    '--health-interval',
    '100ms',
    '--health-retries',
    '2',
    'busybox',
    'sleep',
    '1000',
  );
  await until(async () => (await inspect('b7')).State.Health?.Status === 'unhealthy', 5000);
  assert.match(ok('ps'), /\(unhealthy\)/);
  ok('rm', '-f', 'b7');
  const bad = berth('run', '-d', '--health-interval', 'soon', 'busybox', 'true');
  assert.equal(bad.status, 125);
  assert.match(bad.stderr, /invalid duration "soon"/);
  ok('rm', '-f', 'b1', 'b2');
});

test('berth run --stop-signal and --stop-timeout; berth stop honours them', async () => {
  ok(
    'run',
    '-d',
    '--name',
    'b3',
    '--stop-signal',
    'USR1',
    '--stop-timeout',
    '1',
    'busybox',
    'sh',
    '-c',
    'trap "exit 10" USR1; while :; do sleep 0.1; done',
  );
  const c = await inspect('b3');
  assert.equal(c.Config.StopSignal, 'USR1');
  assert.equal(c.Config.StopTimeout, 1);
  ok('stop', 'b3');
  assert.equal((await inspect('b3')).State.ExitCode, 10);
  ok('rm', 'b3');
});

test('berth pause, unpause, rename, update, restart', async () => {
  ok('run', '-d', '--name', 'b4', 'busybox', 'sleep', '1000');
  assert.equal(ok('pause', 'b4'), 'b4');
  assert.equal((await inspect('b4')).State.Status, 'paused');
  const again = berth('pause', 'b4');
  assert.equal(again.status, 1);
  assert.match(again.stderr, /^Error response from daemon: Container [0-9a-f]{64} is already paused\n$/);
  assert.equal(ok('unpause', 'b4'), 'b4');
  ok('rename', 'b4', 'b5');
  assert.equal((await inspect('b5')).Name, '/b5');
  assert.equal(
    ok('update', '--memory', '64m', '--memory-swap', '128m', '--cpus', '0.5', '--pids-limit', '20', '--restart', 'always', 'b5'),
    'b5',
  );
  const hc = (await inspect('b5')).HostConfig;
  assert.deepEqual([hc.Memory, hc.MemorySwap, hc.NanoCpus, hc.PidsLimit, hc.RestartPolicy.Name], [64 << 20, 128 << 20, 5e8, 20, 'always']);
  const pid = (await inspect('b5')).State.Pid;
  const memCg = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1]?.split(',').includes('memory'));
  if (memCg)
    assert.equal(readFileSync(`/sys/fs/cgroup/memory${memCg.split(':')[2]}/memory.limit_in_bytes`, 'utf8').trim(), String(64 << 20));
  assert.match(berth('update', 'b5').stderr, /you must provide one or more flags/);
  ok('restart', '-t', '0', 'b5');
  assert.notEqual((await inspect('b5')).State.Pid, pid);
  ok('rm', '-f', 'b5');
});

test("berth events: the default line, filters, --format '{{json .}}', a relative --since", () => {
  const t0 = stamp();
  ok('run', '--name', 'b6', '--label', 'k=v', 'busybox', 'true');
  ok('rm', 'b6');
  const t1 = stamp();
  const out = ok('events', '--since', t0, '--until', t1, '--filter', 'container=b6');
  const lines = out.split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(' ').slice(1, 3).join(' ')),
    ['container create', 'container attach', 'container start', 'container die', 'container destroy'],
  );
  assert.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container create [0-9a-f]{64} \(image=busybox, k=v, name=b6\)$/);
  assert.match(lines[3], /\(execDuration=\d+, exitCode=0, image=busybox, k=v, name=b6\)$/);
  const json = ok('events', '--since', t0, '--until', t1, '-f', 'event=die', '--format', '{{json .}}');
  assert.equal(JSON.parse(json).Actor.Attributes.exitCode, '0');
  // A duration is before now: the last minute holds these events too.
  assert.match(ok('events', '--since', '1m', '--until', stamp(), '-f', 'event=destroy'), /container destroy .*name=b6/);
  assert.equal(
    ok('events', '--format', '{{.Action}} {{.Actor.Attributes.name}}', '--since', t0, '--until', t1, '-f', 'event=start'),
    'start b6',
  );
});
