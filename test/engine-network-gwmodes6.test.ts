// Bridge networks' IPv6 gateway modes (`com.docker.network.bridge.gateway_mode_ipv6`) and
// `com.docker.network.host_ipv6`, read from their effects on the real kernel through the docker
// 28 CLI, as dockerd 28 sets them in ip6tables (dockerd 20.10 has no gateway modes: berthd only).
// A "client" network namespace, joined to the host by a veth pair and routing the containers'
// subnets through the host, plays the outside world. routed: the client reaches a container's
// published port at the container's IPv6 address (not an unpublished one), pings it, and sees
// that address as the source of its connections, while the IPv4 side keeps its host port; nat
// with host_ipv6: no direct access, the host port on the host's IPv6 address, host_ipv6 the
// source seen; nat-unprotected: any port directly; IPv4 routed beside IPv6 nat: inspect shows
// `0.0.0.0` with no host port and `::` with one, the IPv6 host port answering; isolated (internal):
// IPv6 off on the bridge, the subnet's first address a container's. Each as it was after a berthd
// restart; every rule gone with the networks. Subnets 10.238.x and fd42:b3e8::/48, host ports
// 18293-18296: no other test's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DOCKER, startEngine, until, type EngineFixture } from './engine-fixture.js';
import { addressEchoServer, webServerArgs } from './helpers/web-server.js';

const NS = 'berth-gw6c';
const HOST_IF = 'bgw6-h';
const CLIENT = 'fd42:b3e8:0:100::2';
const HOST = 'fd42:b3e8:0:100::1';
/** The host's second address on the client's link: host_ipv6 of the nat network. */
const SNAT = 'fd42:b3e8:0:100::3';
const CLIENT4 = '10.238.100.2';
const HOST4 = '10.238.100.1';
const GW6 = 'com.docker.network.bridge.gateway_mode_ipv6';
const NETS = {
  routed: { name: 'berth-g6r', bridge: 'berth-g6r0', n: 1, opts: { [GW6]: 'routed' } },
  nat: { name: 'berth-g6n', bridge: 'berth-g6n0', n: 2, opts: { 'com.docker.network.host_ipv6': SNAT } },
  unprot: { name: 'berth-g6u', bridge: 'berth-g6u0', n: 3, opts: { [GW6]: 'nat-unprotected' } },
  routed4: { name: 'berth-g6f', bridge: 'berth-g6f0', n: 4, opts: { 'com.docker.network.bridge.gateway_mode_ipv4': 'routed' } },
  isolated: { name: 'berth-g6x', bridge: 'berth-g6x0', n: 5, opts: { [GW6]: 'isolated' } },
};
const FORWARDING = '/proc/sys/net/ipv6/conf/all/forwarding';

let eng: EngineFixture;
let server: ChildProcess | undefined;
const forwarding = existsSync(FORWARDING) ? readFileSync(FORWARDING, 'utf8').trim() : undefined;
const sh = (cmd: string, ...args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
/** In the client's namespace: a command's result. */
const client = (...args: string[]) => spawnSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8', timeout: 20_000 });
/** What the client gets from http://ADDR:PORT/hostname (curl, 3 s), or undefined. */
const fromClient = (addr: string, port: number) => {
  const r = client('curl', '-sgf', '-m', '3', `http://${addr.includes(':') ? `[${addr}]` : addr}:${port}/hostname`);
  return r.status === 0 ? r.stdout.trim() : undefined;
};
const ip6tables = () =>
  ['filter', 'nat', 'raw'].flatMap((t) => spawnSync('ip6tables-save', ['-t', t], { encoding: 'utf8' }).stdout.split('\n'));
const ours = () =>
  [...ip6tables(), ...spawnSync('iptables-save', { encoding: 'utf8' }).stdout.split('\n')].filter(
    (l) => Object.values(NETS).some((n) => l.includes(n.bridge)) || l.includes('fd42:b3e8:') || l.includes('10.238.'),
  );

const skip =
  (!existsSync(DOCKER) && 'no docker CLI') ||
  (spawnSync('ip6tables-save', ['-t', 'nat']).status !== 0 && 'no ip6tables (nat table) on this host') ||
  false;

before(async () => {
  if (skip) return;
  eng = await startEngine();
  sh('ip', 'netns', 'add', NS);
  sh('ip', 'link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', 'bgw6-c', 'netns', NS);
  for (const a of [`${HOST}/64`, `${SNAT}/64`]) sh('ip', 'addr', 'add', a, 'dev', HOST_IF, 'nodad');
  sh('ip', 'addr', 'add', `${HOST4}/29`, 'dev', HOST_IF);
  sh('ip', 'link', 'set', HOST_IF, 'up');
  sh('ip', '-n', NS, 'addr', 'add', `${CLIENT}/64`, 'dev', 'bgw6-c', 'nodad');
  sh('ip', '-n', NS, 'addr', 'add', `${CLIENT4}/29`, 'dev', 'bgw6-c');
  sh('ip', '-n', NS, 'link', 'set', 'bgw6-c', 'up');
  sh('ip', '-n', NS, 'link', 'set', 'lo', 'up');
  sh('ip', '-n', NS, 'route', 'add', 'fd42:b3e8::/48', 'via', HOST);
  sh('ip', '-n', NS, 'route', 'add', '10.238.0.0/16', 'via', HOST4);
  // The client's web server answers with the address a connection came from.
  server = addressEchoServer(NS, CLIENT);
});

after(async () => {
  if (skip) return;
  if (server?.pid && server.exitCode === null) server.kill('SIGKILL');
  for (const n of Object.values(NETS)) eng?.docker(['network', 'rm', n.name]);
  await eng?.stop();
  spawnSync('ip', ['netns', 'del', NS]);
  spawnSync('ip', ['link', 'del', HOST_IF]);
  // The bridges' IPv6 turned forwarding on, as dockerd's does: back as it was.
  if (forwarding !== undefined) writeFileSync(FORWARDING, forwarding);
});

const ok = (...args: string[]) => eng.dockerOk(args);
const create = (n: (typeof NETS)[keyof typeof NETS], ...extra: string[]) =>
  ok(
    'network',
    'create',
    '--ipv6',
    '--subnet',
    `10.238.${n.n}.0/24`,
    '--subnet',
    `fd42:b3e8:0:${n.n}::/64`,
    '-o',
    `com.docker.network.bridge.name=${n.bridge}`,
    ...Object.entries(n.opts).flatMap(([k, v]) => ['-o', `${k}=${v}`]),
    ...extra,
    n.name,
  );
const web = (net: string, ...publish: string[]) => ok(...webServerArgs(net, ...publish));
const field = (id: string, f: string) => ok('inspect', '-f', `{{range .NetworkSettings.Networks}}{{.${f}}}{{end}}`, id);
const ports = (id: string) => JSON.parse(ok('inspect', '-f', '{{json .NetworkSettings.Ports}}', id));
/** The source address the client sees of a connection from the container (busybox's wget takes no IPv6 literal: its nc). */
const seenFrom = (id: string) =>
  ok('exec', id, 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${CLIENT} 9000 | tail -1`).replace(/^::ffff:/, '');

test(
  'gateway_mode_ipv6 (routed, nat-unprotected, isolated) and host_ipv6: their effects in ip6tables; routed IPv4 beside IPv6 NAT',
  { skip },
  async () => {
    const bad = eng.docker(['network', 'create', '-o', `${GW6}=bridged`, 'berth-g6bad']);
    assert.match(
      bad.stderr,
      /failed to parse com\.docker\.network\.bridge\.gateway_mode_ipv6 value: bridged \(unknown gateway mode bridged\)/,
    );
    const notInternal = eng.docker(['network', 'create', '--ipv6', '-o', `${GW6}=isolated`, 'berth-g6bad']);
    assert.match(notInternal.stderr, /gateway mode 'isolated' can only be used for an internal network/);
    const v4host = eng.docker(['network', 'create', '-o', 'com.docker.network.host_ipv6=10.0.0.1', 'berth-g6bad']);
    assert.match(v4host.stderr, /com\.docker\.network\.host_ipv6 10\.0\.0\.1: the source address of IPv6 traffic must be an IPv6 address/);
    for (const n of [NETS.routed, NETS.nat, NETS.unprot, NETS.routed4]) create(n);
    create(NETS.isolated, '--internal');

    const routed = web(NETS.routed.name, '18293:80');
    const nat = web(NETS.nat.name, '18294:80');
    const unprot = web(NETS.unprot.name);
    const routed4 = web(NETS.routed4.name, '18295:80');
    const isolated = ok('run', '-d', '--network', NETS.isolated.name, 'busybox', 'sleep', '600');
    try {
      // routed IPv6: `::` with no host port (ignored, as dockerd's), IPv4 NATed on its host port.
      assert.deepEqual(ports(routed), {
        '80/tcp': [
          { HostIp: '0.0.0.0', HostPort: '18293' },
          { HostIp: '::', HostPort: '' },
        ],
      });
      const r6 = field(routed, 'GlobalIPv6Address');
      await until(() => fromClient(r6, 80) === routed.slice(0, 12), 15_000);
      assert.equal(fromClient(r6, 81), undefined);
      assert.equal(client('busybox', 'ping6', '-c1', '-W3', r6).status, 0, 'ICMPv6 is accepted in routed mode');
      assert.equal(seenFrom(routed), r6);
      assert.equal(fromClient(HOST4, 18293), routed.slice(0, 12));
      assert.equal(fromClient(HOST, 18293), undefined, 'no IPv6 host port');
      // nat with host_ipv6: only through the host's IPv6 port; out from host_ipv6.
      const n6 = field(nat, 'GlobalIPv6Address');
      assert.equal(fromClient(HOST, 18294), nat.slice(0, 12));
      assert.equal(fromClient(n6, 80), undefined);
      assert.notEqual(client('busybox', 'ping6', '-c1', '-W2', n6).status, 0);
      assert.equal(seenFrom(nat), SNAT);
      // nat-unprotected: any port, at the container's IPv6 address.
      assert.equal(fromClient(field(unprot, 'GlobalIPv6Address'), 81), unprot.slice(0, 12));
      // IPv4 routed, IPv6 nat: the IPv6 host port answers; the IPv4 address directly, no IPv4 host port.
      assert.deepEqual(ports(routed4), {
        '80/tcp': [
          { HostIp: '0.0.0.0', HostPort: '' },
          { HostIp: '::', HostPort: '18295' },
        ],
      });
      assert.equal(fromClient(HOST, 18295), routed4.slice(0, 12));
      assert.equal(fromClient(field(routed4, 'IPAddress'), 80), routed4.slice(0, 12));
      assert.equal(fromClient(field(routed4, 'GlobalIPv6Address'), 80), undefined);
      // isolated: no IPv6 on the bridge at all; the subnet's first address is the container's, no IPv6 gateway.
      const bridge = NETS.isolated.bridge;
      assert.equal(readFileSync(`/proc/sys/net/ipv6/conf/${bridge}/disable_ipv6`, 'utf8').trim(), '1');
      assert.equal(sh('ip', '-6', '-o', 'addr', 'show', 'dev', bridge).trim(), '');
      assert.equal(field(isolated, 'GlobalIPv6Address'), 'fd42:b3e8:0:5::1');
      assert.equal(field(isolated, 'IPv6Gateway'), '');
      const rules = ours();
      assert.ok(!rules.some((l) => l.includes('MASQUERADE') && l.includes('fd42:b3e8:0:1::/64')), rules.join('\n'));
      assert.ok(
        rules.includes(`-A POSTROUTING -s fd42:b3e8:0:2::/64 ! -o ${NETS.nat.bridge} -j SNAT --to-source ${SNAT}`),
        rules.join('\n'),
      );
      assert.ok(rules.includes(`-A POSTROUTING -s 10.238.1.0/24 ! -o ${NETS.routed.bridge} -j MASQUERADE`), rules.join('\n'));

      // A berthd restart: the containers run on and direct access is as it was.
      await eng.restart();
      assert.equal(fromClient(r6, 80), routed.slice(0, 12));
      assert.equal(fromClient(r6, 81), undefined);
      assert.equal(fromClient(n6, 80), undefined);
      assert.equal(fromClient(HOST, 18295), routed4.slice(0, 12));
      // A container started after the restart on the routed network gets its own accept.
      const routed2 = web(NETS.routed.name, '80');
      await until(() => fromClient(field(routed2, 'GlobalIPv6Address'), 80) === routed2.slice(0, 12), 15_000);
      ok('rm', '-f', routed2);
    } finally {
      ok('rm', '-f', routed, nat, unprot, routed4, isolated);
    }
    for (const n of Object.values(NETS)) ok('network', 'rm', n.name);
    await until(() => ours().length === 0 && Object.values(NETS).every((n) => !existsSync(`/sys/class/net/${n.bridge}`))).catch(() =>
      assert.deepEqual(ours(), []),
    );
  },
);
