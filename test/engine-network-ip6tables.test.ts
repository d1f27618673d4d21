// ip6tables on IPv6 bridge networks, as dockerd 28 sets them (its `ip6tables` on by default, its
// userland proxy off), through the docker 28 CLI against one berthd whose daemon.json gives the
// default bridge IPv6 (`ipv6`, `fixed-cidr-v6`). An "outside" network namespace (a veth to the
// host, with no route to the containers' subnets) shows NAT out (a container's ping6 is answered
// only masqueraded) and a published port reached over IPv6 from elsewhere; the host reaches it on
// its own IPv6 address, a container of the network on the gateway's (hairpin); two networks are
// isolated over IPv6 as over IPv4; an IPv4-only container's `[::]` binding maps nothing, as
// dockerd's; a UDP flow from the outside seen before its port is published reaches the container
// once it is (its stale IPv6 conntrack entry deleted). Every ip6tables rule goes with the
// containers and networks. A second berthd with daemon.json `ipv6` alone gives the default bridge
// a /64 of its ULA pool, as dockerd 28; a third with `ip6tables: false` sets none. Subnets
// 10.236.x and fd42:b3e7::/48, host ports 18391-18396: no other test's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { formatCidr6, formatIp6, ulaPool } from '../src/network/ip6.js';
import { DOCKER, httpGet, startEngine, until, type EngineFixture } from './engine-fixture.js';

const PEER = 'berth-v6peer';
const VETH = 'berth-v6p0';
const OUTSIDE = 'fd42:b3e7:f::1'; // the host's end
const NETS = ['v6ta', 'v6tb', 'v6tc', 'v6te'];
let eng: EngineFixture | undefined;
const FORWARDING = '/proc/sys/net/ipv6/conf/all/forwarding';
// berthd's IPv6 bridges turn IPv6 forwarding on, as dockerd's do: the suite puts back what it found.
const forwarding = existsSync(FORWARDING) ? readFileSync(FORWARDING, 'utf8').trim() : undefined;

const skip =
  (!existsSync(DOCKER) && 'no docker CLI') ||
  (spawnSync('ip6tables-save', ['-t', 'nat']).status !== 0 && 'no ip6tables (nat table) on this host') ||
  false;
const ok = (...args: string[]) => eng!.dockerOk(args);
const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
const ip6tables = () =>
  ['filter', 'nat']
    .flatMap((t) => execFileSync('ip6tables-save', ['-t', t], { encoding: 'utf8' }).split('\n'))
    .filter((l) => !l.startsWith('#'));
/** The rules of the test's networks and of containers' ports (berth's chains stay while the default bridge is up). */
const berthRules = () => ip6tables().filter((l) => /BERTH-P-|-[io] berth-v6t/.test(l));
/** A command's output in the outside namespace (curl: the body, or '' when nothing answered). */
const outside = (...args: string[]) => spawnSync('ip', ['netns', 'exec', PEER, ...args], { encoding: 'utf8', timeout: 20_000 });

before(async () => {
  if (skip) return;
  eng = await startEngine({ daemonConfig: { ipv6: true, 'fixed-cidr-v6': 'fd42:b3e7:b::/64' } });
  // The outside: a namespace on a veth of the host's, reaching nothing but the host's end.
  ip('netns', 'add', PEER);
  ip('link', 'add', VETH, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', PEER);
  ip('addr', 'add', `${OUTSIDE}/64`, 'dev', VETH, 'nodad');
  ip('link', 'set', VETH, 'up');
  ip('-n', PEER, 'addr', 'add', 'fd42:b3e7:f::2/64', 'dev', 'eth0', 'nodad');
  ip('-n', PEER, 'link', 'set', 'eth0', 'up');
  ip('-n', PEER, 'link', 'set', 'lo', 'up');
});
after(async () => {
  if (skip) return;
  spawnSync('ip', ['link', 'del', VETH]);
  spawnSync('ip', ['netns', 'del', PEER]);
  for (const c of ['v6srv', 'v6four']) eng?.docker(['rm', '-f', c]);
  for (const n of NETS) eng?.docker(['network', 'rm', n]);
  await eng?.stop();
  if (forwarding !== undefined) writeFileSync(FORWARDING, forwarding);
});

const addr6 = (c: string, net: string) => ok('inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").GlobalIPv6Address}}`, c);
/** A one-off container on `net` running `sh -c script`: its exit status and output. */
const oneOff = (net: string, script: string) => eng!.docker(['run', '--rm', '--network', net, 'busybox', 'sh', '-c', script]);
/** Shell: GET /hostname from an IPv6 address (busybox's wget takes no IPv6 literal: its nc), the body or nothing within 3 s. */
const get6 = (addr: string, port: number) => `printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${addr} ${port} | tail -1`;

test("IPv6 networks: NAT out, a published port on :: and the host's IPv6 addresses, isolation between networks", { skip }, async () => {
  for (const [n, i] of [
    ['v6ta', 1],
    ['v6tb', 2],
  ] as const)
    ok(
      'network',
      'create',
      '--ipv6',
      '--subnet',
      `10.236.${i}.0/24`,
      '--subnet',
      `fd42:b3e7:${i}::/64`,
      '-o',
      `com.docker.network.bridge.name=berth-${n}`,
      n,
    );
  const srv = ok('run', '-d', '--name', 'v6srv', '--network', 'v6ta', '-p', '18391:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc');
  const id = srv.slice(0, 12);
  // dockerd 28: a binding with no host address is one for each family, on one port.
  const ports = {
    '80/tcp': [
      { HostIp: '0.0.0.0', HostPort: '18391' },
      { HostIp: '::', HostPort: '18391' },
    ],
  };
  assert.deepEqual(JSON.parse(ok('inspect', '-f', '{{json .NetworkSettings.Ports}}', srv)), ports);
  assert.deepEqual(JSON.parse(ok('inspect', '-f', '{{json .HostConfig.PortBindings}}', srv)), {
    '80/tcp': [{ HostIp: '', HostPort: '18391' }],
  });
  assert.equal(ok('port', srv).split('\n').sort().join('\n'), '80/tcp -> 0.0.0.0:18391\n80/tcp -> [::]:18391');
  const v6 = addr6(srv, 'v6ta');
  assert.match(v6, /^fd42:b3e7:1::/);
  const rules = berthRules();
  assert.ok(rules.includes('-A POSTROUTING -s fd42:b3e7:1::/64 ! -o berth-v6ta -j MASQUERADE'), rules.join('\n'));
  assert.ok(
    rules.some((l) => l.includes(`-j DNAT --to-destination [${v6}]:80`)),
    rules.join('\n'),
  );

  // The host, on its own IPv6 address (OUTPUT's DNAT), and the outside over IPv6 (PREROUTING's).
  await until(async () => (await httpGet(18391, OUTSIDE).catch(() => '')).includes(id));
  const far = outside('curl', '-sg', '-m', '5', `http://[${OUTSIDE}]:18391/hostname`);
  assert.equal(far.stdout.trim(), id, far.stderr);
  // The outside has no route to fd42:b3e7:1::/64: a ping6 from the container is answered only masqueraded.
  const out = oneOff('v6ta', 'ping6 -c1 -W5 fd42:b3e7:f::2');
  assert.equal(out.status, 0, out.stdout + out.stderr);
  // Hairpin: a container of the network reaches the port on the gateway's address; and its peer directly.
  const hair = oneOff('v6ta', `${get6('fd42:b3e7:1::1', 18391)}; ${get6(v6, 80)}`);
  assert.equal(hair.stdout.trim(), `${id}\n${id}`, hair.stderr);
  // Another network's container: not over IPv6, as not over IPv4 (isolation).
  const other = oneOff('v6tb', `ping6 -c1 -W3 fd42:b3e7:2::1 >/dev/null && echo gateway; ${get6(v6, 80)}; echo done`);
  assert.equal(other.stdout.trim(), 'gateway\ndone', other.stderr);

  // [::1]: not answered, as under dockerd 28 with its userland proxy off: the DNAT'd packet keeps
  // its loopback source, which the kernel will not route off the host (IPv6 has no route_localnet).
  await assert.rejects(httpGet(18391, '::1'));
  ok('rm', '-f', srv);
  await until(() => !berthRules().some((l) => l.includes('-j DNAT'))).catch(() =>
    assert.deepEqual(
      [
        berthRules(),
        eng!
          .daemonLog()
          .split('\n')
          .filter((l) => /warn|error/i.test(l)),
      ],
      [],
    ),
  );
});

test("an IPv4-only container's [::] binding maps nothing, as dockerd 28's with its userland proxy off", { skip }, () => {
  ok('network', 'create', '--subnet', '10.236.3.0/24', '-o', 'com.docker.network.bridge.name=berth-v6tc', 'v6tc');
  const c = ok('run', '-d', '--name', 'v6four', '--network', 'v6tc', '-p', '[::]:18392:80', '-p', '18393:81', 'busybox', 'sleep', '300');
  assert.deepEqual(JSON.parse(ok('inspect', '-f', '{{json .NetworkSettings.Ports}}', c)), {
    '80/tcp': null,
    '81/tcp': [{ HostIp: '0.0.0.0', HostPort: '18393' }],
  });
  assert.match(eng!.daemonLog(), /80\/tcp on ::: Cannot map from IPv6 to an IPv4-only container because the userland proxy is disabled/);
  assert.ok(!ip6tables().some((l) => l.includes('18392')));
  ok('rm', '-f', c);
});

test('the default bridge with fixed-cidr-v6: an IPv6 address and route for its containers, its subnet masqueraded', { skip }, () => {
  const n = JSON.parse(ok('network', 'inspect', 'bridge'))[0];
  assert.equal(n.EnableIPv6, true);
  assert.deepEqual(n.IPAM.Config[1], { Subnet: 'fd42:b3e7:b::/64', Gateway: 'fd42:b3e7:b::1' });
  const r = eng!.docker([
    'run',
    '--rm',
    'busybox',
    'sh',
    '-c',
    'ip -6 addr show eth0 scope global; ip -6 route show default; ping6 -c1 -W5 fd42:b3e7:f::2',
  ]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /inet6 fd42:b3e7:b::[0-9a-f]+\/64 scope global/);
  assert.match(r.stdout, /default via fd42:b3e7:b::1 dev eth0/);
  assert.ok(ip6tables().some((l) => l.startsWith('-A POSTROUTING -s fd42:b3e7:b::/64 ! -o berth') && l.endsWith('-j MASQUERADE')));
});

test(
  'a UDP flow over IPv6 seen before its port is published reaches the container once it is (its stale conntrack entry deleted)',
  { skip },
  async () => {
    ok(
      'network',
      'create',
      '--ipv6',
      '--subnet',
      '10.236.5.0/24',
      '--subnet',
      'fd42:b3e7:5::/64',
      '-o',
      'com.docker.network.bridge.name=berth-v6te',
      'v6te',
    );
    // From the outside, a datagram every 100 ms from one source port to the host's [OUTSIDE]:18396
    // before anything publishes it: its conntrack entry is made (unanswered, nothing listens).
    const node = (netns: string, script: string) =>
      spawn('nsenter', [`--net=${netns}`, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let sender: ChildProcess | undefined;
    let receiver: ChildProcess | undefined;
    let id = '';
    try {
      sender = node(
        `/run/netns/${PEER}`,
        `const s = require('dgram').createSocket('udp6'); let n = 0; s.bind(40124, () => setInterval(() => s.send(\`ping-\${n++}\\n\`, 18396, '${OUTSIDE}'), 100));`,
      );
      await new Promise((r) => setTimeout(r, 500));
      id = ok('run', '-d', '--network', 'v6te', '-p', '18396:9000/udp', 'busybox', 'sleep', '60');
      const pid = ok('inspect', '-f', '{{.State.Pid}}', id);
      // The container's side: a listener on its IPv6 address.
      receiver = node(
        `/proc/${pid}/ns/net`,
        "const s = require('dgram').createSocket({ type: 'udp6', ipv6Only: true }); s.on('message', (m) => process.stdout.write(m)); s.bind(9000);",
      );
      let got = '';
      receiver.stdout!.on('data', (c) => (got += c));
      await until(() => /^ping-\d+$/m.test(got), 10_000);
    } finally {
      sender?.kill();
      receiver?.kill();
      if (id) eng!.docker(['rm', '-f', id]);
    }
  },
);

test(
  "ipv6 without fixed-cidr-v6: the default bridge takes the first /64 of the host's ULA pool, as dockerd 28, and keeps it",
  { skip },
  async () => {
    const pooled = await startEngine({ daemonConfig: { ipv6: true } });
    let subnet = '';
    try {
      const pool = ulaPool(pooled.dockerOk(['info', '-f', '{{.ID}}']));
      subnet = formatCidr6({ addr: pool.addr, bits: 64 });
      const config = () => JSON.parse(pooled.dockerOk(['network', 'inspect', '-f', '{{json .IPAM.Config}}', 'bridge']))[1];
      assert.deepEqual(config(), { Subnet: subnet, Gateway: formatIp6(pool.addr + 1n) });
      const r = pooled.docker(['run', '--rm', 'busybox', 'sh', '-c', 'ip -6 addr show eth0 scope global; ping6 -c1 -W5 fd42:b3e7:f::2']);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.ok(r.stdout.includes(`inet6 ${formatIp6(pool.addr + 2n)}/64 scope global`), r.stdout);
      assert.ok(ip6tables().some((l) => l.startsWith(`-A POSTROUTING -s ${subnet} ! -o berth`) && l.endsWith('-j MASQUERADE')));
      await pooled.restart();
      assert.equal(config().Subnet, subnet);
    } finally {
      await pooled.stop();
    }
    assert.deepEqual(
      ip6tables().filter((l) => subnet && l.includes(subnet)),
      [],
    );
  },
);

test('every ip6tables rule of the networks goes with them, and berth chains with the last', { skip }, async () => {
  eng!.docker(['rm', '-f', 'v6srv', 'v6four']);
  for (const n of NETS) ok('network', 'rm', n);
  await until(() => berthRules().length === 0).catch(() => assert.deepEqual(berthRules(), []));
  const bridge = ok('network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.name"}}', 'bridge');
  await eng!.stop();
  eng = undefined;
  assert.deepEqual(
    ip6tables().filter((l) => l.includes('BERTH-') || l.includes(bridge)),
    [],
  );
});

test(
  'ip6tables: false sets no ip6tables rules: IPv6 addresses still, ports on IPv4 only, an IPv6 host address refused at create',
  { skip },
  async () => {
    const off = await startEngine({ daemonConfig: { ip6tables: false } });
    try {
      off.dockerOk([
        'network',
        'create',
        '--ipv6',
        '--subnet',
        'fd42:b3e7:4::/64',
        '-o',
        'com.docker.network.bridge.name=berth-v6td',
        'v6td',
      ]);
      const c = off.dockerOk(['run', '-d', '--network', 'v6td', '-p', '18394:80', 'busybox', 'sleep', '300']);
      assert.match(off.dockerOk(['inspect', '-f', '{{(index .NetworkSettings.Networks "v6td").GlobalIPv6Address}}', c]), /^fd42:b3e7:4::/);
      assert.deepEqual(JSON.parse(off.dockerOk(['inspect', '-f', '{{json .NetworkSettings.Ports}}', c])), {
        '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '18394' }],
      });
      assert.deepEqual(
        ip6tables().filter((l) => l.includes('berth-v6td') || l.includes('BERTH-P-')),
        [],
      );
      const r = off.docker(['run', '--rm', '--network', 'v6td', '-p', '[::]:18395:80', 'busybox', 'true']);
      assert.equal(r.status, 125);
      assert.match(r.stderr, /publishing a port on the IPv6 address :: is not supported by berthd with ip6tables off/);
      off.dockerOk(['rm', '-f', c]);
      off.dockerOk(['network', 'rm', 'v6td']);
    } finally {
      await off.stop();
    }
  },
);
