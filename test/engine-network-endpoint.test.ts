// A bridge endpoint's options of API 1.44-1.50 through the docker CLI 28, read from inside the
// container: com.docker.network.endpoint.ifname (the interface's name), com.docker.network.endpoint.sysctls
// (its sysctls, with moby's checks and words) and GwPriority (which network gives the default
// routes, at run and as networks are connected and disconnected). dockerd 20.10 here speaks API
// 1.41 only, so what is asserted is moby's documented behaviour. Subnets 10.247.1-4.0/24 and fd00:247:4::/64 are this
// file's alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { DOCKER, DOCKER_20, noDocker20, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
const A = 'berth-tep-a',
  B = 'berth-tep-b',
  INT = 'berth-tep-int',
  DUAL = 'berth-tep-dual';
before(async () => {
  eng = await startEngine();
  eng.dockerOk(['network', 'create', '--subnet', '10.247.1.0/24', A]);
  eng.dockerOk(['network', 'create', '--subnet', '10.247.2.0/24', B]);
});
after(async () => {
  for (const n of [A, B]) eng?.docker(['network', 'rm', n]);
  await eng?.stop();
});

const skip = !existsSync(DOCKER) && 'no docker CLI';
const IFNAME = 'com.docker.network.endpoint.ifname';
const SYSCTLS = 'com.docker.network.endpoint.sysctls';
/** The host's veths now (an endpoint's host end), to see that a failed start leaves none. */
const veths = () =>
  readdirSync('/sys/class/net')
    .filter((n) => n.startsWith('veth'))
    .sort()
    .join(' ');

test(
  "ifname and sysctls: the container's interface has that name and those sysctls; moby's checks refuse the create",
  { skip },
  async () => {
    const out = eng.dockerOk([
      'run',
      '--rm',
      '--network',
      `name=${A},driver-opt=${IFNAME}=foo0,"driver-opt=${SYSCTLS}=net.ipv4.conf.IFNAME.log_martians=1,net.ipv4.conf.IFNAME.forwarding=1"`,
      '--network',
      B,
      'busybox',
      'sh',
      '-c',
      "ip -o link | cut -d: -f2 | cut -d@ -f1 | tr -d ' ' | sort | tr '\\n' ' '; echo; cat /proc/sys/net/ipv4/conf/foo0/log_martians /proc/sys/net/ipv4/conf/foo0/forwarding /proc/sys/net/ipv4/conf/eth0/log_martians; ip -4 -o addr show foo0",
    ]);
    const lines = out.split('\n');
    assert.equal(lines[0].trim(), 'eth0 foo0 lo', out);
    assert.deepEqual(lines.slice(1, 4), ['1', '1', '0'], out);
    assert.match(lines[4], /foo0\s+inet 10\.247\.1\.\d+\/24/);

    // The create's 400 in moby's words (the docker CLI lowercases IFNAME; either is taken).
    const bad = eng.docker([
      'run',
      '--rm',
      '--network',
      `name=${A},driver-opt=${SYSCTLS}=net.ipv4.conf.eth0.log_martians=1`,
      'busybox',
      'true',
    ]);
    assert.equal(bad.status, 125);
    assert.equal(
      bad.stderr.split('\n').slice(0, 2).join('\n'),
      `docker: Error response from daemon: invalid config for network ${A}: invalid endpoint settings:\nunrecognised network interface sysctl 'net.ipv4.conf.eth0.log_martians=1'; represent 'net.X.Y.ethN.Z=V' as 'net.X.Y.IFNAME.Z=V', 'X' must be 'ipv4', 'ipv6' or 'mpls'`,
    );
    const twice = eng.docker([
      'create',
      '--network',
      `name=${A},driver-opt=${IFNAME}=x0`,
      '--network',
      `name=${B},driver-opt=${IFNAME}=x0`,
      'busybox',
    ]);
    assert.match(twice.stderr, /two endpoints of the container ask the interface name x0/);
    assert.match(
      eng.docker(['create', '--network', `name=${A},driver-opt=${IFNAME}=way-too-long-name`, 'busybox']).stderr,
      /1 to 15 bytes/,
    );
    assert.equal(eng.dockerOk(['ps', '-aq']), '', 'no container left');

    // A knob the interface lacks: found at start (dockerd's words), and nothing of the endpoint stays.
    const had = veths();
    const nope = eng.docker([
      'run',
      '--name',
      'tep-nope',
      '--network',
      `name=${A},driver-opt=${SYSCTLS}=net.ipv4.conf.IFNAME.nope=1`,
      'busybox',
      'true',
    ]);
    assert.notEqual(nope.status, 0);
    assert.match(nope.stderr, /\/proc\/sys\/net\/ipv4\/conf\/eth0\/nope is not a sysctl file/);
    eng.dockerOk(['rm', '-f', 'tep-nope']);
    await until(() => veths() === had);
  },
);

test("GwPriority: the default route is the highest priority network's, moved by connect and disconnect", { skip }, () => {
  const route = (args: string[]) => eng.dockerOk(['run', '--rm', ...args, 'busybox', 'ip', '-4', 'route', 'show', 'default']);
  // Equal priorities: the first network by name, as dockerd; a higher priority wins, a negative one loses.
  assert.match(route(['--network', B, '--network', A]), /^default via 10\.247\.1\.1 dev eth1/);
  assert.match(route(['--network', A, '--network', `name=${B},gw-priority=1`]), /^default via 10\.247\.2\.1 dev eth1/);
  assert.match(route(['--network', `name=${A},gw-priority=-1`, '--network', B]), /^default via 10\.247\.2\.1 dev eth1/);
  assert.equal(route(['--network', A, '--network', B]).split('\n').length, 1, 'one default route');
  // An internal network gives no gateway, whatever its priority; inspect shows none for it, as dockerd's bridge.
  eng.dockerOk(['network', 'create', '--internal', '--subnet', '10.247.3.0/24', INT]);
  try {
    const i = eng.dockerOk(['run', '-d', '--network', `name=${INT},gw-priority=9`, '--network', A, 'busybox', 'sleep', '60']);
    try {
      assert.match(eng.dockerOk(['exec', i, 'ip', '-4', 'route', 'show', 'default']), /^default via 10\.247\.1\.1 dev eth1$/);
      const gw = (n: string) => eng.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${n}").Gateway}}`, i]);
      assert.deepEqual([gw(INT), gw(A)], ['', '10.247.1.1']);
    } finally {
      eng.docker(['rm', '-f', i]);
    }
  } finally {
    eng.docker(['network', 'rm', INT]);
  }

  // A dual-stack network wins a tie for both families; a higher priority takes IPv4 only where it has no IPv6.
  eng.dockerOk(['network', 'create', '--ipv6', '--subnet', '10.247.4.0/24', '--subnet', 'fd00:247:4::/64', DUAL]);
  try {
    const both = (args: string[]) =>
      eng.dockerOk(['run', '--rm', ...args, 'busybox', 'sh', '-c', 'ip -4 route show default; ip -6 route show default']);
    const tie = both(['--network', A, '--network', DUAL]);
    assert.match(tie, /^default via 10\.247\.4\.1 dev eth1\s*\ndefault via fd00:247:4::1 dev eth1/);
    const split = both(['--network', `name=${A},gw-priority=1`, '--network', DUAL]);
    assert.match(split, /^default via 10\.247\.1\.1 dev eth0\s*\ndefault via fd00:247:4::1 dev eth1/);
  } finally {
    eng.docker(['network', 'rm', DUAL]);
  }

  const c = eng.dockerOk(['run', '-d', '--name', 'tep-gw', '--network', A, 'busybox', 'sleep', '300']);
  try {
    const now = () => eng.dockerOk(['exec', c, 'ip', '-4', 'route', 'show', 'default']);
    assert.match(now(), /^default via 10\.247\.1\.1 dev eth0$/);
    eng.dockerOk(['network', 'connect', '--gw-priority', '2', '--driver-opt', `${IFNAME}=bee0`, B, c]);
    assert.match(now(), /^default via 10\.247\.2\.1 dev bee0$/);
    assert.equal(eng.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${B}").GwPriority}}`, c]), '2');
    assert.match(eng.dockerOk(['exec', c, 'ip', '-o', 'link', 'show', 'bee0']), /bee0@if\d+:.*UP/);
    eng.dockerOk(['network', 'disconnect', B, c]);
    assert.match(now(), /^default via 10\.247\.1\.1 dev eth0$/);
    // A lower priority leaves the gateway where it is; the new interface is the next eth<N>.
    eng.dockerOk(['network', 'connect', '--gw-priority', '-5', B, c]);
    assert.match(now(), /^default via 10\.247\.1\.1 dev eth0$/);
    assert.match(eng.dockerOk(['exec', c, 'ip', '-4', '-o', 'addr', 'show', 'eth1']), /inet 10\.247\.2\./);
    // A name it has already: refused before anything is made.
    eng.dockerOk(['network', 'disconnect', B, c]);
    const again = eng.docker(['network', 'connect', '--driver-opt', `${IFNAME}=eth0`, B, c]);
    assert.match(again.stderr, /container tep-gw has an interface named eth0 already/);
  } finally {
    eng.docker(['rm', '-f', c]);
  }
});

test(
  "HostConfig.Sysctls naming eth0: applied to the interface for API 1.41 (the docker 20.10 CLI) with moby's warning, refused in its words for 1.50",
  { skip: skip || noDocker20 },
  () => {
    const old = eng.docker(
      [
        'run',
        '--rm',
        '--network',
        A,
        '--sysctl',
        'net.ipv4.conf.eth0.log_martians=1',
        'busybox',
        'cat',
        '/proc/sys/net/ipv4/conf/eth0/log_martians',
      ],
      { bin: DOCKER_20 },
    );
    assert.equal(old.status, 0, old.stderr);
    assert.equal(old.stdout.trim(), '1');
    assert.match(
      old.stderr,
      /Migrated sysctl "net\.ipv4\.conf\.eth0\.log_martians" to DriverOpts\{"com\.docker\.network\.endpoint\.sysctls":"net\.ipv4\.conf\.IFNAME\.log_martians=1"\}\./,
    );
    const now = eng.docker(['run', '--rm', '--network', A, '--sysctl', 'net.ipv4.conf.eth0.log_martians=1', 'busybox', 'true']);
    assert.equal(now.status, 125);
    assert.match(
      now.stderr,
      /Error response from daemon: interface specific sysctl setting "net\.ipv4\.conf\.eth0\.log_martians" must be supplied using driver option 'com\.docker\.network\.endpoint\.sysctls'/,
    );
  },
);
