// The berth CLI against a private berthd: version and info, pull (through the daemon's
// mirror and by full name), images, run --rm with output and exit codes, a detached run with
// logs, ps, stop and rm, the fields of inspect, and docker 28's exit statuses for failures.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BERTH, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
});
after(async () => {
  await eng?.stop();
});

function berth(...args: string[]) {
  const r = spawnSync(BERTH, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('version and info name the daemon', () => {
  const v = berth('version');
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /Server: berth/);
  assert.match(v.stdout, /API version:\s+1\.50/);
  const i = berth('info');
  assert.equal(i.status, 0, i.stderr);
  assert.match(i.stdout, /Server Version: 0\.1\.0/);
  assert.match(i.stdout, new RegExp(`Registry Mirrors:\\n  ${eng.registry.url}`));
});

test('-H wins over BERTH_HOST', () => {
  const r = spawnSync(BERTH, ['-H', eng.host, 'version'], {
    encoding: 'utf8',
    env: { ...process.env, BERTH_HOST: 'unix:///nonexistent.sock' },
  });
  assert.equal(r.status, 0, r.stderr);
});

test('pull through the mirror and by full name; images lists both', () => {
  const p = berth('pull', 'busybox');
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /Status: Downloaded newer image for busybox:latest/);
  assert.match(berth('pull', 'busybox').stdout, /Image is up to date for busybox:latest/);
  const d = berth('pull', eng.directImage);
  assert.equal(d.status, 0, d.stderr);
  const imgs = berth('images');
  assert.match(imgs.stdout, /^busybox\s+latest\s+[0-9a-f]{12}/m);
  assert.match(imgs.stdout, new RegExp(`^${eng.directImage.replace(':latest', '').replace(/\./g, '\\.')}\\s+latest`, 'm'));
});

test("run --rm relays stdout and stderr and exits with the container's code", () => {
  const r = berth('run', '--rm', 'busybox', 'echo', 'hello');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'hello\n');
  const e = berth('run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3');
  assert.equal(e.status, 3);
  assert.equal(e.stdout, 'out\n');
  assert.equal(e.stderr, 'err\n');
  assert.equal(berth('ps', '-a', '-q').stdout, '', 'run --rm leaves no container');
});

test("the container has its own network namespace with lo up, its hostname, Docker's capabilities", () => {
  const r = berth(
    'run',
    '--rm',
    '--network',
    'none',
    'busybox',
    'sh',
    '-c',
    'cat /sys/class/net/lo/operstate; ls /sys/class/net; hostname; grep CapEff /proc/self/status',
  );
  assert.equal(r.status, 0, r.stderr);
  const [lo, ifaces, hostname, caps] = r.stdout.trim().split('\n');
  assert.equal(lo, 'unknown'); // lo's operstate when up
  assert.equal(ifaces, 'lo');
  assert.match(hostname, /^[0-9a-f]{12}$/);
  assert.match(caps, /CapEff:\s+00000000a80425fb/);
});

test('run -i passes stdin, and its end, to the container', () => {
  const r = spawnSync(BERTH, ['run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo done'], {
    encoding: 'utf8',
    timeout: 30_000,
    input: 'one\ntwo\n',
    env: { ...process.env, BERTH_HOST: eng.host },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'one\ntwo\ndone\n');
});

test("run --memory --cpus --pids-limit reach the container's cgroups", () => {
  // v1 (hybrid) hosts show each controller in its own folder, v2 one folder.
  const script =
    'for f in memory/memory.limit_in_bytes memory.max pids/pids.max pids.max cpu/cpu.cfs_quota_us cpu.max; do [ -e /sys/fs/cgroup/$f ] && cat /sys/fs/cgroup/$f; done; true';
  const r = berth('run', '--rm', '--memory', '64m', '--cpus', '0.5', '--pids-limit', '7', 'busybox', 'sh', '-c', script);
  assert.equal(r.status, 0, r.stderr);
  const v = r.stdout.trim().split('\n');
  assert.ok(v.includes(String(64 << 20)), r.stdout);
  assert.ok(v.includes('7'), r.stdout);
  assert.ok(v.includes('50000') || v.includes('50000 100000'), r.stdout);
});

test('run -e -w -u --entrypoint set the process', () => {
  const r = berth(
    'run',
    '--rm',
    '-e',
    'FOO=bar',
    '-w',
    '/tmp',
    '-u',
    'nobody',
    '--entrypoint',
    'sh',
    'busybox',
    '-c',
    'echo $FOO $(pwd) $(id -u)',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'bar /tmp 65534\n');
});

test('run -d, logs, ps, inspect, stop, rm', async () => {
  const d = berth('run', '-d', '--name', 'web', '-e', 'FOO=bar', 'busybox', 'sh', '-c', 'echo started $FOO; echo oops >&2; sleep 100');
  assert.equal(d.status, 0, d.stderr);
  const id = d.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  await until(() => berth('logs', 'web').stdout === 'started bar\n');
  assert.equal(berth('logs', 'web').stderr, 'oops\n');
  assert.match(
    berth('ps').stdout,
    new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'echo start…"|^${id.slice(0, 12)}\\s+busybox`, 'm'),
  );
  assert.match(berth('ps').stdout, /Up .*\s+web$/m);

  const c = JSON.parse((await eng.api('GET', '/containers/web/json')).body);
  assert.equal(c.Id, id);
  assert.equal(c.Name, '/web');
  assert.equal(c.State.Status, 'running');
  assert.equal(c.State.Running, true);
  assert.ok(c.State.Pid > 0);
  assert.match(c.State.StartedAt, /^\d{4}-/);
  assert.equal(c.Path, 'sh');
  assert.deepEqual(c.Args, ['-c', 'echo started $FOO; echo oops >&2; sleep 100']);
  assert.ok(c.Config.Env.includes('FOO=bar'));
  assert.equal(c.Config.Image, 'busybox');
  assert.match(c.Image, /^sha256:[0-9a-f]{64}$/);
  assert.equal(c.HostConfig.AutoRemove, false);

  const s = berth('stop', '-t', '1', 'web');
  assert.equal(s.status, 0, s.stderr);
  assert.match(berth('ps', '-a').stdout, /Exited \(137\)/);
  const st = JSON.parse((await eng.api('GET', '/containers/web/json')).body).State;
  assert.equal(st.Running, false);
  assert.equal(st.ExitCode, 137);
  assert.notEqual(st.FinishedAt, '0001-01-01T00:00:00Z');
  assert.equal(berth('rm', 'web').status, 0);
  assert.equal(berth('ps', '-a', '-q').stdout, '');
});

test('logs -f follows until the container exits', () => {
  const d = berth('run', '-d', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.2; done');
  const id = d.stdout.trim();
  const f = berth('logs', '-f', id);
  assert.equal(f.stdout, 'line 1\nline 2\nline 3\n');
  assert.equal(berth('rm', id).status, 0);
});

test('rm of a running container needs -f', () => {
  const id = berth('run', '-d', 'busybox', 'sleep', '100').stdout.trim();
  const r = berth('rm', id);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /stop the container before removing or force remove/);
  assert.equal(berth('rm', '-f', id).status, 0);
});

test('a missing command exits 127, one that is not executable 126, and --rm still removes', () => {
  const r = berth('run', '--rm', 'busybox', 'nosuchcmd');
  assert.equal(r.status, 127);
  assert.match(r.stderr, /executable file not found/);
  const x = berth('run', '--rm', 'busybox', '/etc/passwd');
  assert.equal(x.status, 126, x.stderr);
  assert.equal(berth('ps', '-a', '-q').stdout, '');
});

test("run's own failures exit 125; an unknown command and no daemon exit 1, as docker 28", () => {
  const r = berth('run', '--rm', 'no-such-image-here');
  assert.equal(r.status, 125);
  assert.match(r.stderr, /^berth: /m);
  assert.equal(spawnSync(BERTH, ['nonsense'], { encoding: 'utf8' }).status, 1);
  const dead = spawnSync(BERTH, ['-H', 'unix:///nonexistent/berth.sock', 'ps'], {
    encoding: 'utf8',
    env: { ...process.env, BERTH_NO_AUTOSTART: '1' },
  });
  assert.equal(dead.status, 1);
  assert.match(dead.stderr, /Cannot connect to the berth daemon/);
});
