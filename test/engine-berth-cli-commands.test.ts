// The container commands of the berth CLI, side by side with the real docker CLI 28 where they
// print the same thing: create and start -a (the container's exit code), wait, restart, kill -s,
// pause/unpause, rename, update, inspect (container, then image, then volume; -f; missing
// names), port, events (--since/--until/--filter/--format), run's flags reaching the container
// and its inspect, 125/126/127, signals relayed to the container, and --help for every command.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, DOCKER, startEngine, until, type EngineFixture } from './engine-fixture.js';
import { COMMANDS } from '../src/cli/main.js';

let eng: EngineFixture;
let tmp: string;
const hasDocker = existsSync(DOCKER);
const env = () => ({ ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: eng.host });

function cli(bin: string, args: string[], input?: string) {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000, env: env(), input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const berth = (...args: string[]) => cli(BERTH, args);
/** berth's answer, checked to be docker's too (stdout, stderr, status) where docker is here. */
function both(...args: string[]) {
  const b = berth(...args);
  if (hasDocker) assert.deepEqual(cli(DOCKER, args), b, `docker ${args.join(' ')}`);
  return b;
}

before(async () => {
  eng = await startEngine();
  tmp = mkdtempSync(join(tmpdir(), 'berth-test-cli-'));
  assert.equal(berth('pull', 'busybox').status, 0);
});
after(async () => {
  await eng?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test("create, start -a with the container's exit code, wait, and start of several", () => {
  const c = berth('create', '--name', 'five', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 5');
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stdout, /^[0-9a-f]{64}\n$/);
  const a = berth('start', '-a', 'five');
  assert.deepEqual(a, { status: 5, stdout: 'out\n', stderr: 'err\n' });
  if (hasDocker) assert.deepEqual(cli(DOCKER, ['start', '-a', 'five']), a);
  assert.deepEqual(both('wait', 'five'), { status: 0, stdout: '5\n', stderr: '' });
  const i = cli(BERTH, ['create', '-i', '--name', 'cat', 'busybox', 'sh', '-c', 'cat; exit 2']);
  assert.equal(i.status, 0, i.stderr);
  assert.deepEqual(cli(BERTH, ['start', '-ai', 'cat'], 'piped\n'), { status: 2, stdout: 'piped\n', stderr: '' });
  const s = both('start', 'five', 'nosuch');
  assert.equal(s.status, 1);
  assert.equal(s.stdout, 'five\n');
  assert.equal(s.stderr, 'Error response from daemon: No such container: nosuch\nError: failed to start containers: nosuch\n');
  berth('rm', '-f', 'five', 'cat');
});

test('restart, kill -s, pause/unpause, rename, update', async () => {
  assert.equal(berth('run', '-d', '--name', 'svc', 'busybox', 'sh', '-c', 'trap "exit 9" USR1; while :; do sleep 0.1; done').status, 0);
  const pid = () => JSON.parse(berth('inspect', 'svc').stdout)[0].State.Pid as number;
  const p1 = pid();
  assert.deepEqual(both('restart', '-t', '1', 'svc'), { status: 0, stdout: 'svc\n', stderr: '' });
  assert.notEqual(pid(), p1);
  // State changes: berth does one, docker (where here) the next, each printing the name.
  const pair = (first: string[], second: string[]) => {
    assert.deepEqual(berth(...first), { status: 0, stdout: 'svc\n', stderr: '' });
    assert.deepEqual(cli(hasDocker ? DOCKER : BERTH, second), { status: 0, stdout: 'svc\n', stderr: '' });
  };
  pair(['pause', 'svc'], ['unpause', 'svc']);
  assert.equal(berth('pause', 'svc').status, 0);
  assert.match(berth('ps', '--format', '{{.Status}}', '-f', 'name=svc').stdout, /\(Paused\)$/m);
  const again = both('pause', 'svc');
  assert.equal(again.status, 1);
  assert.match(again.stderr, /^Error response from daemon: Container [0-9a-f]{64} is already paused\n$/);
  assert.equal(berth('unpause', 'svc').status, 0);
  assert.deepEqual(berth('update', '--memory', '48m', '--cpus', '0.5', '--restart', 'on-failure:2', 'svc'), {
    status: 0,
    stdout: 'svc\n',
    stderr: '',
  });
  assert.equal(
    berth(
      'inspect',
      '-f',
      '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}',
      'svc',
    ).stdout,
    `${48 << 20} 500000000 on-failure:2\n`,
  );
  assert.deepEqual(berth('update', 'svc'), {
    status: 1,
    stdout: '',
    stderr: 'you must provide one or more flags when using this command\n',
  });
  assert.deepEqual(berth('rename', 'svc', 'svc2'), { status: 0, stdout: '', stderr: '' });
  assert.equal(berth('inspect', '-f', '{{.Name}}', 'svc2').stdout, '/svc2\n');
  assert.deepEqual(cli(hasDocker ? DOCKER : BERTH, ['rename', 'svc2', 'svc']), { status: 0, stdout: '', stderr: '' });
  assert.deepEqual(berth('kill', '-s', 'USR1', 'svc'), { status: 0, stdout: 'svc\n', stderr: '' });
  await until(() => berth('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'svc').stdout === 'exited 9\n');
  const k = both('kill', 'svc');
  assert.equal(k.status, 1);
  assert.match(k.stderr, /^Error response from daemon: .*is not running/);
  berth('rm', 'svc');
});

test('inspect: container, then image, then volume; -f; --type; missing names', () => {
  assert.equal(berth('volume', 'create', 'vol1').status, 0);
  assert.equal(berth('create', '--name', 'ins', '-l', 'k=v', 'busybox', 'true').status, 0);
  const all = JSON.parse(berth('inspect', 'ins', 'busybox', 'vol1').stdout);
  assert.equal(all.length, 3);
  assert.equal(all[0].Name, '/ins');
  assert.match(all[1].Id, /^sha256:/);
  assert.equal(all[2].Name, 'vol1');
  assert.match(berth('inspect', 'ins').stdout, /^\[\n    \{\n        "Id": /);
  const f = '{{.Name}} {{json .Config.Labels}} {{index .Config.Labels "k"}}';
  assert.deepEqual(both('inspect', '-f', f, 'ins'), { status: 0, stdout: '/ins {"k":"v"} v\n', stderr: '' });
  assert.deepEqual(both('inspect', 'nothing'), { status: 1, stdout: '[]\n', stderr: 'Error: No such object: nothing\n' });
  const t = berth('inspect', '--type', 'image', '-f', '{{.Id}}', 'busybox', 'ins');
  assert.equal(t.status, 1);
  assert.match(t.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(t.stderr, 'Error: No such image: ins\n');
  assert.match(berth('inspect', '-f', '{{.State.Status}}', 'busybox').stderr, /map has no entry for key "State"/);
  berth('rm', 'ins');
  berth('volume', 'rm', 'vol1');
});

test("port: none published, and docker's error for one", () => {
  assert.equal(berth('run', '-d', '--name', 'ports', 'busybox', 'sleep', '60').status, 0);
  assert.deepEqual(both('port', 'ports'), { status: 0, stdout: '', stderr: '' });
  assert.deepEqual(both('port', 'ports', '80'), { status: 1, stdout: '', stderr: "Error: No public port '80' published for ports\n" });
  berth('rm', '-f', 'ports');
});

test("events: --since/--until replay, --filter, --format, docker's line", async () => {
  const t0 = Math.floor(Date.now() / 1000) - 1;
  assert.equal(berth('run', '--rm', '--name', 'ev', '-l', 'x=y', 'busybox', 'true').status, 0);
  // docker's `--until 0s` is in whole seconds: the events are a second old before it sees them.
  await new Promise((r) => setTimeout(r, 1100));
  const args = ['events', '--since', String(t0), '--until', '0s', '--filter', 'container=ev', '--filter', 'event=die'];
  const e = both(...args);
  assert.match(
    e.stdout,
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container die [0-9a-f]{64} \(execDuration=\d+, exitCode=0, image=busybox, name=ev, x=y\)\n$/,
  );
  const f = both(
    'events',
    '--since',
    '1m',
    '--until',
    '0s',
    '--filter',
    'container=ev',
    '--filter',
    'event=create',
    '--filter',
    'event=start',
    '--filter',
    'event=die',
    '--format',
    '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.x}}',
  );
  assert.equal(f.stdout, 'container create ev y\ncontainer start ev y\ncontainer die ev y\n');
  const j = berth('events', '--since', '1m', '--until', '0s', '--filter', 'container=ev', '--filter', 'event=start', '--format', 'json');
  assert.equal(JSON.parse(j.stdout).Actor.Attributes.name, 'ev');
});

test("run's flags: env and label files, health check, restart, stop signal and timeout, limits, log options, -p", () => {
  writeFileSync(join(tmp, 'env'), 'B=2\n# comment\n\nC\n');
  writeFileSync(join(tmp, 'labels'), 'from=file\n');
  const flags = [
    '--env-file',
    join(tmp, 'env'),
    '-e',
    'A=1',
    '--label-file',
    join(tmp, 'labels'),
    '-l',
    'k=v',
    '--restart',
    'on-failure:3',
    '--health-cmd',
    'true',
    '--health-interval',
    '1m30s',
    '--health-retries',
    '4',
    '--health-timeout',
    '500ms',
    '--health-start-period',
    '2s',
    '--stop-signal',
    'SIGUSR1',
    '--stop-timeout',
    '7',
    '-m',
    '32m',
    '--memory-swap',
    '64m',
    '--cpu-shares',
    '512',
    '--pids-limit',
    '30',
    '--log-opt',
    'max-size=1m',
    '--log-opt',
    'max-file=2',
    '--hostname',
    'hh',
    '-w',
    '/tmp',
    '-u',
    '1000',
    '-p',
    '127.0.0.1:8080:80/udp',
  ];
  const f =
    '{{json .Config.Env}} {{json .Config.Labels}} {{json .HostConfig.RestartPolicy}} {{json .Config.Healthcheck}} {{.Config.StopSignal}} {{.Config.StopTimeout}} ' +
    '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}} {{json .HostConfig.LogConfig}} {{.Config.Hostname}} {{.Config.WorkingDir}} {{.Config.User}} {{json .Config.ExposedPorts}}';
  const seen: string[] = [];
  for (const bin of hasDocker ? [BERTH, DOCKER] : [BERTH]) {
    const name = `flags-${seen.length}`;
    const c = spawnSync(bin, ['create', '--name', name, ...flags, 'busybox', 'true'], { encoding: 'utf8', env: { ...env(), C: '3' } });
    assert.equal(c.status, 0, c.stderr);
    seen.push(berth('inspect', '-f', f, name).stdout.replace(/"PATH=[^"]*",?/, ''));
    berth('rm', name);
  }
  assert.equal(
    seen[0],
    '["B=2","C=3","A=1"] {"from":"file","k":"v"} {"Name":"on-failure","MaximumRetryCount":3} ' +
      '{"Test":["CMD-SHELL","true"],"Interval":90000000000,"Timeout":500000000,"StartPeriod":2000000000,"Retries":4} SIGUSR1 7 ' +
      `${32 << 20} ${64 << 20} 512 30 {"Type":"json-file","Config":{"max-file":"2","max-size":"1m"}} hh /tmp 1000 {"80/udp":{}}\n`,
  );
  if (hasDocker) assert.equal(seen[1], seen[0], 'docker create sends the same');
  const r = berth('run', '--rm', '--env-file', join(tmp, 'env'), 'busybox', 'sh', '-c', 'echo $B');
  assert.equal(r.stdout, '2\n');
  assert.match(berth('run', '--rm', '--restart', 'always', 'busybox', 'true').stderr, /cannot specify both --restart and --rm/);
  assert.match(berth('run', '--restart', 'sometimes', 'busybox', 'true').stderr, /invalid restart policy format: sometimes/);
  assert.match(berth('run', '--health-interval', '5x', 'busybox', 'true').stderr, /invalid duration "5x"/);
});

test('run exits 125 for its own failures, 127 for a missing command, 126 for one that cannot run', () => {
  const missing = berth('run', '--rm', 'busybox', 'no-such-command');
  assert.equal(missing.status, 127, missing.stderr);
  const cannot = berth('run', '--rm', 'busybox', '/etc');
  assert.equal(cannot.status, 126, cannot.stderr);
  assert.equal(berth('run', '--rm', '--nosuchflag', 'busybox').status, 125);
  const conflict = berth('run', '--name', 'dup', 'busybox', 'true');
  assert.equal(conflict.status, 0);
  const again = berth('run', '--name', 'dup', 'busybox', 'true');
  assert.equal(again.status, 125);
  assert.match(again.stderr, /^berth: Error response from daemon: Conflict\. The container name "\/dup" is already in use/);
  if (hasDocker) assert.equal(cli(DOCKER, ['run', '--name', 'dup', 'busybox', 'true']).status, 125);
  berth('rm', 'dup');
});

test('run and start -a relay signals to the container (--sig-proxy, the default without a terminal)', async () => {
  const script = 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done';
  for (const args of [
    ['run', '--rm', 'busybox', 'sh', '-c', script],
    ['start', '-a', 'sigs'],
  ]) {
    if (args[0] === 'start') assert.equal(berth('create', '--name', 'sigs', 'busybox', 'sh', '-c', script).status, 0);
    const child = spawn(BERTH, args, { env: env() });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await until(() => out.includes('ready'));
    process.kill(child.pid!, 'SIGTERM');
    assert.equal(await exited, 7);
    assert.equal(out, 'ready\ngot TERM\n');
  }
  berth('rm', 'sigs');
});

test('--help lists every command; each command prints its usage', () => {
  const help = berth('--help');
  assert.equal(help.status, 0);
  const listed = new Set([...help.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]));
  for (const name of Object.keys(COMMANDS)) assert.ok(listed.has(name), `berth --help lists ${name}`);
  for (const name of ['run', 'create', 'start', 'ps', 'inspect', 'events', 'kill', 'update', 'attach', 'wait', 'port', 'rename', 'pause']) {
    const u = berth(name, '--help');
    assert.equal(u.status, 0, `${name} --help: ${u.stderr}`);
    assert.match(u.stdout, new RegExp(`^Usage:  berth ${name} `));
  }
  assert.match(berth('run', '--help').stdout, /--restart string/);
});

test('version and info take --format as docker does', () => {
  assert.deepEqual(both('version', '--format', '{{.Server.Version}} {{.Server.APIVersion}} {{.Client.APIVersion}}'), {
    status: 0,
    stdout: '0.1.0 1.50 1.50\n',
    stderr: '',
  });
  assert.deepEqual(both('info', '--format', '{{.ServerVersion}} {{.OSType}}'), { status: 0, stdout: '0.1.0 linux\n', stderr: '' });
  assert.equal(JSON.parse(berth('version', '--format', 'json').stdout).Server.Version, '0.1.0');
  assert.equal(JSON.parse(berth('info', '--format', '{{json .}}').stdout).ServerVersion, '0.1.0');
});

test("tables are aligned as docker's tabwriter: images, history, volume ls, top", () => {
  assert.equal(berth('volume', 'create', 'tabled').status, 0);
  assert.equal(berth('run', '-d', '--name', 'topped', 'busybox', 'sleep', '60').status, 0);
  for (const args of [['images'], ['history', 'busybox'], ['volume', 'ls'], ['top', 'topped']]) {
    const b = both(...args);
    assert.equal(b.status, 0, b.stderr);
  }
  assert.match(berth('images').stdout, /^REPOSITORY   TAG       IMAGE ID       CREATED\s+SIZE\n/);
  berth('rm', '-f', 'topped');
  berth('volume', 'rm', 'tabled');
});

test("attach: the running container's output and exit code (berth and docker), stdin when created with -i, errors for a stopped one", async () => {
  for (const bin of hasDocker ? [BERTH, DOCKER] : [BERTH]) {
    assert.equal(berth('run', '-d', '--name', 'att', 'busybox', 'sh', '-c', 'sleep 1; echo late; echo err >&2; exit 4').status, 0);
    const a = cli(bin, ['attach', 'att']);
    assert.deepEqual(a, { status: 4, stdout: 'late\n', stderr: 'err\n' }, bin);
    berth('rm', 'att');
  }
  assert.equal(berth('run', '-d', '-i', '--name', 'atti', 'busybox', 'sh', '-c', 'read line; echo got $line; exit 6').status, 0);
  await until(() => berth('inspect', '-f', '{{.State.Running}}', 'atti').stdout === 'true\n');
  assert.deepEqual(cli(BERTH, ['attach', 'atti'], 'hello\n'), { status: 6, stdout: 'got hello\n', stderr: '' });
  const stopped = berth('attach', 'atti');
  assert.equal(stopped.status, 1);
  assert.match(stopped.stderr, /You cannot attach to a stopped container, start it first/);
  berth('rm', 'atti');
});

test('images and image inspect take --format as docker does (table, fields, json)', () => {
  for (const f of ['{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}', 'table {{.Repository}}\t{{.Tag}}\t{{.CreatedAt}}', 'json']) {
    const b = both('images', '--format', f);
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stdout, /busybox/);
  }
  assert.equal(JSON.parse(berth('images', '--format', 'json').stdout).Digest, '<none>');
  assert.deepEqual(both('image', 'inspect', '-f', '{{.Os}}/{{.Architecture}}', 'busybox'), {
    status: 0,
    stdout: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}\n`,
    stderr: '',
  });
});
