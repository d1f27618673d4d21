// Bridge network options through the docker CLI 28, read from their effects: enable_icc=false
// (containers on the network cannot reach each other, published ports still answer),
// enable_ip_masquerade=false (no MASQUERADE for the subnet), host_binding_ipv4 (a port published
// without a HostIp binds that address), container_iface_prefix (the interface is ct0); moby's
// words for a value it cannot read. Every rule and the bridge go with the network.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DOCKER, httpGet, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
});
after(async () => {
  eng?.docker(['network', 'rm', 'berth-topt']);
  await eng?.stop();
});

const skip = !existsSync(DOCKER) && 'no docker CLI';
const ok = (...args: string[]) => eng.dockerOk(args);
const rules = () =>
  ['filter', 'nat']
    .flatMap((t) => spawnSync('iptables-save', ['-t', t], { encoding: 'utf8' }).stdout.split('\n'))
    .filter((l) => l.includes('berth-topt0'));

test(
  'enable_icc=false, enable_ip_masquerade=false, host_binding_ipv4 and container_iface_prefix on a bridge network',
  { skip },
  async () => {
    const bad = eng.docker(['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=maybe', 'berth-topt']);
    assert.notEqual(bad.status, 0);
    assert.match(
      bad.stderr,
      /failed to parse com\.docker\.network\.bridge\.enable_icc value: maybe \(strconv\.ParseBool: parsing "maybe": invalid syntax\)/,
    );
    const badIp = eng.docker(['network', 'create', '-o', 'com.docker.network.bridge.host_binding_ipv4=nowhere', 'berth-topt']);
    assert.match(badIp.stderr, /failed to parse com\.docker\.network\.bridge\.host_binding_ipv4 value: nowhere \(nil ip\)/);
    const opts = {
      'com.docker.network.bridge.name': 'berth-topt0',
      'com.docker.network.bridge.enable_icc': 'false',
      'com.docker.network.bridge.enable_ip_masquerade': 'false',
      'com.docker.network.bridge.host_binding_ipv4': '127.0.0.1',
      'com.docker.network.container_iface_prefix': 'ct',
    };
    const badPrefix = eng.docker(['network', 'create', '-o', 'com.docker.network.container_iface_prefix=a/b', 'berth-topt']);
    assert.match(badPrefix.stderr, /container_iface_prefix "a\/b": an interface name has no \/, :, % or white space/);
    ok('network', 'create', '--subnet', '10.226.1.0/24', ...Object.entries(opts).flatMap(([k, v]) => ['-o', `${k}=${v}`]), 'berth-topt');
    assert.deepEqual(JSON.parse(ok('network', 'inspect', 'berth-topt'))[0].Options, opts);
    const srv = ok(
      'run',
      '-d',
      '--name',
      'optsrv',
      '--network',
      'berth-topt',
      '-p',
      '18282:80',
      'busybox',
      'httpd',
      '-f',
      '-p',
      '80',
      '-h',
      '/etc',
    );
    try {
      assert.deepEqual(JSON.parse(ok('inspect', '-f', '{{json .NetworkSettings.Ports}}', srv)), {
        '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18282' }],
      });
      await until(async () => (await httpGet(18282).catch(() => '')).includes(srv.slice(0, 12)));
      // The prefix names the interface where eth0 would be.
      assert.match(ok('exec', srv, 'ip', '-o', 'link', 'show'), /^\d+: ct0@/m);
      // Its name resolves (the embedded DNS is the gateway's), but the container is out of reach.
      const peer = eng.docker([
        'run',
        '--rm',
        '--network',
        'berth-topt',
        'busybox',
        'sh',
        '-c',
        'nslookup optsrv >/dev/null && echo resolved; exec wget -T 3 -qO- http://optsrv/hostname',
      ]);
      // wget times out (busybox's ends with SIGSEGV then): nothing from the server.
      assert.equal(peer.stdout.trim(), 'resolved', peer.stderr);
      assert.notEqual(peer.status, 0);
      const now = rules();
      assert.ok(now.includes('-A BERTH-FORWARD -i berth-topt0 -o berth-topt0 -j DROP'), now.join('\n'));
      assert.ok(!now.some((l) => l.includes('-i berth-topt0 -o berth-topt0 -j ACCEPT')), now.join('\n'));
      assert.ok(!now.some((l) => l.includes('MASQUERADE') && l.includes('10.226.1.0/24')), now.join('\n'));
    } finally {
      ok('rm', '-f', srv);
    }
    ok('network', 'rm', 'berth-topt');
    await until(() => rules().length === 0 && !existsSync('/sys/class/net/berth-topt0'));
  },
);
