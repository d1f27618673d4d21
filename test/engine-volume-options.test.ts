// The local volume driver's options (`volume create -o type=… -o device=… -o o=…`) side by side
// with dockerd 20.10, the docker 28 CLI against each: a tmpfs volume (its size in df, its files
// shared by two containers, gone once the last user stops), a bind of a host folder (`o=bind`),
// the image's content copied in at create as dockerd copies it, the refusals and a failed
// mount's words. Then berthd alone: `berth compose`'s driver_opts, the mount counted over a
// SIGKILL'd berthd's restart, a mounted volume neither removed nor pruned, nothing left mounted.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, type CliResult, type EngineFixture } from './engine-fixture.js';
import type { Dockerd } from './helpers/dockerd.js';
import { IMAGE, show, sideBySide } from './helpers/side-by-side.js';

let eng: EngineFixture;
let d: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p));

/** Folders the bind volumes bind, one per engine. */
let hostDirs: string;
before(() => {
  hostDirs = mkdtempSync(join(tmpdir(), 'berth-test-volopts-'));
});
after(() => {
  rmSync(hostDirs, { recursive: true, force: true });
});

type Run = (a: string[]) => CliResult;
const engines = (): [string, Run][] => [
  ['dockerd', (a) => d.docker(a)],
  ['berthd', (a) => eng.docker(a)],
];
const ok = (who: string, run: Run, args: string[]) => {
  const r = run(args);
  assert.equal(r.status, 0, show(`${who} ${args.join(' ')}`, r));
  return r.stdout;
};
const mountpoint = (who: string, run: Run, v: string) => ok(who, run, ['volume', 'inspect', '-f', '{{.Mountpoint}}', v]).trim();

/** Whether `path` is a mount point in this (the engines') mount namespace. */
function mounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path);
}

test('a tmpfs volume: its options in inspect, its size in df, its files shared while used and gone after the last user', { skip }, () => {
  for (const [who, run] of engines()) {
    assert.equal(
      ok(who, run, ['volume', 'create', '--label', 'x=y', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '-o', 'o=size=1m', 'vt']),
      'vt\n',
    );
    assert.equal(
      ok(who, run, ['volume', 'inspect', '-f', '{{.Driver}} {{.Labels}} {{.Options}}', 'vt']),
      'local map[x:y] map[device:tmpfs o:size=1m type:tmpfs]\n',
      who,
    );
    const data = mountpoint(who, run, 'vt');
    assert.equal(mounted(data), false, `${who}: not mounted before a user`);
    ok(who, run, ['run', '-d', '--name', 'vt-a', '--network', 'none', '-v', 'vt:/v', IMAGE, 'sh', '-c', 'echo shared > /v/f; sleep 60']);
    assert.ok(mounted(data), `${who}: mounted while a container uses it`);
    // df's 1K-blocks of a 1 MiB tmpfs, and the first container's file from a second one.
    const seen = ok(who, run, [
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      'vt:/v',
      IMAGE,
      'sh',
      '-c',
      'until [ -e /v/f ]; do sleep 0.1; done; cat /v/f; df -k /v | tail -1',
    ]);
    assert.match(seen, /^shared\ntmpfs\s+1024\s/, `${who}: ${seen}`);
    assert.ok(mounted(data), `${who}: still mounted while the first container runs`);
    const inUse = run(['volume', 'rm', 'vt']);
    assert.equal(inUse.status, 1, show(`${who} volume rm vt`, inUse));
    assert.match(inUse.stderr, /volume is in use/);
    ok(who, run, ['rm', '-f', 'vt-a']);
    assert.equal(mounted(data), false, `${who}: unmounted after the last user`);
    assert.equal(ok(who, run, ['run', '--rm', '--network', 'none', '-v', 'vt:/v', IMAGE, 'ls', '-A', '/v']), '', `${who}: a fresh tmpfs`);
    assert.equal(readdirSync(data).length, 0, `${who}: nothing written beneath the mount`);
    ok(who, run, ['volume', 'rm', 'vt']);
  }
});

test(
  "a bind volume (type=none, o=bind, device=DIR) is DIR's files; the image's content is copied in at create as dockerd copies it",
  { skip },
  () => {
    const listings: Record<string, string> = {};
    for (const [who, run] of engines()) {
      const dir = mkdtempSync(join(hostDirs, `${who}-`));
      ok(who, run, ['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${dir}`, 'vb']);
      ok(who, run, ['run', '--rm', '--network', 'none', '-v', 'vb:/v', IMAGE, 'sh', '-c', 'echo from-container > /v/made']);
      assert.equal(readFileSync(join(dir, 'made'), 'utf8'), 'from-container\n', who);
      assert.equal(mounted(mountpoint(who, run, 'vb')), false, `${who}: unmounted after its user`);
      // An empty bind over the image's /etc takes its files (at create); a tmpfs there keeps none of them.
      const etc = mkdtempSync(join(hostDirs, `${who}-etc-`));
      ok(who, run, ['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${etc}`, 'vbe']);
      ok(who, run, ['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'vte']);
      const bindEtc = ok(who, run, ['run', '--rm', '--network', 'none', '-v', 'vbe:/etc', IMAGE, 'ls', '/etc']);
      const tmpfsEtc = ok(who, run, ['run', '--rm', '--network', 'none', '-v', 'vte:/etc', IMAGE, 'ls', '/etc']);
      // The image's files only: dockerd also mounts its hostname, hosts and resolv.conf (and an mtab) on
      // a volume at /etc, where berthd leaves a mount over /etc alone.
      const image = (names: string[]) => names.filter((n) => n && !['hostname', 'hosts', 'resolv.conf', 'mtab'].includes(n)).join(' ');
      listings[who] = `bind: ${image(bindEtc.split('\n'))}\nhost: ${image(readdirSync(etc).sort())}\ntmpfs: ${image(tmpfsEtc.split('\n'))}`;
      assert.match(listings[who], /^bind: .*\bpasswd\b/, listings[who]);
      assert.match(listings[who], /^tmpfs: $/m, listings[who]);
      ok(who, run, ['volume', 'rm', 'vb', 'vbe', 'vte']);
    }
    assert.equal(listings.berthd, listings.dockerd);
  },
);

test("refusals and a failed mount in dockerd's words", { skip }, () => {
  const said: Record<string, string[]> = {};
  for (const [who, run] of engines()) {
    const refused = (args: string[]) => {
      const r = run(['volume', 'create', ...args]);
      assert.equal(r.status, 1, show(`${who} volume create ${args.join(' ')}`, r));
      return r.stderr.trim();
    };
    said[who] = [
      refused(['--opt', 'bogus=1', 'v2']),
      refused(['--opt', 'type=tmpfs', 'v3']),
      refused(['--opt', 'device=tmpfs', 'v3']),
      refused(['--opt', 'o=size=1m', '--opt', 'device=tmpfs', 'v3']),
    ];
    // A device that is not there: the start fails, the container records it.
    ok(who, run, ['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', 'device=/nonexistent/berth-test', 'vbad']);
    const data = mountpoint(who, run, 'vbad');
    const r = run(['run', '--name', 'vbad-c', '--network', 'none', '-v', 'vbad:/v', IMAGE, 'true']);
    said[who].push(`exit ${r.status}: ${r.stderr.trim().replaceAll(data, '<_data>')}`);
    // (dockerd leaves a container whose first start failed "created", berthd "exited", whatever failed.)
    said[who].push(ok(who, run, ['inspect', '-f', '{{.State.ExitCode}} {{.State.Error}}', 'vbad-c']).trim().replaceAll(data, '<_data>'));
    // A tmpfs with a size the kernel refuses.
    ok(who, run, ['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=lots,noexec', 'vbad2']);
    const data2 = mountpoint(who, run, 'vbad2');
    const r2 = run(['run', '--rm', '--network', 'none', '-v', 'vbad2:/v', IMAGE, 'true']);
    said[who].push(`exit ${r2.status}: ${r2.stderr.trim().replaceAll(data2, '<_data>')}`);
    assert.equal(mounted(data) || mounted(data2), false, who);
    ok(who, run, ['rm', 'vbad-c']);
    ok(who, run, ['volume', 'rm', 'vbad', 'vbad2']);
  }
  assert.deepEqual(said.berthd, said.dockerd);
  assert.equal(said.berthd[0], 'Error response from daemon: create v2: invalid option: "bogus"');
  assert.match(
    said.berthd[4],
    /error while mounting volume '<_data>': failed to mount local volume: mount \/nonexistent\/berth-test:<_data>, flags: 0x1000: no such file or directory/,
  );
});

test('--mount volume-opt= makes the volume with those options, as dockerd', { skip }, () => {
  for (const [who, run] of engines()) {
    const out = ok(who, run, [
      'run',
      '--rm',
      '--network',
      'none',
      '--mount',
      'type=volume,src=vm,dst=/v,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=2m',
      IMAGE,
      'sh',
      '-c',
      'df -k /v | tail -1',
    ]);
    assert.match(out, /^tmpfs\s+2048\s/, `${who}: ${out}`);
    assert.equal(ok(who, run, ['volume', 'inspect', '-f', '{{.Options}}', 'vm']), 'map[device:tmpfs o:size=2m type:tmpfs]\n', who);
    ok(who, run, ['volume', 'rm', 'vm']);
  }
});

test(
  "berthd: a running user's mount is counted again after a SIGKILL'd berthd's restart; a mounted volume is neither removed nor pruned",
  { skip },
  async () => {
    const docker = (a: string[]) => eng.dockerOk(a);
    docker(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'vr']);
    const data = docker(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'vr']);
    docker(['run', '-d', '--name', 'vr-a', '--network', 'none', '-v', 'vr:/v', IMAGE, 'sh', '-c', 'echo kept > /v/f; sleep 120']);
    await eng.restart('SIGKILL');
    assert.ok(mounted(data), 'still mounted after the restart');
    // A second user shares the running one's tmpfs (not a new one on top of it).
    assert.equal(docker(['run', '--rm', '--network', 'none', '-v', 'vr:/v', IMAGE, 'cat', '/v/f']), 'kept');
    assert.ok(mounted(data), "the second user's end leaves the first's mount");
    const rm = eng.docker(['volume', 'rm', 'vr']);
    assert.equal(rm.status, 1);
    assert.match(rm.stderr, /volume is in use/);
    assert.doesNotMatch(docker(['volume', 'prune', '--all', '--force']), /vr/);
    docker(['stop', '-t', '1', 'vr-a']);
    assert.equal(mounted(data), false, 'unmounted when the adopted user stops');
    docker(['rm', 'vr-a']);
    docker(['volume', 'rm', 'vr']);
    assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(join(eng.dir, 'data', 'volumes')), false, 'no volume mounted');
  },
);

test("berth compose: a volume's driver_opts make it a tmpfs of that size; down -v takes it away", { skip }, () => {
  const dir = join(hostDirs, 'volproj');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'compose.yaml'),
    `services:
  app:
    image: ${IMAGE}
    network_mode: none
    command: sleep 60
    volumes: [data:/v]
volumes:
  data:
    driver_opts: {type: tmpfs, device: tmpfs, o: "size=3m"}
`,
  );
  const compose = (...args: string[]) => {
    const r = spawnSync(BERTH, ['compose', ...args], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '' },
    });
    assert.equal(r.status, 0, show(`berth compose ${args.join(' ')}`, r));
  };
  compose('up', '-d');
  let data = '';
  try {
    assert.equal(eng.dockerOk(['volume', 'inspect', '-f', '{{.Options}}', 'volproj_data']), 'map[device:tmpfs o:size=3m type:tmpfs]');
    data = eng.dockerOk(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'volproj_data']);
    const id = eng.dockerOk(['ps', '-q', '--filter', 'label=com.docker.compose.project=volproj']);
    assert.match(eng.dockerOk(['exec', id, 'sh', '-c', 'df -k /v | tail -1']), /^tmpfs\s+3072\s/);
    assert.ok(mounted(data));
  } finally {
    compose('down', '-v', '-t', '1');
  }
  assert.equal(eng.docker(['volume', 'inspect', 'volproj_data']).status, 1, 'the volume is gone');
  assert.equal(mounted(data), false);
});
