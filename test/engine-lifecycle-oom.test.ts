// OOMKilled and signals as Docker reports them: a container over its --memory is killed by the
// kernel (exit 137, State.OOMKilled, an `oom` event before `die`), one killed by a signal
// exits 128+n, and neither flag is set for an ordinary exit. docker 28, 20.10 and dockerode.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import Docker from 'dockerode';
import { DOCKER, noDocker20, DOCKER_20, startEngine, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
let dockerode: Docker;
const skip = !existsSync(DOCKER) && 'no docker CLI';

function docker(args: string[], bin = DOCKER) {
  return eng.docker(args, { bin });
}
const stamp = () => (Date.now() / 1000).toFixed(9);

before(async () => {
  eng = await startEngine();
  dockerode = new Docker({ socketPath: eng.socket });
  assert.equal((await eng.api('POST', '/images/create?fromImage=busybox&tag=latest')).status, 200);
});
after(async () => {
  await eng?.stop();
});

test('docker run --memory 8m of a memory hog: exit 137, OOMKilled, oom then die', { skip }, () => {
  const t0 = stamp();
  // tail keeps an endless line of zeros: it grows until the kernel kills it.
  const r = docker(['run', '--name', 'oom1', '--memory', '8m', 'busybox', 'tail', '/dev/zero']);
  assert.equal(r.status, 137, r.stderr + r.stdout);
  assert.equal(
    docker(['inspect', '--format', '{{.State.OOMKilled}} {{.State.ExitCode}} {{.State.Status}}', 'oom1']).stdout.trim(),
    'true 137 exited',
  );
  const evs = docker([
    'events',
    '--since',
    t0,
    '--until',
    stamp(),
    '--filter',
    'container=oom1',
    '--format',
    '{{.Action}} {{.Actor.Attributes.exitCode}}',
  ]).stdout;
  assert.deepEqual(
    evs
      .trim()
      .split('\n')
      .map((l) => l.replace(' <no value>', '')),
    ['create', 'attach', 'start', 'oom', 'die 137'],
  );
  // It runs out of memory again at its next start.
  assert.equal(docker(['start', '-a', 'oom1']).status, 137);
  docker(['rm', 'oom1']);
  // A kill is 137 too, without the flag; a start clears a flag set before.
  docker(['run', '-d', '--name', 'oom2', '--memory', '8m', 'busybox', 'sleep', '1000']);
  docker(['kill', 'oom2']);
  assert.equal(docker(['wait', 'oom2']).stdout.trim(), '137');
  assert.equal(docker(['inspect', '--format', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'oom2']).stdout.trim(), 'false 137');
  docker(['rm', 'oom2']);
});

test('exit codes: a code as is, a trapped stop its own code; an exec killed for memory marks the run', { skip }, async () => {
  assert.equal(docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 42']).status, 42);
  docker(['run', '-d', '--name', 's1', 'busybox', 'sh', '-c', 'trap "exit 3" TERM; while :; do sleep 0.1; done']);
  docker(['stop', 's1']);
  assert.equal(docker(['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', 's1']).stdout.trim(), '3 false');
  // Any process of the container killed for memory marks the run (as a containerd OOM event does
  // for dockerd); the next start clears the mark.
  docker(['update', '--memory', '8m', '--memory-swap', '8m', 's1']);
  docker(['start', 's1']);
  assert.equal(docker(['exec', 's1', 'tail', '/dev/zero']).status, 137);
  docker(['kill', 's1']);
  assert.equal(docker(['wait', 's1']).stdout.trim(), '137');
  assert.equal(docker(['inspect', '--format', '{{.State.OOMKilled}}', 's1']).stdout.trim(), 'true');
  docker(['start', 's1']);
  assert.equal(docker(['inspect', '--format', '{{.State.OOMKilled}} {{.State.Status}}', 's1']).stdout.trim(), 'false running');
  docker(['rm', '-f', 's1']);
});

test("dockerode sees OOMKilled; Debian's docker 20.10 too", async () => {
  const c = await dockerode.createContainer({ Image: 'busybox', Cmd: ['tail', '/dev/zero'], HostConfig: { Memory: 8 << 20 } });
  await c.start();
  assert.deepEqual(await c.wait(), { StatusCode: 137, Error: null });
  const st = (await c.inspect()).State;
  assert.equal(st.OOMKilled, true);
  await c.remove();
  if (noDocker20) return;
  const r = docker(['run', '--name', 'oom3', '--memory', '8m', 'busybox', 'tail', '/dev/zero'], DOCKER_20);
  assert.equal(r.status, 137);
  assert.equal(docker(['inspect', '--format', '{{.State.OOMKilled}}', 'oom3'], DOCKER_20).stdout.trim(), 'true');
  docker(['rm', 'oom3']);
});
