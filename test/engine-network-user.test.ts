// User-defined networks through the docker CLI 28 and the berth CLI: create/ls/inspect/rm/prune
// (subnet, gateway, ip-range, internal, labels), --ip, --network-alias, --mac-address; names
// resolved by the embedded DNS server; isolation between networks; connect/disconnect live;
// /etc/hosts and /etc/resolv.conf; a berthd restart keeps addresses, names and published ports.
// Traffic goes only to containers the test made and to the host's loopback.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { BERTH, DOCKER, httpGet, startEngine, until, type EngineFixture } from './engine-fixture.js';
import { answer, parseQuery } from '../src/network/dns.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
});
after(async () => {
  for (const n of ['berth-ta', 'berth-tb', 'berth-tint', 'berth-tcli', 'berth-tcli2']) docker('network', 'rm', n);
  await eng?.stop();
});

function run(bin: string, args: string[]) {
  const config = join(eng.dir, 'docker-config');
  mkdirSync(config, { recursive: true });
  const r = spawnSync(bin === 'berth' ? process.execPath : DOCKER, bin === 'berth' ? [BERTH, ...args] : args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, DOCKER_HOST: eng.host, BERTH_HOST: eng.host, DOCKER_CONFIG: config },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const docker = (...args: string[]) => run('docker', args);
const ok = (...args: string[]) => eng.dockerOk(args);

const skip = !existsSync(DOCKER) && 'no docker CLI';

test('names through the embedded DNS, aliases, --ip, --mac-address, hosts and resolv.conf', { skip }, () => {
  ok(
    'network',
    'create',
    '--subnet',
    '10.213.7.0/24',
    '--gateway',
    '10.213.7.254',
    '--ip-range',
    '10.213.7.128/25',
    '--label',
    'berth.test=a',
    'berth-ta',
  );
  const net = JSON.parse(ok('network', 'inspect', 'berth-ta'))[0];
  assert.deepEqual(net.IPAM.Config, [{ Subnet: '10.213.7.0/24', Gateway: '10.213.7.254', IPRange: '10.213.7.128/25' }]);
  assert.equal(net.Labels['berth.test'], 'a');
  const srv = ok(
    'run',
    '-d',
    '--name',
    'srv',
    '--network',
    'berth-ta',
    '--network-alias',
    'web',
    '--ip',
    '10.213.7.200',
    '--mac-address',
    '02:42:0a:d5:07:c8',
    'busybox',
    'httpd',
    '-f',
    '-p',
    '80',
    '-h',
    '/etc',
  );
  assert.equal(
    ok(
      'inspect',
      '-f',
      '{{(index .NetworkSettings.Networks "berth-ta").IPAddress}} {{(index .NetworkSettings.Networks "berth-ta").MacAddress}}',
      srv,
    ),
    '10.213.7.200 02:42:0a:d5:07:c8',
  );
  const out = ok(
    'run',
    '--rm',
    '--name',
    'cli',
    '--network',
    'berth-ta',
    'busybox',
    'sh',
    '-c',
    'wget -qO- http://srv/hostname; wget -qO- http://web/hostname; cat /etc/resolv.conf; grep ^10.213 /etc/hosts; ip -4 addr show eth0 | grep -o "inet [0-9.]*"; cat /sys/class/net/eth0/address',
  );
  const lines = out.split('\n');
  assert.equal(lines[0], srv.slice(0, 12));
  assert.equal(lines[1], srv.slice(0, 12));
  assert.match(out, /^nameserver 10\.213\.7\.254$/m);
  assert.doesNotMatch(out, /nameserver (?!10\.213\.7\.254)/);
  const ip = /inet (10\.213\.7\.(\d+))/.exec(out);
  assert.ok(ip && Number(ip[2]) >= 128 && Number(ip[2]) < 254, out);
  assert.match(out, new RegExp(`^${ip![1].replace(/\./g, '\\.')}\\s+[0-9a-f]{12}$`, 'm'));
  const inspected = JSON.parse(ok('network', 'inspect', 'berth-ta'))[0];
  assert.deepEqual(Object.keys(inspected.Containers), [srv]);
  assert.equal(inspected.Containers[srv].IPv4Address, '10.213.7.200/24');
  // In use: 403 with dockerd's words; the --ip outside the subnet is the caller's mistake.
  const rm = docker('network', 'rm', 'berth-ta');
  assert.notEqual(rm.status, 0);
  assert.match(rm.stderr, /has active endpoints/);
  const bad = docker('run', '--rm', '--network', 'berth-ta', '--ip', '10.9.9.9', 'busybox', 'true');
  assert.match(bad.stderr, /no configured subnet or ip-range contain the IP address 10\.9\.9\.9/);
  ok('rm', '-f', srv);
  // DNSNames as moby 28's buildEndpointDNSNames: the name, the aliases, the short ID, the hostname,
  // each once; set at the start (null before), kept at a stop (cleanOperationalData leaves them).
  const named = ok(
    'create',
    '--name',
    'named',
    '--network',
    'berth-ta',
    '--network-alias',
    'web2',
    '--network-alias',
    'named',
    '--hostname',
    'hostx',
    'busybox',
    'httpd',
    '-f',
    '-p',
    '80',
    '-h',
    '/etc',
  );
  const dnsNames = () => ok('inspect', '-f', '{{json (index .NetworkSettings.Networks "berth-ta").DNSNames}}', named);
  assert.equal(dnsNames(), 'null');
  ok('start', named);
  const names = JSON.stringify(['named', 'web2', named.slice(0, 12), 'hostx']);
  assert.equal(dnsNames(), names);
  // The hostname is a name on the network, as under dockerd 28.
  assert.equal(ok('run', '--rm', '--network', 'berth-ta', 'busybox', 'wget', '-qO-', 'http://hostx/hostname'), 'hostx');
  ok('stop', '-t', '0', named);
  assert.equal(dnsNames(), names);
  ok('rm', '-f', named);
});

test("other names are relayed to the container's --dns (a fake upstream on the host's loopback)", { skip }, async () => {
  // Nothing leaves the host: the upstream is this test's server on 127.0.0.77:53.
  const upstream = createSocket('udp4');
  upstream.on('message', (msg, from) => {
    const q = parseQuery(msg);
    if (q)
      upstream.send(
        q.name === 'elsewhere.test' && q.type === 1 ? answer(msg, q, ['10.77.0.7']) : answer(msg, q, [], 3),
        from.port,
        from.address,
      );
  });
  await new Promise<void>((r) => upstream.bind(53, '127.0.0.77', r));
  try {
    // Not spawnSync: this process must answer the relayed query meanwhile.
    const out = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        DOCKER,
        ['run', '--rm', '--network', 'berth-ta', '--dns', '127.0.0.77', 'busybox', 'nslookup', '-type=a', 'elsewhere.test'],
        { env: { ...process.env, DOCKER_HOST: eng.host, DOCKER_CONFIG: join(eng.dir, 'docker-config') }, timeout: 60_000 },
        (err, stdout, stderr) => resolve({ status: err ? 1 : 0, stdout, stderr }),
      );
    });
    assert.equal(out.status, 0, out.stderr + out.stdout);
    assert.match(out.stdout, /Address: 10\.77\.0\.7/);
    assert.match(out.stdout, /Server:\s+10\.213\.7\.254/);
  } finally {
    upstream.close();
  }
});

test('isolation between networks, --internal has no route out, connect and disconnect live', { skip }, () => {
  ok('network', 'create', 'berth-tb');
  ok('network', 'create', '--internal', 'berth-tint');
  const srv = ok('run', '-d', '--name', 'srv2', '--network', 'berth-ta', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc');
  const srvIp = ok('inspect', '-f', '{{(index .NetworkSettings.Networks "berth-ta").IPAddress}}', srv);
  // --init: busybox's timeout execs wget in its own place, and as PID 1 wget would ignore the
  // SIGTERM sent when the time is up (the dropped SYNs are retried for two minutes).
  const other = docker(
    'run',
    '--rm',
    '--init',
    '--network',
    'berth-tb',
    'busybox',
    'timeout',
    '3',
    'wget',
    '-qO-',
    `http://${srvIp}/hostname`,
  );
  assert.notEqual(other.status, 0, 'a container on another network reached the server');
  // (The same request from the server's own network gets through: the refusal above is the isolation.)
  assert.equal(
    ok('run', '--rm', '--network', 'berth-ta', 'busybox', 'timeout', '3', 'wget', '-qO-', `http://${srvIp}/hostname`),
    srv.slice(0, 12),
  );
  assert.equal(ok('run', '--rm', '--network', 'berth-tint', 'busybox', 'sh', '-c', 'ip route | grep -c default || true'), '0');
  const c = ok('run', '-d', '--name', 'roamer', '--network', 'berth-tb', 'busybox', 'sleep', '60');
  ok('network', 'connect', '--alias', 'wanderer', 'berth-ta', 'roamer');
  assert.equal(ok('exec', c, 'timeout', '5', 'wget', '-qO-', 'http://srv2/hostname'), srv.slice(0, 12));
  assert.equal(ok('exec', 'srv2', 'sh', '-c', 'ping -c1 -W2 wanderer >/dev/null && echo reached'), 'reached');
  ok('network', 'disconnect', 'berth-ta', 'roamer');
  assert.equal(ok('exec', c, 'sh', '-c', 'ls /sys/class/net | sort | tr "\\n" " "'), 'eth0 lo');
  assert.equal(ok('inspect', '-f', '{{len .NetworkSettings.Networks}}', c), '1');
  // A disconnect leaves a gap the next connect fills (no two interfaces of one name).
  ok('network', 'connect', 'berth-tint', 'roamer');
  ok('network', 'connect', 'berth-ta', 'roamer');
  ok('network', 'disconnect', 'berth-tint', 'roamer');
  ok('network', 'connect', 'berth-tint', 'roamer');
  assert.equal(ok('exec', c, 'sh', '-c', 'ls /sys/class/net | sort | tr "\\n" " "'), 'eth0 eth1 eth2 lo');
  assert.equal(ok('exec', c, 'timeout', '5', 'wget', '-qO-', 'http://srv2/hostname'), srv.slice(0, 12));
  ok('rm', '-f', c, srv);
  assert.equal(ok('network', 'ls', '-q', '--filter', 'label=berth.test=a').length, 12);
  const pruned = ok('network', 'prune', '-f', '--filter', 'label!=berth.test=a');
  assert.match(pruned, /berth-tb/);
  assert.match(pruned, /berth-tint/);
  assert.doesNotMatch(pruned, /berth-ta/);
});

test('berth network create/ls/inspect/connect/disconnect/rm', { skip }, () => {
  const berth = (...args: string[]) => {
    const r = run('berth', args);
    assert.equal(r.status, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const id = berth('network', 'create', '--label', 'x=y', 'berth-tcli');
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.match(berth('network', 'ls'), /berth-tcli\s+bridge\s+local/);
  assert.match(berth('network', 'ls'), /\bbridge\s+bridge\s+local/);
  assert.equal(JSON.parse(berth('network', 'inspect', 'berth-tcli'))[0].Labels.x, 'y');
  const c = ok('run', '-d', 'busybox', 'sleep', '60');
  berth('network', 'connect', 'berth-tcli', c);
  assert.match(ok('exec', c, 'ls', '/sys/class/net'), /eth1/);
  berth('network', 'disconnect', 'berth-tcli', c);
  ok('rm', '-f', c);
  assert.equal(berth('network', 'rm', 'berth-tcli'), 'berth-tcli');
  const gone = run('berth', ['network', 'inspect', 'berth-tcli']);
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /network berth-tcli not found/);
  const events = ok(
    'events',
    '--since',
    since,
    '--until',
    String(Math.floor(Date.now() / 1000) + 1),
    '--filter',
    'type=network',
    '--filter',
    'network=berth-tcli',
    '--format',
    '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}} {{.Actor.Attributes.container}}',
  );
  assert.deepEqual(events.split('\n'), [
    'create berth-tcli bridge <no value>',
    `connect berth-tcli bridge ${c}`,
    `disconnect berth-tcli bridge ${c}`,
    'destroy berth-tcli bridge <no value>',
  ]);
});

test('berth run --ip, --network-alias and --mac-address on a user network', { skip }, () => {
  const berth = (...args: string[]) => {
    const r = run('berth', args);
    assert.equal(r.status, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  berth('network', 'create', '--subnet', '10.213.9.0/24', 'berth-tcli2');
  const srv = berth(
    'run',
    '-d',
    '--network',
    'berth-tcli2',
    '--ip',
    '10.213.9.9',
    '--network-alias',
    'svc',
    '--mac-address',
    '02:42:0a:d5:09:09',
    'busybox',
    'sleep',
    '60',
  );
  try {
    assert.equal(
      ok(
        'inspect',
        '-f',
        '{{(index .NetworkSettings.Networks "berth-tcli2").IPAddress}} {{(index .NetworkSettings.Networks "berth-tcli2").MacAddress}}',
        srv,
      ),
      '10.213.9.9 02:42:0a:d5:09:09',
    );
    assert.match(berth('run', '--rm', '--network', 'berth-tcli2', 'busybox', 'nslookup', 'svc'), /Address: 10\.213\.9\.9/);
  } finally {
    ok('rm', '-f', srv);
    berth('network', 'rm', 'berth-tcli2');
  }
});

test('a berthd restart keeps addresses, names and published ports; ports answer while it is down', { skip }, async () => {
  const srv = ok(
    'run',
    '-d',
    '--name',
    'srv3',
    '--network',
    'berth-ta',
    '-p',
    '127.0.0.1:18181:80',
    'busybox',
    'httpd',
    '-f',
    '-p',
    '80',
    '-h',
    '/etc',
  );
  const ip = ok('inspect', '-f', '{{(index .NetworkSettings.Networks "berth-ta").IPAddress}}', srv);
  const client = ok('run', '-d', '--network', 'berth-ta', 'busybox', 'sleep', '120');
  // A --mac-address without --ip, on a user network and on the default bridge, survives a stop
  // and a berthd restart (a stop used to drop it, and the next start gave a random MAC).
  const macs = [
    ['berth-ta', '02:42:0a:d5:07:c9'],
    ['bridge', '02:42:0a:d5:07:ca'],
  ].map(([net, mac]) => ({ net, mac, id: ok('run', '-d', '--network', net, '--mac-address', mac, 'busybox', 'sleep', '120') }));
  const macOf = (c: { net: string; id: string }) => ({
    inside: ok('exec', c.id, 'cat', '/sys/class/net/eth0/address'),
    inspect: ok('inspect', '-f', `{{(index .NetworkSettings.Networks "${c.net}").MacAddress}}`, c.id),
  });
  for (const c of macs) {
    ok('stop', '-t', '0', c.id);
    ok('start', c.id);
    assert.deepEqual(macOf(c), { inside: c.mac, inspect: c.mac });
    ok('stop', '-t', '0', c.id);
  }
  await until(async () => (await httpGet(18181).catch(() => '')).includes(srv.slice(0, 12)));
  await eng.restart('SIGKILL', async () => {
    assert.match(await httpGet(18181), new RegExp(srv.slice(0, 12)));
  });
  for (const c of macs) {
    ok('start', c.id);
    assert.deepEqual(macOf(c), { inside: c.mac, inspect: c.mac });
  }
  assert.equal(ok('inspect', '-f', '{{(index .NetworkSettings.Networks "berth-ta").IPAddress}}', srv), ip);
  assert.equal(ok('exec', client, 'timeout', '5', 'wget', '-qO-', 'http://srv3/hostname'), srv.slice(0, 12));
  // Published on 127.0.0.1 only: the host's other addresses do not answer it.
  const hostIp = Object.entries(networkInterfaces())
    .filter(([n]) => !n.startsWith('berth') && n !== 'lo')
    .flatMap(([, a]) => a ?? [])
    .find((a) => a.family === 'IPv4')?.address;
  if (hostIp)
    assert.equal(
      await httpGet(18181, hostIp).then(
        () => 'answered',
        () => 'refused',
      ),
      'refused',
    );
  await eng.restart('SIGTERM');
  assert.equal(ok('exec', client, 'timeout', '5', 'wget', '-qO-', 'http://srv3/hostname'), srv.slice(0, 12));
  assert.match(await httpGet(18181), new RegExp(srv.slice(0, 12)));
  ok('rm', '-f', srv, client, ...macs.map((c) => c.id));
  ok('network', 'rm', 'berth-ta');
});
