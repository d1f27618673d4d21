// Pods through the berth CLI against a private berthd: two containers of a pod share
// 127.0.0.1 and its hostname, the pod's published port answers on the host, members may not
// publish their own, the PID namespace is shared when asked (the infra's /pause is PID 1), stop
// and start, the pods and their state reload after a berthd restart, and `pod rm -f` leaves no
// container, netns pin, cgroup or NAT rule. The API refuses unknown fields.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH, DOCKER, httpGet, startEngine, until, type EngineFixture } from './engine-fixture.js';

const PORT = 19391;
let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
  ok('pull', 'busybox');
});
after(async () => {
  await eng?.stop();
});

function berth(...args: string[]) {
  const r = spawnSync(BERTH, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function ok(...args: string[]): string {
  const r = berth(...args);
  assert.equal(r.status, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** What is left on the host of a container: its cgroup folders, its netns pin, NAT rules naming the port. */
function leftovers(id: string): string[] {
  const cgroups = execFileSync('find', ['/sys/fs/cgroup', '-maxdepth', '4', '-name', id], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const pins = existsSync(join(eng.dir, 'run', 'netns')) ? readdirSync(join(eng.dir, 'run', 'netns')).filter((n) => n === id) : [];
  const rules = execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(`dport ${PORT}`) || l.includes(id));
  return [...cgroups, ...pins, ...rules];
}

test('two containers of a pod share localhost and a hostname; the pod publishes the port', async () => {
  const id = ok('pod', 'create', '--name', 'web', '-p', `127.0.0.1:${PORT}:80`, '--label', 'app=web');
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal(ok('pod', 'ls', '--format', '{{.Name}} {{.Status}} {{.NumberOfContainers}} {{.Labels}}'), 'web Created 1 app=web');
  ok('run', '-d', '--pod', 'web', '--name', 'srv', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc');
  // The server listens on the pod's loopback; the other member reaches it there.
  await until(() => berth('run', '--rm', '--pod', 'web', 'busybox', 'wget', '-qO-', 'http://127.0.0.1/hostname').stdout === 'web\n');
  assert.equal(await httpGet(PORT), 'web\n');
  assert.equal(ok('pod', 'ls', '--format', '{{.Name}} {{.Status}} {{.NumberOfContainers}}'), 'web Running 2');
  const psPod = ok('ps', '--pod', '--format', '{{.Names}} {{.PodName}} {{.Pod}}').split('\n').sort();
  assert.deepEqual(psPod, [`${id.slice(0, 12)}-infra web ${id.slice(0, 12)}`, `srv web ${id.slice(0, 12)}`]);
  // docker's default table is unchanged; --pod adds podman's columns.
  assert.doesNotMatch(ok('ps').split('\n')[0], /POD/);
  assert.match(ok('ps', '--pod').split('\n')[0], /NAMES\s+POD ID\s+PODNAME$/);
  const inspect = JSON.parse(ok('pod', 'inspect', 'web'))[0];
  assert.equal(inspect.State, 'Running');
  assert.deepEqual(inspect.SharedNamespaces, ['net', 'ipc', 'uts']);
  assert.deepEqual(inspect.InfraConfig.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(PORT) }] });
  assert.equal(ok('inspect', '-f', '{{.Pod}}', 'srv'), id);
  // The docker CLI lists and inspects a pod's members (the extra Pod field is nothing to it); the
  // infra container, which goes only with its pod, is listed only to berth's `ps --pod`.
  if (existsSync(DOCKER)) assert.deepEqual(eng.dockerOk(['ps', '-a', '--format', '{{.Names}}']).trim().split('\n'), ['srv']);
  assert.doesNotMatch(ok('ps', '-a', '--format', '{{.Names}}'), /-infra/);
  // Without a shared PID namespace, a member sees only its own processes.
  assert.equal(ok('run', '--rm', '--pod', 'web', 'busybox', 'ps', '-o', 'pid,comm').split('\n').length, 2);
  // Its infra container killed, the pod is degraded; a start brings the member back into a new one's namespaces.
  ok('kill', inspect.InfraContainerID);
  await until(() => ok('pod', 'ls', '--filter', 'name=web', '--format', '{{.Status}}') === 'Degraded');
  ok('pod', 'start', 'web');
  await until(() =>
    httpGet(PORT).then(
      (b) => b === 'web\n',
      () => false,
    ),
  );
});

test('a member may not publish ports or pick a network; the infra container goes only with its pod', () => {
  const p = berth('run', '--rm', '--pod', 'web', '-p', '8081:81', 'busybox', 'true');
  assert.equal(p.status, 125);
  assert.match(p.stderr, /published or exposed ports must be defined when the pod is created/);
  const n = berth('create', '--pod', 'web', '--network', 'host', 'busybox', 'true');
  assert.match(n.stderr, /networks must be defined when the pod is created/);
  const h = berth('create', '--pod', 'web', '--hostname', 'x', 'busybox', 'true');
  assert.match(h.stderr, /cannot set hostname when joining the pod's UTS namespace/);
  const infra = JSON.parse(ok('pod', 'inspect', 'web'))[0].InfraContainerID as string;
  const rm = berth('rm', '-f', infra);
  assert.equal(rm.status, 1);
  assert.match(rm.stderr, /is the infra container of pod .* and cannot be removed without removing the pod/);
  const missing = berth('run', '--rm', '--pod', 'nope', 'busybox', 'true');
  assert.match(missing.stderr, /no pod with name or ID nope found/);
});

test('a pod sharing its PID namespace: members see the infra as PID 1 and each other; stop and start', async () => {
  ok('pod', 'create', '--name', 'pids', '--share', '+pid');
  ok('run', '-d', '--pod', 'pids', '--name', 'sleeper', 'busybox', 'sleep', '600');
  const ps = ok('run', '--rm', '--pod', 'pids', 'busybox', 'ps', '-o', 'pid,args');
  assert.match(ps, /^\s*1 \/pause$/m);
  assert.match(ps, /^\s*\d+ sleep 600$/m);
  assert.equal(ok('pod', 'stop', '-t', '1', 'pids').length, 64);
  assert.equal(ok('pod', 'ls', '--filter', 'name=pids', '--format', '{{.Status}}'), 'Exited');
  ok('pod', 'start', 'pids');
  assert.equal(ok('pod', 'ls', '--filter', 'name=pids', '--format', '{{.Status}}'), 'Running');
  assert.match(ok('exec', 'sleeper', 'ps', '-o', 'pid,args'), /^\s*1 \/pause$/m);
  assert.match(ok('pod', 'top', 'pids'), /sleep 600/);
  // Its infra container (PID 1 of the shared namespace) killed, the kernel ends every member too.
  const infra = JSON.parse(ok('pod', 'inspect', 'pids'))[0].InfraContainerID as string;
  ok('kill', infra);
  await until(() => ok('pod', 'ls', '--filter', 'name=pids', '--format', '{{.Status}}') === 'Exited');
  ok('pod', 'start', 'pids');
  assert.match(ok('exec', 'sleeper', 'ps', '-o', 'pid,args'), /^\s*1 \/pause$/m);
});

test('on a user-defined network, the pod answers to its name and aliases; members share its hosts and resolv.conf', async () => {
  ok('network', 'create', '--subnet', '10.219.5.0/24', 'podnet');
  ok('pod', 'create', '--name', 'db', '--network', 'podnet', '--network-alias', 'database');
  ok('run', '-d', '--pod', 'db', '--name', 'dbsrv', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc');
  const get = (url: string, ...where: string[]) => berth('run', '--rm', ...where, 'busybox', 'wget', '-qO-', url).stdout;
  await until(() => get('http://db/hostname', '--network', 'podnet') === 'db\n');
  assert.equal(get('http://database/hostname', '--network', 'podnet'), 'db\n');
  // A member of another pod on the network finds it by name through the embedded DNS.
  ok('pod', 'create', '--name', 'client', '--network', 'podnet');
  assert.equal(get('http://database/hostname', '--pod', 'client'), 'db\n');
  const infraIp = ok(
    'inspect',
    '-f',
    '{{.NetworkSettings.Networks.podnet.IPAddress}}',
    JSON.parse(ok('pod', 'inspect', 'db'))[0].InfraContainerID,
  );
  assert.match(ok('exec', 'dbsrv', 'cat', '/etc/hosts'), new RegExp(`^${infraIp.replace(/\./g, '\\.')}\\tdb$`, 'm'));
  assert.match(ok('exec', 'dbsrv', 'cat', '/etc/resolv.conf'), /^nameserver 10\.219\.5\.1$/m);
  assert.match(berth('pod', 'create', '--name', 'x', '--network-alias', 'y').stderr, /--network-alias needs a user-defined --network/);
  ok('pod', 'rm', '-f', 'db', 'client');
  ok('network', 'rm', 'podnet');
});

test('pods reload after a berthd restart, their containers adopted', async () => {
  await eng.restart();
  assert.deepEqual(ok('pod', 'ls', '--format', '{{.Name}} {{.Status}}').split('\n').sort(), ['pids Running', 'web Running']);
  assert.equal(await httpGet(PORT), 'web\n');
});

test("pod rm: refused while members run, then -f leaves nothing of the pod's; prune", () => {
  const pod = JSON.parse(ok('pod', 'inspect', 'web'))[0];
  const ids: string[] = pod.Containers.map((c: { Id: string }) => c.Id);
  const r = berth('pod', 'rm', 'web');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /pod web has running containers \(srv\)/);
  assert.equal(ok('pod', 'rm', '-f', 'web'), pod.Id);
  // prune removes a pod none of whose containers runs.
  const pids = JSON.parse(ok('pod', 'inspect', 'pids'))[0].Id as string;
  ok('pod', 'stop', '-t', '1', 'pids');
  assert.equal(ok('pod', 'prune', '-f'), pids);
  assert.equal(ok('ps', '-a', '-q'), '');
  assert.equal(ok('pod', 'ls', '-q'), '');
  for (const id of ids) assert.deepEqual(leftovers(id), [], id);
});

test(
  'docker rm -f $(docker ps -aq) succeeds with a pod there: its members go, the pod and its infra stay',
  { skip: !existsSync(DOCKER) },
  () => {
    ok('pod', 'create', '--name', 'rmall');
    ok('run', '-d', '--pod', 'rmall', '--name', 'rmall-m', 'busybox', 'sleep', '600');
    const ids = eng.dockerOk(['ps', '-aq']).trim().split('\n');
    assert.equal(ids.length, 1, ids.join(' '));
    const r = eng.docker(['rm', '-f', ...ids]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(eng.dockerOk(['ps', '-aq']).trim(), '');
    assert.equal(ok('pod', 'ls', '--format', '{{.Name}} {{.NumberOfContainers}}'), 'rmall 1');
    ok('pod', 'rm', '-f', 'rmall');
  },
);

test('the API: versioned paths, unknown fields and parameters refused', async () => {
  const bogus = await eng.api('POST', '/v1.43/pods/create', { name: 'x', bogus: 1 });
  assert.equal(bogus.status, 400);
  assert.match(bogus.body, /unknown field bogus/);
  const nested = await eng.api('POST', '/pods/create', { portmappings: [{ container_port: 80, hostport: 8080 }] });
  assert.match(nested.body, /unknown field portmappings\[0\]\.hostport/);
  assert.equal((await eng.api('GET', '/v1.43/pods/json?all=1')).status, 400);
  assert.equal((await eng.api('GET', '/v1.43/pods/json')).body.trim(), '[]');
  assert.equal((await eng.api('GET', '/pods/nope/json')).status, 404);
  // Left running for the fixture's clean-up, which removes pods before containers (the leak check follows).
  assert.equal(
    (await eng.api('POST', '/pods/create', { name: 'left', portmappings: [{ container_port: 80, host_port: PORT }] })).status,
    201,
  );
  const m = await eng.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '600'], Pod: 'left' });
  assert.equal(m.status, 201, m.body);
  assert.equal((await eng.api('POST', `/containers/${JSON.parse(m.body).Id}/start`)).status, 204);
});
