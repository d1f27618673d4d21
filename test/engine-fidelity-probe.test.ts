// Side by side with dockerd 20.10, the docker 28 CLI against each: what a side-by-side probe of
// the init layer, events, health checks and cp found (issue 10). The two engines agree on
// /.dockerenv and /etc/mtab (left out of diff, carried by export), cp into /dev/shm (the root's
// own directory beneath the container's tmpfs), a volume's create event at every container
// create that names it, a stopped container's disconnect, a health check on a paused container;
// where berth differs on purpose, both answers are pinned: berthd refuses what dockerd takes and
// ignores (an unknown /events filter key, an unknown health check type) and tells once the
// running container's disconnect that dockerd tells twice.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, type CliResult, type EngineFixture } from './engine-fixture.js';
import type { Dockerd } from './helpers/dockerd.js';
import { IMAGE, show, sideBySide } from './helpers/side-by-side.js';

let eng: EngineFixture;
let d: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p));

type Run = (a: string[]) => CliResult;
const engines = (): [string, Run, string, string][] => [
  ['dockerd', (a) => d.docker(a), '10.227', join(d.dir, 'docker.sock')],
  ['berthd', (a) => eng.docker(a, { env: { DOCKER_API_VERSION: '1.41' } }), '10.228', eng.socket],
];
const ok = (who: string, run: Run, args: string[]) => {
  const r = run(args);
  assert.equal(r.status, 0, show(`${who} ${args.join(' ')}`, r));
  return r.stdout;
};
const now = () => (Date.now() / 1000).toFixed(9);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the init layer: an empty /.dockerenv and /etc/mtab -> /proc/mounts, left out of diff, carried by export', { skip }, () => {
  const got: unknown[][] = [];
  for (const [who, run] of engines()) {
    const seen: unknown[] = [
      ok(who, run, ['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', 'stat -c "%a %s %U %F" /.dockerenv; readlink /etc/mtab']),
    ];
    ok(who, run, ['create', '--network', 'none', '--name', 'il-box', IMAGE, 'sh', '-c', 'echo x > /newf']);
    ok(who, run, ['start', '-a', 'il-box']);
    seen.push(ok(who, run, ['diff', 'il-box']));
    const tar = join(eng.dir, `il-${who}.tar`);
    ok(who, run, ['export', '-o', tar, 'il-box']);
    // Mode, name and link target of what the init layer made (the owner's format is each engine's tar writer's).
    const listed = spawnSync('tar', ['-tvf', tar], { encoding: 'utf8' }).stdout.split('\n');
    seen.push(
      listed
        .map((l) => l.split(/\s+/))
        .filter((f) =>
          /^(\.\/)?(\.dockerenv|dev\/(console|pts\/|shm\/)|etc\/(mtab|hosts|hostname|resolv\.conf)|proc\/|sys\/)$/.test(f[5] ?? ''),
        )
        .map((f) => [f[0], f[5].replace(/^\.\//, ''), ...f.slice(6)].join(' '))
        .sort(),
    );
    ok(who, run, ['rm', 'il-box']);
    got.push(seen);
  }
  assert.deepEqual(got[1], got[0]);
  assert.deepEqual(got[0].slice(0, 2), ['755 0 root regular empty file\n/proc/mounts\n', 'A /newf\n']);
  assert.deepEqual(got[0][2], [
    '-rwxr-xr-x .dockerenv',
    '-rwxr-xr-x dev/console',
    '-rwxr-xr-x etc/hostname',
    '-rwxr-xr-x etc/hosts',
    '-rwxr-xr-x etc/resolv.conf',
    'drwxr-xr-x dev/pts/',
    'drwxr-xr-x dev/shm/',
    'drwxr-xr-x proc/',
    'drwxr-xr-x sys/',
    'lrwxrwxrwx etc/mtab -> /proc/mounts',
  ]);
});

test("cp into /dev/shm reaches the root's own directory beneath the container's tmpfs, as dockerd's cp", { skip }, () => {
  const got: unknown[][] = [];
  const src = join(eng.dir, 'shm-src');
  writeFileSync(src, 'new\n');
  for (const [who, run] of engines()) {
    const seen: unknown[] = [];
    for (const ipc of ['private', 'shareable']) {
      ok(who, run, [
        'run',
        '-d',
        '--network',
        'none',
        '--ipc',
        ipc,
        '--name',
        'shm-box',
        IMAGE,
        'sh',
        '-c',
        'echo in > /dev/shm/g; sleep 100',
      ]);
      const cp = run(['cp', src, 'shm-box:/dev/shm/f']);
      seen.push(
        ipc,
        [cp.status, cp.stderr],
        ok(who, run, ['exec', 'shm-box', 'ls', '/dev/shm']),
        spawnSync('tar', ['-xO'], { input: run(['cp', 'shm-box:/dev/shm/f', '-']).stdout, encoding: 'utf8' }).stdout,
        run(['cp', 'shm-box:/dev/shm/g', '-']).stderr,
        ok(who, run, ['diff', 'shm-box']),
      );
      ok(who, run, ['rm', '-f', 'shm-box']);
    }
    got.push(seen);
  }
  assert.deepEqual(got[1], got[0]);
  // The copy is there for cp and diff, not in the container, whose /dev/shm (its own or the shareable one) is mounted over it.
  const want = (ipc: string) => [
    ipc,
    [0, ''],
    'g\n',
    'new\n',
    'Error response from daemon: Could not find the file /dev/shm/g in container shm-box\n',
    'C /dev\nC /dev/shm\nA /dev/shm/f\n',
  ];
  assert.deepEqual(got[0], [...want('private'), ...want('shareable')]);
});

test("a named volume's create event at each container create that names it, as dockerd's volume service tells it", { skip }, async () => {
  const got: string[][] = [];
  for (const [who, run] of engines()) {
    const since = now();
    ok(who, run, ['volume', 'create', 've-vol']);
    ok(who, run, ['volume', 'create', 've-vol']);
    ok(who, run, ['create', '--network', 'none', '-v', 've-vol:/x', '--name', 've-a', IMAGE, 'true']);
    ok(who, run, ['start', 've-a']);
    ok(who, run, ['run', '--rm', '--network', 'none', '--mount', 'source=ve-vol,target=/y', IMAGE, 'true']);
    ok(who, run, ['create', '--network', 'none', '--volumes-from', 've-a', '--name', 've-b', IMAGE, 'true']);
    ok(who, run, ['rm', 've-a', 've-b']);
    ok(who, run, ['volume', 'rm', 've-vol']);
    await sleep(100);
    const f = [
      '--since',
      since,
      '--until',
      now(),
      '--filter',
      'type=volume',
      '--format',
      '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.driver}}',
    ];
    got.push(
      ok(who, run, ['events', ...f])
        .trim()
        .split('\n'),
    );
  }
  assert.deepEqual(got[1], got[0]);
  // Two volume creates, the create of ve-a and the run's; --volumes-from tells none; a start mounts.
  assert.deepEqual(got[0], [
    'create ve-vol local',
    'create ve-vol local',
    'create ve-vol local',
    'mount ve-vol local',
    'unmount ve-vol local',
    'create ve-vol local',
    'mount ve-vol local',
    'unmount ve-vol local',
    'destroy ve-vol local',
  ]);
});

test(
  'network disconnect: one event for a stopped container, as dockerd; one for a running one, where dockerd tells two',
  { skip },
  async () => {
    const got: string[][] = [];
    for (const [who, run, net] of engines()) {
      ok(who, run, ['network', 'create', '--subnet', `${net}.11.0/24`, 'dc-net']);
      ok(who, run, ['run', '-d', '--network', 'dc-net', '--name', 'dc-run', IMAGE, 'sleep', '100']);
      ok(who, run, ['create', '--network', 'dc-net', '--name', 'dc-stop', IMAGE, 'true']);
      const names = new Map(['dc-run', 'dc-stop'].map((n) => [ok(who, run, ['inspect', '-f', '{{.Id}}', n]).trim(), n]));
      const since = now();
      ok(who, run, ['network', 'disconnect', 'dc-net', 'dc-run']);
      ok(who, run, ['network', 'disconnect', 'dc-net', 'dc-stop']);
      await sleep(100);
      const until = now();
      ok(who, run, ['rm', '-f', 'dc-run', 'dc-stop']);
      ok(who, run, ['network', 'rm', 'dc-net']);
      const f = [
        '--since',
        since,
        '--until',
        until,
        '--filter',
        'type=network',
        '--format',
        '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.container}}',
      ];
      got.push(
        ok(who, run, ['events', ...f])
          .trim()
          .split('\n')
          .map((l) => l.replace(/[0-9a-f]{64}$/, (id) => names.get(id) ?? id)),
      );
    }
    // dockerd tells the running container's twice (its disconnectFromNetwork and its caller, dockerd 28 too): berthd once.
    assert.deepEqual(got[0], ['disconnect dc-net dc-run', 'disconnect dc-net dc-run', 'disconnect dc-net dc-stop']);
    assert.deepEqual(got[1], ['disconnect dc-net dc-run', 'disconnect dc-net dc-stop']);
  },
);

test('GET /events with a filter key moby does not read: dockerd ignores it, berthd refuses it (a 400)', { skip }, async () => {
  const got: unknown[][] = [];
  for (const [who, run, , sock] of engines()) {
    const since = now();
    ok(who, run, ['volume', 'create', 'ef-vol']);
    ok(who, run, ['volume', 'rm', 'ef-vol']);
    await sleep(100);
    const until = now();
    const seen: unknown[] = [];
    for (const f of [
      { bogus: ['x'], type: ['volume'] },
      { bogus: ['x'], type: ['network'] },
    ]) {
      const r = await call(sock, 'GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify(f))}`);
      const actions = (b: string) =>
        b
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as { Action: string }).Action);
      seen.push([r.status, r.status === 200 ? actions(r.body) : r.body]);
    }
    const cli = run([
      'events',
      '--since',
      since,
      '--until',
      until,
      '--filter',
      'bogus=x',
      '--filter',
      'type=volume',
      '--format',
      '{{.Action}}',
    ]);
    seen.push([cli.status, cli.stdout, cli.stderr]);
    got.push(seen);
  }
  // dockerd ignores the key; berthd refuses it rather than take a filter that does nothing (README).
  assert.deepEqual(got[0], [
    [200, ['create', 'destroy']],
    [200, []],
    [0, 'create\ndestroy\n', ''],
  ]);
  const refused = [400, `{"message":"Invalid filter 'bogus'"}\n`];
  assert.deepEqual(got[1], [refused, refused, [1, '', "Error response from daemon: Invalid filter 'bogus'\n"]]);
});

test(
  'a health check on a paused container: not probed, unhealthy with its streak and log kept, healthy at the first probe after the unpause',
  { skip },
  async () => {
    const got: unknown[][] = [];
    type Health = { Status: string; FailingStreak: number; Log: { ExitCode: number }[] };
    for (const [who, run] of engines()) {
      const health = () => JSON.parse(ok(who, run, ['inspect', '-f', '{{json .State.Health}}', 'hp-box'])) as Health;
      const until = async (status: string) => {
        const deadline = Date.now() + 10_000;
        while (health().Status !== status && Date.now() < deadline) await sleep(100);
        return health();
      };
      const flags = ['--health-cmd', 'echo ok', '--health-interval', '1s', '--health-retries', '2'];
      ok(who, run, ['run', '-d', '--network', 'none', '--name', 'hp-box', ...flags, IMAGE, 'sleep', '100']);
      const seen: unknown[] = [(await until('healthy')).Status];
      const since = now();
      ok(who, run, ['pause', 'hp-box']);
      const paused = health();
      await sleep(3500);
      const later = health();
      seen.push(paused.Status, later.Status, later.FailingStreak, later.Log.length === paused.Log.length);
      ok(who, run, ['unpause', 'hp-box']);
      seen.push(health().Status, (await until('healthy')).Status);
      await sleep(100);
      const f = ['--filter', 'event=pause', '--filter', 'event=unpause', '--filter', 'event=health_status', '--format', '{{.Action}}'];
      seen.push(ok(who, run, ['events', '--since', since, '--until', now(), ...f]));
      ok(who, run, ['rm', '-f', 'hp-box']);
      got.push(seen);
    }
    assert.deepEqual(got[1], got[0]);
    assert.deepEqual(got[0], [
      'healthy',
      'unhealthy',
      'unhealthy',
      0,
      true,
      'unhealthy',
      'healthy',
      'pause\nunpause\nhealth_status: healthy\n',
    ]);
  },
);

test(
  "a health check whose Test starts with a word dockerd does not know: dockerd's never probed, refused by berthd at create",
  { skip },
  async () => {
    const got: unknown[][] = [];
    for (const [who, run, , sock] of engines()) {
      const since = now();
      const body = {
        Image: IMAGE,
        Cmd: ['sleep', '100'],
        HostConfig: { NetworkMode: 'none' },
        Healthcheck: { Test: ['BOGUS', 'true'], Interval: 200_000_000 },
      };
      const r = await call(sock, 'POST', '/containers/create?name=hu-box', body);
      if (who === 'berthd') {
        got.push([r.status, r.body, run(['inspect', 'hu-box']).status]);
        continue;
      }
      const id = (JSON.parse(r.body) as { Id: string }).Id;
      ok(who, run, ['start', 'hu-box']);
      await sleep(1500);
      got.push([
        r.status,
        ok(who, run, ['inspect', '-f', '{{json .State.Health}} {{json .Config.Healthcheck.Test}}', 'hu-box']),
        ok(who, run, ['ps', '--filter', 'name=hu-box', '--format', '{{.Status}}']).replace(/\d+ seconds?|Less than a second/, 'T'),
        ok(who, run, ['events', '--since', since, '--until', now(), '--filter', 'container=hu-box', '--format', '{{.Action}}']),
        d.log().includes(`Unknown healthcheck type 'BOGUS' (expected 'CMD') in container ${id}`),
      ]);
      ok(who, run, ['rm', '-f', 'hu-box']);
    }
    // dockerd creates it and never probes it (its log alone says so); berthd refuses it rather than take a check that does nothing (README).
    assert.deepEqual(got[0], [201, 'null ["BOGUS","true"]\n', 'Up T\n', 'create\nstart\n', true]);
    assert.deepEqual(got[1], [400, '{"message":"unknown type of healthcheck: BOGUS"}\n', 1]);
  },
);
