// Pause/unpause, restart, rename and update through the real docker CLI (28, and 20.10 for a
// spot check) and dockerode: states, cgroup limits applied live, events, Docker's errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { DOCKER, noDocker20, DOCKER_20, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
let dockerode: Docker;
const noDocker = !existsSync(DOCKER) && 'no docker CLI';

function docker(args: string[], bin = DOCKER) {
  return eng.docker(args, { bin });
}
const ok = (args: string[], bin = DOCKER) => eng.dockerOk(args, { bin });
const fmt = (name: string, f: string) => ok(['inspect', '--format', f, name]);
const stamp = () => (Date.now() / 1000).toFixed(9);

/** A controller file of the container's cgroup, read on the host (v1 controller or the unified hierarchy). */
function cgroupFile(pid: number, controller: string, file: string): string {
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, ctrls, path] = line.split(':');
    if (ctrls.split(',').includes(controller)) return readFileSync(`/sys/fs/cgroup/${controller}${path}/${file}`, 'utf8').trim();
    if (ctrls === '' && existsSync(`/sys/fs/cgroup${path}/${file}`)) return readFileSync(`/sys/fs/cgroup${path}/${file}`, 'utf8').trim();
  }
  throw new Error(`no ${controller} cgroup for ${pid}`);
}

before(async () => {
  eng = await startEngine();
  dockerode = new Docker({ socketPath: eng.socket });
  assert.equal((await eng.api('POST', '/images/create?fromImage=busybox&tag=latest')).status, 200);
});
after(async () => {
  await eng?.stop();
});

test("docker pause and unpause: frozen processes, ps and inspect, Docker's 409s", { skip: noDocker }, async () => {
  ok(['run', '-d', '--name', 'p1', 'busybox', 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done']);
  await until(() => docker(['logs', 'p1']).stdout.split('\n').length > 3);
  ok(['pause', 'p1']);
  assert.equal(fmt('p1', '{{.State.Status}} {{.State.Running}} {{.State.Paused}}'), 'paused true true');
  assert.match(ok(['ps', '--filter', 'name=p1', '--format', '{{.Status}}']), /^Up .* \(Paused\)$/);
  const n = docker(['logs', 'p1']).stdout.length;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(docker(['logs', 'p1']).stdout.length, n, 'no output while frozen');
  const again = docker(['pause', 'p1']);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /is already paused/);
  const ex = docker(['exec', 'p1', 'true']);
  assert.notEqual(ex.status, 0);
  assert.match(ex.stderr, /is paused, unpause the container before exec/);
  ok(['unpause', 'p1']);
  assert.equal(fmt('p1', '{{.State.Status}} {{.State.Paused}}'), 'running false');
  await until(() => docker(['logs', 'p1']).stdout.length > n);
  const un = docker(['unpause', 'p1']);
  assert.match(un.stderr, /is not paused/);
  // Stopping a paused container thaws it after the signal.
  ok(['pause', 'p1']);
  ok(['stop', '-t', '5', 'p1']);
  assert.equal(fmt('p1', '{{.State.Status}}'), 'exited');
  const stopped = docker(['pause', 'p1']);
  assert.equal(stopped.status, 1);
  assert.match(stopped.stderr, /is not running/);
  ok(['rm', 'p1']);
});

test(
  'docker restart: a new process, RestartCount untouched, restart event; a stopped container just starts',
  { skip: noDocker },
  async () => {
    const t0 = stamp();
    ok(['run', '-d', '--name', 'r1', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; echo up; while :; do sleep 0.1; done']);
    const pid1 = Number(fmt('r1', '{{.State.Pid}}'));
    ok(['restart', '-t', '3', 'r1']);
    const [status, pid2, count] = fmt('r1', '{{.State.Status}} {{.State.Pid}} {{.RestartCount}}').split(' ');
    assert.equal(status, 'running');
    assert.notEqual(Number(pid2), pid1);
    assert.equal(count, '0');
    await until(() => docker(['logs', 'r1']).stdout === 'up\nup\n');
    ok(['stop', 'r1']);
    ok(['restart', 'r1']);
    assert.equal(fmt('r1', '{{.State.Status}}'), 'running');
    const evs = ok(['events', '--since', t0, '--until', stamp(), '--filter', 'container=r1', '--format', '{{.Action}}']).split('\n');
    assert.deepEqual(evs, ['create', 'start', 'kill', 'die', 'stop', 'start', 'restart', 'kill', 'die', 'stop', 'start', 'restart']);
    ok(['rm', '-f', 'r1']);
  },
);

test('docker rename: the new name finds it, the old does not; a name in use is a 409; rename event', { skip: noDocker }, () => {
  const t0 = stamp();
  ok(['create', '--name', 'n1', 'busybox', 'true']);
  ok(['create', '--name', 'n2', 'busybox', 'true']);
  ok(['rename', 'n1', 'n3']);
  assert.equal(fmt('n3', '{{.Name}}'), '/n3');
  assert.match(docker(['inspect', 'n1']).stderr, /No such (container|object): n1/);
  const taken = docker(['rename', 'n3', 'n2']);
  assert.equal(taken.status, 1);
  assert.match(taken.stderr, /The container name "\/n2" is already in use by container/);
  const bad = docker(['rename', 'n3', 'bad name!']);
  assert.match(bad.stderr, /Invalid container name/);
  const same = docker(['rename', 'n3', 'n3']);
  assert.match(same.stderr, /same name as its current name/);
  const ev = ok([
    'events',
    '--since',
    t0,
    '--until',
    stamp(),
    '--filter',
    'event=rename',
    '--format',
    '{{.Actor.Attributes.oldName}} {{.Actor.Attributes.name}}',
  ]);
  assert.equal(ev, '/n1 n3');
  ok(['rm', 'n3', 'n2']);
});

test('docker update: memory, swap, cpus, shares, pids and restart policy, live in the cgroup and in inspect', { skip: noDocker }, () => {
  ok(['run', '-d', '--name', 'u1', '--memory', '32m', 'busybox', 'sleep', '1000']);
  assert.equal(fmt('u1', '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}'), 'no 0');
  assert.equal(fmt('u1', '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}'), `${32 << 20} ${64 << 20}`);
  const pid = Number(fmt('u1', '{{.State.Pid}}'));
  assert.equal(cgroupFile(pid, 'memory', 'memory.limit_in_bytes'), String(32 << 20));
  ok([
    'update',
    '--memory',
    '48m',
    '--memory-swap',
    '96m',
    '--cpus',
    '0.5',
    '--cpu-shares',
    '512',
    '--pids-limit',
    '50',
    '--restart',
    'on-failure:2',
    'u1',
  ]);
  assert.equal(
    fmt(
      'u1',
      '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}',
    ),
    `${48 << 20} ${96 << 20} 500000000 512 50 on-failure 2`,
  );
  assert.equal(cgroupFile(pid, 'memory', 'memory.limit_in_bytes'), String(48 << 20));
  assert.equal(cgroupFile(pid, 'pids', 'pids.max'), '50');
  assert.equal(cgroupFile(pid, 'cpu', 'cpu.cfs_quota_us'), '50000');
  assert.equal(cgroupFile(pid, 'cpu', 'cpu.shares'), '512');
  // Docker's refusals.
  assert.match(docker(['update', '--memory', '1m', 'u1']).stderr, /Minimum memory limit allowed is 6MB/);
  assert.match(docker(['update', '--memory', '200m', 'u1']).stderr, /Memory limit should be smaller than already set memoryswap limit/);
  assert.match(docker(['update', '--cpu-quota', '20000', 'u1']).stderr, /CPU Quota cannot be updated as NanoCPUs has already been set/);
  assert.match(docker(['update', '--restart', 'sometimes', 'u1']).stderr, /invalid restart policy|unknown policy/);
  // The weight where the scheduler has one, else dockerd's warning (after the name, as docker prints it); realtime CPU in cpu.rt_*.
  const bw = docker(['update', '--blkio-weight', '300', 'u1']);
  assert.equal(bw.status, 0, bw.stderr);
  assert.ok(
    /^u1\nYour kernel does not support Block I\/O weight/.test(bw.stdout) || cgroupFile(pid, 'blkio', 'blkio.weight') === '300',
    bw.stdout,
  );
  if (existsSync('/sys/fs/cgroup/cpu/cpu.rt_period_us')) {
    ok(['update', '--cpu-rt-period', '500000', 'u1']);
    assert.equal(cgroupFile(pid, 'cpu', 'cpu.rt_period_us'), '500000');
    assert.equal(fmt('u1', '{{.HostConfig.CpuRealtimePeriod}}'), '500000');
  }
  ok(['update', '--cpuset-cpus', '0', 'u1']);
  assert.equal(cgroupFile(pid, 'cpuset', 'cpuset.cpus'), '0');
  assert.equal(fmt('u1', '{{.HostConfig.CpusetCpus}}'), '0');
  // Limits survive a stop: the next start has them.
  ok(['stop', '-t', '0', 'u1']);
  ok(['update', '--pids-limit', '40', 'u1']);
  ok(['start', 'u1']);
  assert.equal(cgroupFile(Number(fmt('u1', '{{.State.Pid}}')), 'pids', 'pids.max'), '40');
  assert.equal(cgroupFile(Number(fmt('u1', '{{.State.Pid}}')), 'memory', 'memory.limit_in_bytes'), String(48 << 20));
  ok(['rm', '-f', 'u1']);
});

test('dockerode: pause, unpause, rename, update, restart', async () => {
  const t0 = stamp();
  const c = await dockerode.createContainer({ Image: 'busybox', Cmd: ['sleep', '1000'], name: 'd1' });
  await c.start();
  await c.pause();
  assert.equal((await c.inspect()).State.Status, 'paused');
  await assert.rejects(c.pause(), (e: any) => e.statusCode === 409);
  await c.unpause();
  await assert.rejects(c.unpause(), (e: any) => e.statusCode === 409);
  await c.rename({ name: 'd2' });
  assert.equal((await c.inspect()).Name, '/d2');
  const r = await c.update({ Memory: 64 << 20, MemorySwap: 128 << 20, RestartPolicy: { Name: 'always' } });
  assert.deepEqual(r, { Warnings: [] });
  assert.equal((await c.inspect()).HostConfig.RestartPolicy?.Name, 'always');
  await c.restart({ t: 0 });
  assert.equal((await c.inspect()).State.Status, 'running');
  await c.remove({ force: true });
  const evs = (await dockerode.getEvents({
    since: Number(t0),
    until: Number(stamp()),
    filters: { container: [c.id] },
  })) as unknown as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of evs) text += chunk.toString();
  assert.deepEqual(
    text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).Action),
    // restart -t 0: the stop signal, SIGKILL at once, as dockerd.
    [
      'create',
      'start',
      'pause',
      'unpause',
      'rename',
      'update',
      'kill',
      'kill',
      'die',
      'stop',
      'start',
      'restart',
      'kill',
      'die',
      'destroy',
    ],
  );
});

test("Debian's docker 20.10: pause, unpause, rename, update, restart", { skip: noDocker20 }, () => {
  ok(['run', '-d', '--name', 'o1', 'busybox', 'sleep', '1000'], DOCKER_20);
  ok(['pause', 'o1'], DOCKER_20);
  assert.equal(ok(['inspect', '--format', '{{.State.Status}}', 'o1'], DOCKER_20), 'paused');
  ok(['unpause', 'o1'], DOCKER_20);
  ok(['rename', 'o1', 'o2'], DOCKER_20);
  ok(['update', '--pids-limit', '30', 'o2'], DOCKER_20);
  assert.equal(cgroupFile(Number(fmt('o2', '{{.State.Pid}}')), 'pids', 'pids.max'), '30');
  ok(['restart', '-t', '0', 'o2'], DOCKER_20);
  assert.equal(ok(['inspect', '--format', '{{.State.Status}}', 'o2'], DOCKER_20), 'running');
  ok(['rm', '-f', 'o2'], DOCKER_20);
});
