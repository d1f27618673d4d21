// macvlan and ipvlan networks side by side with dockerd 20.10, through the docker 28 CLI: the
// same scenario runs against each engine in turn on parents the test makes (veth pairs whose
// peers are in a network namespace of its own), and both must agree: the refusals (words and
// status), the container's interface as the kernel shows it (link kind, mode, MAC, IPv4 and IPv6
// addresses, routes), two containers on one network reaching each other, connect and disconnect
// while running, names resolving at 127.0.0.11 in the containers (a container's name and an
// alias on its network, those of a second network once connected to it, none of a network it is
// not on; resolv.conf as dockerd writes it; a container whose first network is a bridge and
// that is connected to a macvlan network finds the names of both, and is found from the macvlan), an internal network (no default route, no gateway), and what the kernel of the machine allows (a dummy parent for a network without
// one, a VLAN sub-interface `IF.VID`, ipvlan links: each made and removed with the network, or
// refused by both in the kernel's words where the kernel has no such link). Then berthd alone:
// ipvlan l3s and ipvlan_flag (which dockerd 20.10 does not know), published ports refused, and a
// macvlan endpoint undone after a berthd killed while its container ran, and names resolving
// again in a container that ran on through a berthd restart. Everything it made
// (links, namespace) goes with it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { CliResult, EngineFixture } from './engine-fixture.js';
import { IMAGE, show, sideBySide } from './helpers/side-by-side.js';
import type { Dockerd } from './helpers/dockerd.js';

const NS = 'berth-mvns';
/** The parents (host ends of veth pairs whose peers are in NS): A and B for macvlan, I for ipvlan. */
const PA = 'bmv-a0';
const PB = 'bmv-b0';
const PI = 'bmv-i0';
const PARENTS = [PA, PB, PI];
const SUB_A = '10.249.1.0/24';
const SUB_A6 = 'fd49:249:1::/64';
const SUB_B = '10.249.2.0/24';
const SUB_I = '10.249.4.0/24';
const NETS = ['bmv-a', 'bmv-b', 'bmv-n', 'bmv-x', 'bmv-i', 'bmv-d', 'bmv-v', 'bmv-l3s', 'bmv-br'];

let eng: EngineFixture;
let d: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p), { needs: ['nsenter', 'curl'] });

const sh = (cmd: string, ...args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' });
const shOk = (cmd: string, ...args: string[]) => {
  const r = sh(cmd, ...args);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
/** Whether the kernel makes ipvlan links (this machine's may not). */
function kernelHasIpvlan(): boolean {
  const ok = sh('ip', 'link', 'add', 'link', PI, 'bmv-probe', 'type', 'ipvlan').status === 0;
  if (ok) sh('ip', 'link', 'del', 'bmv-probe');
  return ok;
}

before(() => {
  if (skip) return;
  shOk('ip', 'netns', 'add', NS);
  for (const p of PARENTS) {
    shOk('ip', 'link', 'add', p, 'type', 'veth', 'peer', 'name', `${p.slice(0, -1)}1`, 'netns', NS);
    shOk('ip', 'link', 'set', p, 'up');
    shOk('ip', '-n', NS, 'link', 'set', `${p.slice(0, -1)}1`, 'up');
  }
});

after(() => {
  for (const p of PARENTS) sh('ip', 'link', 'del', p);
  sh('ip', 'netns', 'del', NS);
});

type Cli = (args: string[]) => CliResult;

/** The container's interface `dev` as the kernel shows it, read from the host in its namespace. */
function iface(cli: Cli, container: string, dev: string) {
  const pid = cli(['inspect', '-f', '{{.State.Pid}}', container]).stdout.trim();
  const r = sh('nsenter', '-t', pid, '-n', 'ip', '-d', '-j', 'addr', 'show', 'dev', dev);
  if (r.status !== 0) return { missing: r.stderr.trim() };
  const [l] = JSON.parse(r.stdout) as {
    address: string;
    linkinfo?: { info_kind: string; info_data?: { mode?: string; flags?: string } };
    addr_info: { family: string; local: string; prefixlen: number; scope: string }[];
  }[];
  const routes = ['-4', '-6']
    .flatMap((f) => sh('nsenter', '-t', pid, '-n', 'ip', f, 'route', 'show', 'dev', dev).stdout.split('\n'))
    .filter((x) => x && !x.startsWith('fe80::') && !x.startsWith('multicast'))
    .map((x) =>
      x
        .replace(/ proto (kernel|static|boot)/, '')
        .replace(/ metric \d+/, '')
        .replace(/ pref medium/, '')
        .replace(/\s+$/, ''),
    );
  return {
    kind: l.linkinfo?.info_kind,
    mode: l.linkinfo?.info_data?.mode,
    mac: l.address,
    addrs: l.addr_info.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`),
    routes,
  };
}

/** The endpoint's fields that both engines show alike. */
function endpoint(cli: Cli, container: string, net: string) {
  const r = cli(['inspect', '-f', `{{json (index .NetworkSettings.Networks "${net}")}}`, container]);
  const e = JSON.parse(r.stdout) as Record<string, unknown>;
  const { IPAddress, IPPrefixLen, Gateway, MacAddress, GlobalIPv6Address, GlobalIPv6PrefixLen, IPv6Gateway } = e;
  return { IPAddress, IPPrefixLen, Gateway, MacAddress, GlobalIPv6Address, GlobalIPv6PrefixLen, IPv6Gateway };
}

/**
 * What busybox's nslookup in the container finds for `name` through its resolv.conf: the
 * addresses after the answer's `Name:` line (none when not found).
 */
function lookup(cli: Cli, container: string, name: string): string[] {
  const out = cli(['exec', container, 'nslookup', name]).stdout;
  const answer = out.slice(out.indexOf('Name:'));
  return out.includes('Name:') ? [...answer.matchAll(/^Address:\s*(\S+)$/gm)].map((m) => m[1]).sort() : [];
}

/** A CLI result with the engine's IDs made alike. */
const outcome = (r: CliResult) => ({
  status: r.status,
  err: r.stderr
    .replace(/[0-9a-f]{64}/g, '<id>')
    .replace(/dm-[0-9a-f]{12}/g, 'dm-<id>')
    .trim(),
});

/** The scenario, against one engine; what it saw. */
function scenario(cli: Cli, sock: string) {
  const seen: Record<string, unknown> = {};
  const ok = (...a: string[]) => {
    const r = cli(a);
    assert.equal(r.status, 0, show(a.join(' '), r));
    return r.stdout.trim();
  };
  const status = (body: object) =>
    sh(
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--unix-socket',
      sock,
      '-H',
      'Content-Type: application/json',
      '-d',
      JSON.stringify(body),
      'http://d/v1.41/networks/create',
    ).stdout;
  try {
    ok('network', 'create', '-d', 'macvlan', '--ipv6', '--subnet', SUB_A, '--subnet', SUB_A6, '-o', `parent=${PA}`, 'bmv-a');
    seen.optionsA = JSON.parse(ok('network', 'inspect', '-f', '{{json .Options}}', 'bmv-a'));
    seen.ipamA = JSON.parse(ok('network', 'inspect', '-f', '{{json .IPAM.Config}}', 'bmv-a'));
    // Refusals: a second network on the parent, an unknown mode, parents that are not there, lo.
    const refusals: [string, Record<string, string>][] = [
      ['same-parent', { parent: PA }],
      ['mode', { parent: PB, macvlan_mode: 'bogus' }],
      ['missing', { parent: 'bmv-nosuch' }],
      ['missing-master', { parent: 'bmv-nosuch.5' }],
      ['vlan-id', { parent: `${PB}.x` }],
      ['vlan-range', { parent: `${PB}.5000` }],
      ['lo', { parent: 'lo' }],
    ];
    for (const [what, o] of refusals) {
      const args = Object.entries(o).flatMap(([k, v]) => ['-o', `${k}=${v}`]);
      seen[`refuse-${what}`] = outcome(cli(['network', 'create', '-d', 'macvlan', '--subnet', '10.249.9.0/24', ...args, 'bmv-x']));
      seen[`status-${what}`] = status({ Name: 'bmv-x', Driver: 'macvlan', Options: o, IPAM: { Config: [{ Subnet: '10.249.9.0/24' }] } });
    }
    seen.ipvlanMode = outcome(cli(['network', 'create', '-d', 'ipvlan', '-o', `parent=${PI}`, '-o', 'ipvlan_mode=l9', 'bmv-x']));
    // A network without a parent: a dummy link dm-<id>, made and removed with it.
    const noParent = cli(['network', 'create', '-d', 'macvlan', '--subnet', '10.249.3.0/24', 'bmv-d']);
    seen.dummy = outcome(noParent);
    if (noParent.status === 0) {
      const dm = `dm-${noParent.stdout.trim().slice(0, 12)}`;
      seen.dummyKind = JSON.parse(shOk('ip', '-d', '-j', 'link', 'show', dm))[0].linkinfo.info_kind;
      ok('network', 'rm', 'bmv-d');
      seen.dummyGone = sh('ip', 'link', 'show', dm).status !== 0;
    }
    // A VLAN sub-interface of B made when missing, deleted with the network.
    const vlan = cli(['network', 'create', '-d', 'macvlan', '--subnet', '10.249.5.0/24', '-o', `parent=${PB}.10`, 'bmv-v']);
    seen.vlan = outcome(vlan);
    if (vlan.status === 0) {
      const l = JSON.parse(shOk('ip', '-d', '-j', 'link', 'show', `${PB}.10`))[0];
      seen.vlanLink = [l.linkinfo.info_kind, l.linkinfo.info_data.id, l.link];
      ok('network', 'rm', 'bmv-v');
      seen.vlanGone = sh('ip', 'link', 'show', `${PB}.10`).status !== 0;
    }

    // Two containers on A: the interfaces, the endpoints, one reaching the other.
    ok('run', '-d', '--name', 'bmv-c1', '--network', 'bmv-a', IMAGE, 'sleep', '120');
    ok('run', '-d', '--name', 'bmv-c2', '--network', 'bmv-a', '--network-alias', 'bmv-web', '--ip', '10.249.1.77', IMAGE, 'sleep', '120');
    seen.c1 = iface(cli, 'bmv-c1', 'eth0');
    seen.c2 = iface(cli, 'bmv-c2', 'eth0');
    seen.ep1 = endpoint(cli, 'bmv-c1', 'bmv-a');
    seen.ep2 = endpoint(cli, 'bmv-c2', 'bmv-a');
    seen.ping = cli(['exec', 'bmv-c2', 'ping', '-c1', '-W3', '10.249.1.2']).status;
    seen.rmInUse = outcome(cli(['network', 'rm', 'bmv-a']));
    // Names at 127.0.0.11: the other container's name and alias, and its own.
    seen.resolvConf = ok('exec', 'bmv-c1', 'cat', '/etc/resolv.conf');
    seen.byName = lookup(cli, 'bmv-c1', 'bmv-c2');
    seen.byAlias = lookup(cli, 'bmv-c1', 'bmv-web');
    seen.own = lookup(cli, 'bmv-c2', 'bmv-c2');
    // A container whose first network is a bridge, connected to A too: the names of both
    // (berthd's server on the bridge's gateway answers A's), and A's containers find it.
    ok('network', 'create', '--subnet', '10.249.7.0/24', 'bmv-br');
    ok('run', '-d', '--name', 'bmv-c11', '--network', 'bmv-br', IMAGE, 'sleep', '120');
    ok('run', '-d', '--name', 'bmv-c12', '--network', 'bmv-br', '--network-alias', 'bmv-mate', IMAGE, 'sleep', '120');
    ok('network', 'connect', 'bmv-a', 'bmv-c11');
    seen.bridgeFirstToA = lookup(cli, 'bmv-c11', 'bmv-web');
    seen.bridgeFirstToMate = lookup(cli, 'bmv-c11', 'bmv-mate');
    seen.mateIp = ok('inspect', '-f', '{{(index .NetworkSettings.Networks "bmv-br").IPAddress}}', 'bmv-c12');
    // Its addresses on A, as inspect shows them.
    const onA = ok(
      'inspect',
      '-f',
      '{{with (index .NetworkSettings.Networks "bmv-a")}}{{.IPAddress}} {{.GlobalIPv6Address}}{{end}}',
      'bmv-c11',
    );
    const fromA = lookup(cli, 'bmv-c2', 'bmv-c11');
    seen.fromA = fromA.join(' ') === onA.split(' ').sort().join(' ') ? 'its addresses on A' : fromA;
    ok('rm', '-f', 'bmv-c11', 'bmv-c12');
    ok('network', 'rm', 'bmv-br');
    // Connected while running: a macvlan (mode private) on B as eth1; disconnected: gone.
    ok('network', 'create', '-d', 'macvlan', '--subnet', SUB_B, '-o', `parent=${PB}`, '-o', 'macvlan_mode=private', 'bmv-b');
    ok('network', 'connect', 'bmv-b', 'bmv-c1');
    seen.connected = iface(cli, 'bmv-c1', 'eth1');
    seen.routesAfterConnect = iface(cli, 'bmv-c1', 'eth0').routes;
    // A container on both networks sees the names of both; one on A alone, only A's.
    ok('run', '-d', '--name', 'bmv-c8', '--network', 'bmv-b', IMAGE, 'sleep', '120');
    seen.otherNet = lookup(cli, 'bmv-c1', 'bmv-c8');
    seen.firstNet = lookup(cli, 'bmv-c1', 'bmv-c2');
    seen.notOnIt = lookup(cli, 'bmv-c2', 'bmv-c8');
    ok('rm', '-f', 'bmv-c8');
    ok('network', 'disconnect', 'bmv-b', 'bmv-c1');
    seen.disconnected = 'missing' in iface(cli, 'bmv-c1', 'eth1');
    // An internal network on B: no default route, no gateway in inspect.
    ok('network', 'rm', 'bmv-b');
    ok('network', 'create', '-d', 'macvlan', '--internal', '--subnet', '10.249.6.0/24', '-o', `parent=${PB}`, 'bmv-n');
    ok('run', '-d', '--name', 'bmv-c7', '--network', 'bmv-n', IMAGE, 'sleep', '120');
    seen.internal = iface(cli, 'bmv-c7', 'eth0');
    seen.internalEp = endpoint(cli, 'bmv-c7', 'bmv-n');

    // ipvlan l3 on I: made where the kernel has ipvlan, refused in its words where not.
    ok('network', 'create', '-d', 'ipvlan', '--subnet', SUB_I, '-o', `parent=${PI}`, '-o', 'ipvlan_mode=l3', 'bmv-i');
    seen.ipvlanOptions = JSON.parse(ok('network', 'inspect', '-f', '{{json .Options}}', 'bmv-i'));
    const iv = cli(['run', '-d', '--name', 'bmv-c3', '--network', 'bmv-i', IMAGE, 'sleep', '120']);
    seen.ipvlanRun = iv.status;
    seen.ipvlanRunErr = /operation not supported/.test(iv.stderr);
    if (iv.status === 0) {
      seen.c3 = { ...iface(cli, 'bmv-c3', 'eth0'), mac: undefined };
      seen.ep3 = { ...endpoint(cli, 'bmv-c3', 'bmv-i'), MacAddress: undefined };
    }
    return seen;
  } finally {
    cli(['rm', '-f', 'bmv-c1', 'bmv-c2', 'bmv-c3', 'bmv-c7', 'bmv-c8', 'bmv-c11', 'bmv-c12']);
    for (const n of NETS) cli(['network', 'rm', n]);
  }
}

test('macvlan and ipvlan networks: berthd as dockerd 20.10', { skip }, () => {
  const theirs = scenario((a) => d.docker(a), join(d.dir, 'docker.sock'));
  const ours = scenario((a) => eng.docker(a), eng.socket);
  assert.deepEqual(ours, theirs);
  // What they agreed on, as it should be.
  assert.equal((ours.c1 as { kind: string }).kind, 'macvlan');
  assert.equal((ours.c1 as { mode: string }).mode, 'bridge');
  assert.equal((ours.connected as { mode: string }).mode, 'private');
  assert.equal(ours.ping, 0);
  assert.match(ours.resolvConf as string, /^nameserver 127\.0\.0\.11$/m);
  assert.match(ours.resolvConf as string, /^options ndots:0$/m);
  assert.deepEqual(ours.byName, ['10.249.1.77', 'fd49:249:1::3']);
  assert.deepEqual(ours.byAlias, ours.byName);
  assert.deepEqual(ours.own, ours.byName);
  assert.equal((ours.otherNet as string[]).length, 1);
  assert.match((ours.otherNet as string[])[0], /^10\.249\.2\.\d+$/);
  assert.deepEqual(ours.firstNet, ours.byName);
  assert.deepEqual(ours.notOnIt, []);
  assert.deepEqual(ours.bridgeFirstToA, ours.byName);
  assert.deepEqual(ours.bridgeFirstToMate, [ours.mateIp]);
  assert.equal(ours.fromA, 'its addresses on A');
  assert.deepEqual((ours.internal as { routes: string[] }).routes, ['10.249.6.0/24 scope link src 10.249.6.2']);
  assert.equal((ours.ep1 as { GlobalIPv6Address: string }).GlobalIPv6Address, 'fd49:249:1::2');
  assert.ok((ours.c1 as { routes: string[] }).routes.includes('default via fd49:249:1::1'), JSON.stringify(ours.c1));
  for (const p of PARENTS) assert.equal(sh('ip', 'link', 'show', p).status, 0, `${p} is the test's: it stays`);
});

test('berthd alone: ipvlan l3s and its flags, published ports refused, endpoints undone after a crash', { skip }, async () => {
  const ok = (...a: string[]) => eng.dockerOk(a);
  try {
    if (kernelHasIpvlan()) {
      ok(
        'network',
        'create',
        '-d',
        'ipvlan',
        '--subnet',
        SUB_I,
        '-o',
        `parent=${PI}`,
        '-o',
        'ipvlan_mode=l3s',
        '-o',
        'ipvlan_flag=private',
        'bmv-l3s',
      );
      ok('run', '-d', '--name', 'bmv-c4', '--network', 'bmv-l3s', IMAGE, 'sleep', '120');
      const i = iface((a) => eng.docker(a), 'bmv-c4', 'eth0');
      assert.equal(i.kind, 'ipvlan');
      assert.equal(i.mode, 'l3s');
      assert.ok(i.routes?.includes('default scope link'), JSON.stringify(i.routes));
      ok('rm', '-f', 'bmv-c4');
    } else {
      const made = ok(
        'network',
        'create',
        '-d',
        'ipvlan',
        '-o',
        `parent=${PI}`,
        '-o',
        'ipvlan_mode=l3s',
        '-o',
        'ipvlan_flag=vepa',
        'bmv-l3s',
      );
      assert.ok(made);
      assert.deepEqual(JSON.parse(ok('network', 'inspect', '-f', '{{json .Options}}', 'bmv-l3s')), {
        parent: PI,
        ipvlan_mode: 'l3s',
        ipvlan_flag: 'vepa',
      });
    }
    const flag = eng.docker(['network', 'create', '-d', 'ipvlan', '-o', `parent=${PB}`, '-o', 'ipvlan_flag=loud', 'bmv-x']);
    assert.match(flag.stderr, /requested ipvlan flag 'loud' is not valid, 'bridge' is the ipvlan driver default/);
    ok('network', 'create', '-d', 'macvlan', '--subnet', SUB_A, '-o', `parent=${PA}`, 'bmv-a');
    const ports = eng.docker(['run', '--rm', '--network', 'bmv-a', '-p', '80:80', IMAGE, 'true']);
    assert.notEqual(ports.status, 0);
    assert.match(ports.stderr, /macvlan network bmv-a does not publish ports/);
    // A berthd killed while its container runs on a macvlan network; the container stopped while
    // it was down: the next berthd takes its endpoint apart and gives its address back.
    ok('run', '-d', '--name', 'bmv-c5', '--network', 'bmv-a', IMAGE, 'sleep', '120');
    const pid = ok('inspect', '-f', '{{.State.Pid}}', 'bmv-c5');
    await eng.restart('SIGKILL', async () => {
      process.kill(Number(pid), 'SIGKILL');
    });
    ok('rm', '-f', 'bmv-c5');
    // Its address is free again: a container may ask for it.
    ok('run', '-d', '--name', 'bmv-c6', '--network', 'bmv-a', '--ip', '10.249.1.2', IMAGE, 'sleep', '120');
    assert.equal(iface((a) => eng.docker(a), 'bmv-c6', 'eth0').kind, 'macvlan');
    ok('rm', '-f', 'bmv-c6');
    // Containers that run on through a berthd restart: the next berthd answers at 127.0.0.11 in
    // their namespaces again (the old one's sockets went with it), UDP and TCP.
    ok('run', '-d', '--name', 'bmv-c9', '--network', 'bmv-a', '--network-alias', 'bmv-db', IMAGE, 'sleep', '120');
    ok('run', '-d', '--name', 'bmv-c10', '--network', 'bmv-a', IMAGE, 'sleep', '120');
    const ip9 = ok('inspect', '-f', '{{(index .NetworkSettings.Networks "bmv-a").IPAddress}}', 'bmv-c9');
    const cli = (a: string[]) => eng.docker(a);
    assert.deepEqual(lookup(cli, 'bmv-c10', 'bmv-db'), [ip9]);
    await eng.restart('SIGKILL');
    assert.deepEqual(lookup(cli, 'bmv-c10', 'bmv-db'), [ip9]);
    assert.deepEqual(lookup(cli, 'bmv-c10', 'bmv-c9'), [ip9]);
    const pid10 = ok('inspect', '-f', '{{.State.Pid}}', 'bmv-c10');
    const listening = shOk('nsenter', '-t', pid10, '-n', 'ss', '-Hlntu');
    assert.match(listening, /^udp .* 127\.0\.0\.11:53 /m);
    assert.match(listening, /^tcp .* 127\.0\.0\.11:53 /m);
    // Stopped: its name resolves no more.
    ok('stop', '-t', '0', 'bmv-c9');
    assert.deepEqual(lookup(cli, 'bmv-c10', 'bmv-c9'), []);
    ok('rm', '-f', 'bmv-c9', 'bmv-c10');
  } finally {
    eng.docker(['rm', '-f', 'bmv-c4', 'bmv-c5', 'bmv-c6', 'bmv-c9', 'bmv-c10']);
    for (const n of NETS) eng.docker(['network', 'rm', n]);
  }
});
