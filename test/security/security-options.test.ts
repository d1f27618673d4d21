// `GET /info`'s SecurityOptions beside a peer dockerd 20.10's on the same host: the options in
// force for every container, in dockerd's words. Where the two differ, the difference is
// berth's stated default, asserted here: dockerd 20.10 names its profile `default` (23.0 renamed
// it `builtin`), makes a private cgroup namespace only on cgroup v2 (berth on v1 too), and
// lists AppArmor/SELinux where the host has them (berth applies neither).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { BERTH, startEngine, type EngineFixture } from '../engine-fixture.js';
import { missing, startDockerd, type Dockerd } from '../helpers/dockerd.js';
import { spawnSync } from 'node:child_process';

const noDockerd = missing('dockerd');
let eng: EngineFixture;
let peer: Dockerd | undefined;
before(async () => {
  eng = await startEngine();
  if (!noDockerd) peer = await startDockerd();
});
after(async () => {
  await peer?.stop();
  await eng?.stop();
});

const seccompKernel = existsSync('/proc/sys/kernel/seccomp/actions_avail');

test('berth info and GET /info list the seccomp profile and the private cgroup namespace', async () => {
  const info = JSON.parse((await eng.api('GET', '/info')).body) as { SecurityOptions: string[] };
  assert.deepEqual(info.SecurityOptions, [...(seccompKernel ? ['name=seccomp,profile=builtin'] : []), 'name=cgroupns']);
  assert.equal(eng.dockerOk(['info', '--format', '{{json .SecurityOptions}}']), JSON.stringify(info.SecurityOptions));
  const r = spawnSync(BERTH, ['info'], { encoding: 'utf8', env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '' } });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const at = lines.indexOf(' Security Options:');
  assert.ok(at > 0, r.stdout);
  assert.deepEqual(
    lines.slice(at + 1, at + 4),
    seccompKernel ? ['  seccomp', '   Profile: builtin', '  cgroupns'] : ['  cgroupns', lines[at + 2], lines[at + 3]],
  );
});

test('the same options as dockerd 20.10 on this host, but for what berth does otherwise', { skip: noDockerd }, () => {
  const theirs = JSON.parse(peer!.docker(['info', '--format', '{{json .SecurityOptions}}']).stdout) as string[];
  const ours = JSON.parse(eng.dockerOk(['info', '--format', '{{json .SecurityOptions}}'])) as string[];
  const cgroupV2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const expected = theirs
    .filter((o) => o !== 'name=apparmor' && o !== 'name=selinux')
    .map((o) => (o === 'name=seccomp,profile=default' ? 'name=seccomp,profile=builtin' : o));
  if (!cgroupV2) {
    assert.ok(!theirs.includes('name=cgroupns'), `dockerd 20.10 keeps the host's cgroup namespace on v1: ${theirs}`);
    expected.push('name=cgroupns');
  }
  assert.deepEqual(ours, expected, `dockerd 20.10: ${JSON.stringify(theirs)}`);
});
