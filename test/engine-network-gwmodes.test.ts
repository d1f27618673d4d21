// Bridge networks' IPv4 gateway modes and the options beside them, read from their effects on
// the real kernel through the docker CLI 28: a "client" network namespace, joined to the host by
// a veth pair and routing the containers' subnets through the host, plays the outside world.
// routed: the client reaches a container's published port at the container's own address, not
// an unpublished one, and sees the container's address as the source of its connections; nat:
// the client does not reach the container directly, only through the host port, and sees
// host_ipv4 as the source; nat-unprotected: the client reaches any port; trusted host
// interfaces: from the client's side, a published port at the container's address;
// inhibit_ipv4 and isolated: no IPv4 address on the bridge. Direct access still as it was
// after a berthd restart; every rule gone with the networks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DOCKER, startEngine, until, type EngineFixture } from './engine-fixture.js';
import { addressEchoServer, webServerArgs } from './helpers/web-server.js';

const NS = 'berth-gwc';
const HOST_IF = 'bgw-h';
const CLIENT = '10.237.100.2';
const HOST = '10.237.100.1';
/** The host's second address on the client's link: host_ipv4 of the nat network. */
const SNAT = '10.237.100.3';
const NETS = {
  routed: {
    name: 'berth-gwr',
    bridge: 'berth-gwr0',
    subnet: '10.237.1.0/24',
    opts: { 'com.docker.network.bridge.gateway_mode_ipv4': 'routed' },
  },
  nat: { name: 'berth-gwn', bridge: 'berth-gwn0', subnet: '10.237.2.0/24', opts: { 'com.docker.network.host_ipv4': SNAT } },
  unprot: {
    name: 'berth-gwu',
    bridge: 'berth-gwu0',
    subnet: '10.237.3.0/24',
    opts: { 'com.docker.network.bridge.gateway_mode_ipv4': 'nat-unprotected' },
  },
  trusted: {
    name: 'berth-gwt',
    bridge: 'berth-gwt0',
    subnet: '10.237.6.0/24',
    opts: { 'com.docker.network.bridge.trusted_host_interfaces': `eth9:${HOST_IF}` },
  },
  inhibit: { name: 'berth-gwi', bridge: 'berth-gwi0', subnet: '10.237.4.0/24', opts: { 'com.docker.network.bridge.inhibit_ipv4': 'true' } },
  isolated: {
    name: 'berth-gwx',
    bridge: 'berth-gwx0',
    subnet: '10.237.5.0/24',
    opts: { 'com.docker.network.bridge.gateway_mode_ipv4': 'isolated' },
  },
};

let eng: EngineFixture;
let server: ChildProcess | undefined;
const sh = (cmd: string, ...args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
/** What the client gets from http://ADDR:PORT/hostname (curl, 3 s), or undefined. */
const fromClient = (addr: string, port: number) => {
  const r = spawnSync('ip', ['netns', 'exec', NS, 'curl', '-sf', '-m', '3', `http://${addr}:${port}/hostname`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
};
const v4Of = (dev: string) => sh('ip', '-4', '-o', 'addr', 'show', 'dev', dev).trim();
const ours = () =>
  ['filter', 'nat', 'raw'].flatMap((t) =>
    spawnSync('iptables-save', ['-t', t], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => Object.values(NETS).some((n) => l.includes(n.bridge)) || l.includes('10.237.')),
  );

before(async () => {
  eng = await startEngine();
  sh('ip', 'netns', 'add', NS);
  sh('ip', 'link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', 'bgw-c', 'netns', NS);
  sh('ip', 'addr', 'add', `${HOST}/29`, 'dev', HOST_IF);
  sh('ip', 'addr', 'add', `${SNAT}/29`, 'dev', HOST_IF);
  sh('ip', 'link', 'set', HOST_IF, 'up');
  sh('ip', '-n', NS, 'addr', 'add', `${CLIENT}/29`, 'dev', 'bgw-c');
  sh('ip', '-n', NS, 'link', 'set', 'bgw-c', 'up');
  sh('ip', '-n', NS, 'link', 'set', 'lo', 'up');
  sh('ip', '-n', NS, 'route', 'add', '10.237.0.0/16', 'via', HOST);
  // The client's web server answers with the address a connection came from.
  server = addressEchoServer(NS, CLIENT);
});

after(async () => {
  if (server?.pid && server.exitCode === null) server.kill('SIGKILL');
  for (const n of Object.values(NETS)) eng?.docker(['network', 'rm', n.name]);
  await eng?.stop();
  spawnSync('ip', ['netns', 'del', NS]);
  spawnSync('ip', ['link', 'del', HOST_IF]);
});

const skip = !existsSync(DOCKER) && 'no docker CLI';
const ok = (...args: string[]) => eng.dockerOk(args);
const create = (n: (typeof NETS)[keyof typeof NETS], ...extra: string[]) =>
  ok(
    'network',
    'create',
    '--subnet',
    n.subnet,
    '-o',
    `com.docker.network.bridge.name=${n.bridge}`,
    ...Object.entries(n.opts).flatMap(([k, v]) => ['-o', `${k}=${v}`]),
    ...extra,
    n.name,
  );
const web = (net: string, ...publish: string[]) => ok(...webServerArgs(net, ...publish));
const ipOf = (id: string) => ok('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id);
/** The source address the client sees of a connection from the container. */
const seenFrom = (id: string) => ok('exec', id, 'wget', '-qO-', `http://${CLIENT}:9000/`);

test(
  'gateway modes, host_ipv4, trusted_host_interfaces, inhibit_ipv4: their effects, kept over a restart, gone with the networks',
  { skip },
  async () => {
    const bad = eng.docker(['network', 'create', '-o', 'com.docker.network.bridge.gateway_mode_ipv4=bridged', 'berth-gwbad']);
    assert.match(
      bad.stderr,
      /failed to parse com\.docker\.network\.bridge\.gateway_mode_ipv4 value: bridged \(unknown gateway mode bridged\)/,
    );
    const notInternal = eng.docker(['network', 'create', '-o', 'com.docker.network.bridge.gateway_mode_ipv4=isolated', 'berth-gwbad']);
    assert.match(notInternal.stderr, /gateway mode 'isolated' can only be used for an internal network/);
    for (const n of [NETS.routed, NETS.nat, NETS.unprot, NETS.trusted, NETS.inhibit]) create(n);
    create(NETS.isolated, '--internal');
    assert.deepEqual(JSON.parse(ok('network', 'inspect', NETS.routed.name))[0].Options, {
      ...NETS.routed.opts,
      'com.docker.network.bridge.name': NETS.routed.bridge,
    });
    assert.deepEqual(JSON.parse(ok('network', 'inspect', NETS.isolated.name))[0].IPAM.Config, [{ Subnet: NETS.isolated.subnet }]);

    const routed = web(NETS.routed.name, '18290:80');
    const nat = web(NETS.nat.name, '18291:80');
    const unprot = web(NETS.unprot.name);
    const trusted = web(NETS.trusted.name, '18292:80');
    const inhibit = ok('run', '-d', '--network', NETS.inhibit.name, 'busybox', 'sleep', '600');
    const isolated = ok('run', '-d', '--network', NETS.isolated.name, 'busybox', 'sleep', '600');
    try {
      // routed: the host port is ignored, as dockerd's "Host port ignored, because NAT is disabled".
      assert.deepEqual(JSON.parse(ok('inspect', '-f', '{{json .NetworkSettings.Ports}}', routed)), {
        '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '' }],
      });
      const rIp = ipOf(routed);
      await until(() => fromClient(rIp, 80) === routed.slice(0, 12), 15_000);
      assert.equal(fromClient(rIp, 81), undefined);
      assert.equal(seenFrom(routed), rIp);
      // nat: only through the host's port; out from host_ipv4.
      const nIp = ipOf(nat);
      assert.equal(fromClient(HOST, 18291), nat.slice(0, 12));
      assert.equal(fromClient(nIp, 80), undefined);
      assert.equal(seenFrom(nat), SNAT);
      // nat-unprotected: any port, at the container's address.
      assert.equal(fromClient(ipOf(unprot), 81), unprot.slice(0, 12));
      // Trusted host interfaces: the published port at the container's address, not another.
      const tIp = ipOf(trusted);
      assert.equal(fromClient(tIp, 80), trusted.slice(0, 12));
      assert.equal(fromClient(tIp, 81), undefined);
      assert.equal(fromClient(HOST, 18292), trusted.slice(0, 12));
      // inhibit_ipv4 and isolated: the bridge has no IPv4 address; the container has its own.
      assert.equal(v4Of(NETS.inhibit.bridge), '');
      assert.equal(v4Of(NETS.isolated.bridge), '');
      assert.match(ipOf(inhibit), /^10\.237\.4\./);
      assert.equal(ok('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}', isolated), '');
      // No gateway took the first address: the first container has it, as under dockerd.
      assert.equal(ipOf(isolated), '10.237.5.1');
      assert.match(v4Of(NETS.routed.bridge), /10\.237\.1\.1\/24/);
      const rules = ours();
      assert.ok(!rules.some((l) => l.includes('MASQUERADE') && l.includes(NETS.routed.subnet)), rules.join('\n'));
      assert.ok(
        rules.includes(`-A POSTROUTING -s ${NETS.nat.subnet} ! -o ${NETS.nat.bridge} -j SNAT --to-source ${SNAT}`),
        rules.join('\n'),
      );

      // A berthd restart: the containers run on and direct access is as it was.
      await eng.restart();
      assert.equal(fromClient(rIp, 80), routed.slice(0, 12));
      assert.equal(fromClient(rIp, 81), undefined);
      assert.equal(fromClient(nIp, 80), undefined);
      // A container started after the restart on the routed network gets its own accept.
      const routed2 = web(NETS.routed.name, '80');
      await until(() => fromClient(ipOf(routed2), 80) === routed2.slice(0, 12), 15_000);
      ok('rm', '-f', routed2);
    } finally {
      ok('rm', '-f', routed, nat, unprot, trusted, inhibit, isolated);
    }
    for (const n of Object.values(NETS)) ok('network', 'rm', n.name);
    await until(() => ours().length === 0 && Object.values(NETS).every((n) => !existsSync(`/sys/class/net/${n.bridge}`)));
  },
);
