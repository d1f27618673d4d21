// The default bridge network through the docker CLI 28: every container gets an address, a
// default route and reaches the gateway and another container; --network none/host/container:;
// published ports answer on the host's 127.0.0.1 and its other addresses, keeping the client's
// address (kernel NAT, berthd's rules), also while berthd is down; a host port is taken once;
// removing a container leaves no veth, lease or rule, after a berthd crash too; a UDP flow seen
// before its port was published reaches the container once it is. No traffic leaves the host.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname, networkInterfaces } from 'node:os';
import { DOCKER, httpGet, startEngine, until, type EngineFixture } from './engine-fixture.js';
import { freePort } from './helpers/registry.js';
import { execPlugin, pluginStdin } from '../src/network/cni.js';
import { removeInput } from '../src/network/port-nat.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
});
after(async () => {
  await eng?.stop();
});

function docker(...args: string[]) {
  return eng.docker(args);
}

const ok = (...args: string[]) => eng.dockerOk(args);

/** Host interfaces (veths and bridges) and iptables lines that name the engine's bridge network. */
function leftovers(networkId: string, bridge: string): string[] {
  const ifs = readdirSync('/sys/class/net').filter((n) => n === bridge || readlinkMaster(n) === bridge);
  const rules = ['nat', 'filter']
    .flatMap((t) => execFileSync('iptables-save', ['-t', t], { encoding: 'utf8' }).split('\n'))
    .filter((l) => (l.includes(`name: "bridge" id:`) && l.includes(networkId)) || /BERTH-P-/.test(l));
  return [...ifs.filter((n) => n !== bridge), ...rules];
}
function readlinkMaster(dev: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${dev}/master/uevent`, 'utf8').match(/INTERFACE=(\S+)/)?.[1];
  } catch {
    return undefined;
  }
}

const skip = !existsSync(DOCKER) && 'no docker CLI';

test('default bridge: an address, a route, the gateway and another container reachable', { skip }, async () => {
  const net = JSON.parse(ok('network', 'inspect', 'bridge'))[0];
  const { Subnet, Gateway } = net.IPAM.Config[0];
  assert.match(Subnet, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
  // The subnet is none of the host's other routes (docker0's included, when a dockerd runs).
  const routes = execFileSync('ip', ['-4', 'route'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith(Subnet) && !l.includes(net.Options['com.docker.network.bridge.name']));
  assert.deepEqual(routes, []);
  const server = ok('run', '-d', '--name', 'srv', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc');
  const ip = ok('inspect', '-f', '{{.NetworkSettings.IPAddress}}', server);
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(
    ok('inspect', '-f', '{{.NetworkSettings.Networks.bridge.Gateway}} {{.NetworkSettings.Gateway}} {{.HostConfig.NetworkMode}}', server),
    `${Gateway} ${Gateway} bridge`,
  );
  const out = ok(
    'run',
    '--rm',
    'busybox',
    'sh',
    '-c',
    `ip -4 addr show eth0 | grep -o 'inet [0-9./]*'; ip route | grep default; ping -c1 -W2 ${Gateway} >/dev/null && echo gw-ok; wget -qO- http://${ip}/hostname`,
  );
  assert.match(out, /inet \d+\.\d+\.\d+\.\d+\/\d+/);
  assert.match(out, new RegExp(`default via ${Gateway.replace(/\./g, '\\.')} dev eth0`));
  assert.match(out, /gw-ok/);
  assert.match(out, new RegExp(server.slice(0, 12)));
  ok('rm', '-f', server);
  // The teardown (CNI DEL) runs on after the removal answers.
  const leases = join(eng.dir, 'run', 'ipam', 'bridge');
  const leased = () => (existsSync(leases) ? readdirSync(leases).filter((f) => /^\d/.test(f)) : []);
  await until(() => leftovers(net.Id, net.Options['com.docker.network.bridge.name']).length === 0 && leased().length === 0).catch(() => {});
  assert.deepEqual(leftovers(net.Id, net.Options['com.docker.network.bridge.name']), []);
  // No lease is left in host-local's folder.
  assert.deepEqual(leased(), []);
});

test('--network none, host and container:<id>', { skip }, () => {
  assert.equal(ok('run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net | sort | tr "\\n" " "'), 'lo');
  const hostIfs = readdirSync('/sys/class/net').sort().join(' ');
  assert.equal(ok('run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'ls /sys/class/net | sort | tr "\\n" " "'), hostIfs);
  // On the host's network: the host's name and its /etc/hosts, as dockerd gives them; with
  // --add-host, dockerd's own lines instead (engine-fidelity-joiner compares them with dockerd's).
  assert.equal(ok('run', '--rm', '--network', 'host', 'busybox', 'hostname'), hostname());
  assert.equal(ok('run', '--rm', '--network', 'host', 'busybox', 'cat', '/etc/hosts'), readFileSync('/etc/hosts', 'utf8').trim());
  assert.match(
    ok('run', '--rm', '--network', 'host', '--add-host', 'extra.test:192.0.2.9', 'busybox', 'cat', '/etc/hosts'),
    /^127\.0\.0\.1\tlocalhost\n(?:.*\n)*192\.0\.2\.9\textra\.test$/,
  );
  const a = ok('run', '-d', 'busybox', 'sleep', '60');
  const ipA = ok('inspect', '-f', '{{.NetworkSettings.IPAddress}}', a);
  const shared = ok(
    'run',
    '--rm',
    '--network',
    `container:${a.slice(0, 12)}`,
    'busybox',
    'sh',
    '-c',
    "ip -4 addr show eth0 | grep -o 'inet [0-9.]*'",
  );
  assert.equal(shared, `inet ${ipA}`);
  assert.equal(ok('inspect', '-f', '{{.HostConfig.NetworkMode}}', a), 'bridge');
  ok('rm', '-f', a);
});

test('published ports: -p host:container, -p container, -P, ranges, 127.0.0.1, one owner per port', { skip }, async () => {
  const a = ok(
    'run',
    '-d',
    '-p',
    '127.0.0.1:18080:80',
    '-p',
    '80',
    '-p',
    '18090-18091:81-82',
    '--expose',
    '83',
    '-P',
    'busybox',
    'httpd',
    '-f',
    '-p',
    '80',
    '-h',
    '/etc',
  );
  const ports = ok('port', a).split('\n').sort();
  assert.ok(ports.includes('80/tcp -> 127.0.0.1:18080'), ports.join('\n'));
  assert.ok(ports.includes('81/tcp -> 0.0.0.0:18090'), ports.join('\n'));
  assert.ok(ports.includes('82/tcp -> 0.0.0.0:18091'), ports.join('\n'));
  const random = ports.filter((p) => /^80\/tcp -> 0\.0\.0\.0:\d+$/.test(p));
  assert.equal(random.length, 1, ports.join('\n'));
  assert.ok(
    ports.some((p) => /^83\/tcp -> 0\.0\.0\.0:\d+$/.test(p)),
    ports.join('\n'),
  );
  await until(async () => (await httpGet(18080).catch(() => '')).includes(a.slice(0, 12)));
  assert.match(await httpGet(Number(random[0].split(':').pop())), new RegExp(a.slice(0, 12)));
  // A port published on 0.0.0.0 answers on the host's own addresses too (traffic that stays on this host).
  const hostIp = Object.entries(networkInterfaces())
    .filter(([n]) => !n.startsWith('berth') && n !== 'lo')
    .flatMap(([, x]) => x ?? [])
    .find((x) => x.family === 'IPv4')?.address;
  if (hostIp) assert.match(await httpGet(Number(random[0].split(':').pop()), hostIp), new RegExp(a.slice(0, 12)));
  assert.match(ok('ps', '--format', '{{.Ports}}', '-f', `id=${a}`), /127\.0\.0\.1:18080->80\/tcp/);
  const b = docker('run', '-d', '-p', '127.0.0.1:18080:80', 'busybox', 'sleep', '60');
  assert.notEqual(b.status, 0);
  assert.match(b.stderr, /Bind for 127\.0\.0\.1:18080 failed: port is already allocated/);
  const net = JSON.parse(ok('network', 'inspect', 'bridge'))[0];
  ok('rm', '-f', a);
  docker('rm', '-f', b.stdout.trim());
  for (const id of ok('ps', '-aq').split('\n').filter(Boolean)) ok('rm', '-f', id);
  const nat = () => execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
  await until(() => !/18080/.test(nat()) && leftovers(net.Id, net.Options['com.docker.network.bridge.name']).length === 0).catch(() => {});
  assert.doesNotMatch(nat(), /18080/);
  assert.deepEqual(leftovers(net.Id, net.Options['com.docker.network.bridge.name']), []);
});

/** A client address of the host's other than its own (TEST-NET-2), added to lo for the test. */
const CLIENT = '198.51.100.7';
/** busybox httpd with a CGI answering the client's address as the container sees it. */
const WHO =
  'mkdir -p /www/cgi-bin && printf "#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho \\$REMOTE_ADDR\\n" > /www/cgi-bin/ip && chmod 755 /www/cgi-bin/ip && exec httpd -f -p 80 -h /www';
/** The CGI's answer as an IPv4 address (busybox httpd writes it IPv4-mapped: `[::ffff:a.b.c.d]`). */
const v4 = (answer: string) => answer.trim().replace(/^\[(?:::ffff:)?(.*)\]$/, '$1');
const curl = (args: string[]) =>
  v4(execFileSync('curl', ['-sS', '-m', '5', '--retry', '10', '--retry-connrefused', '--retry-delay', '0', ...args], { encoding: 'utf8' }));
/** The nat lines of a container's published ports: its chain and the jump to it. */
const portRules = (id: string) =>
  execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(`BERTH-P-${id.slice(0, 16)}`));

test(
  "a published port keeps the client's address, answers on 127.0.0.1 and to the container itself (hairpin), and while berthd is down; its rules go at rm, after a berthd kill -9 too",
  { skip: skip || (!existsSync('/usr/bin/curl') && 'no curl') },
  async () => {
    const [any, local] = [await freePort(), await freePort()];
    const gateway = JSON.parse(ok('network', 'inspect', 'bridge'))[0].IPAM.Config[0].Gateway;
    const a = ok('run', '-d', '-p', `${any}:80`, '-p', `127.0.0.1:${local}:80`, 'busybox', 'sh', '-c', WHO);
    // The chain, three rules per mapping (hairpin and 127.0.0.1 marked for masquerade, the DNAT), the jump to it.
    assert.equal(portRules(a).length, 8, portRules(a).join('\n'));
    execFileSync('ip', ['addr', 'add', `${CLIENT}/32`, 'dev', 'lo']);
    try {
      // From another address of the host: the container sees it, not the gateway's (no masquerade).
      assert.equal(curl(['--interface', CLIENT, `http://${CLIENT}:${any}/cgi-bin/ip`]), CLIENT);
      // From the host's 127.0.0.1 (route_localnet, masqueraded to the bridge's address), bound there only.
      assert.equal(curl([`http://127.0.0.1:${local}/cgi-bin/ip`]), gateway);
      assert.notEqual(spawnSync('curl', ['-sS', '-m', '2', `http://${CLIENT}:${local}/cgi-bin/ip`]).status, 0);
      // From the container to a host address: back to itself, masqueraded so that the reply returns through the host.
      assert.equal(v4(ok('exec', a, 'wget', '-qO-', `http://${gateway}:${any}/cgi-bin/ip`)), gateway);
      // berthd killed: the kernel's rules go on answering; the next berthd removes them with the container.
      await eng.restart('SIGKILL', async () => {
        assert.equal(curl(['--interface', CLIENT, `http://${CLIENT}:${any}/cgi-bin/ip`]), CLIENT);
      });
    } finally {
      execFileSync('ip', ['addr', 'del', `${CLIENT}/32`, 'dev', 'lo']);
    }
    ok('rm', '-f', a);
    await until(() => portRules(a).length === 0).catch(() => {});
    assert.deepEqual(portRules(a), []);
    // And a container removed by the berthd that made its rules.
    const b = ok('run', '-d', '-p', `127.0.0.1:${local}:80`, 'busybox', 'sh', '-c', WHO);
    assert.equal(curl([`http://127.0.0.1:${local}/cgi-bin/ip`]), gateway);
    ok('rm', '-f', b);
    await until(() => portRules(b).length === 0).catch(() => {});
    assert.deepEqual(portRules(b), []);
  },
);

test(
  'upgrade: the ports of a container started by a berthd that ran CNI portmap are undone by its DEL, as that record says',
  { skip: skip || (!existsSync('/usr/bin/curl') && 'no curl') },
  async () => {
    const port = await freePort();
    const c = ok('run', '-d', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', WHO);
    const net = JSON.parse(ok('network', 'inspect', 'bridge'))[0];
    const record = join(eng.dir, 'run', 'networks', c, `${net.Id}.json`);
    const portmapped = () =>
      execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => new RegExp(`id: \\\\?"${c}\\\\?"`).test(l));
    // berthd killed; its rules swapped for portmap's, and its record for the one a berthd before wrote.
    await eng.restart('SIGKILL', async () => {
      const a = JSON.parse(readFileSync(record, 'utf8'));
      execFileSync('iptables-restore', ['--noflush', '-w'], { input: removeInput(a.nat) });
      const list = {
        cniVersion: '1.0.0',
        name: 'bridge',
        plugins: [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }],
      };
      a.list = list;
      a.at.capabilityArgs = { portMappings: a.ports };
      delete a.nat;
      const prev = {
        cniVersion: '1.0.0',
        interfaces: [{ name: a.bridge.bridge }, { name: a.bridge.host }, { name: 'eth0', sandbox: a.at.netns }],
        ips: [{ address: a.bridge.ips[0], gateway: net.IPAM.Config[0].Gateway, interface: 2 }],
      };
      await execPlugin('ADD', pluginStdin(list, list.plugins[0], a.at, prev), a.at);
      writeFileSync(record, JSON.stringify(a));
    });
    assert.ok(portmapped().length > 0 && portRules(c).length === 0, 'portmap made the rules');
    // Its chain too (named from a hash of the network's name and the ID).
    const chain = portmapped()[0].match(/-j (CNI-DN-\S+)/)![1];
    const left = () => [
      ...portmapped(),
      ...execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes(chain)),
    ];
    assert.equal(curl([`http://127.0.0.1:${port}/cgi-bin/ip`]), net.IPAM.Config[0].Gateway);
    ok('rm', '-f', c);
    await until(() => left().length === 0).catch(() => {});
    assert.deepEqual(left(), []);
  },
);

test(
  "--bip (daemon.json bip) sets the default bridge's subnet and gateway; a new bip takes effect at the next start",
  { skip },
  async () => {
    const own = await startEngine({ daemonConfig: { bip: '10.213.44.1/24' } });
    try {
      const run = (...args: string[]) => {
        const r = own.docker(args);
        assert.equal(r.status, 0, r.stderr);
        return r.stdout.trim();
      };
      assert.equal(
        run('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'bridge'),
        '10.213.44.0/24 10.213.44.1',
      );
      assert.match(
        run('run', '--rm', 'busybox', 'sh', '-c', 'ip -4 addr show eth0; ip route'),
        /inet 10\.213\.44\.\d+\/24[\s\S]*default via 10\.213\.44\.1/,
      );
      await own.restart('SIGTERM', async () => {
        writeFileSync(join(own.dir, 'daemon.json'), JSON.stringify({ bip: '10.213.45.129/25' }));
      });
      assert.equal(
        run('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'bridge'),
        '10.213.45.128/25 10.213.45.129',
      );
      assert.match(run('run', '--rm', 'busybox', 'ip', 'route'), /default via 10\.213\.45\.129/);
    } finally {
      await own.stop();
    }
  },
);

test('rules left with no bridge (berthd killed while deleting it) go at the next start', { skip }, async () => {
  ok('network', 'create', 'killed-mid-delete');
  try {
    ok('run', '--rm', '--network', 'killed-mid-delete', 'busybox', 'true');
    const bridge = ok('network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.name"}}', 'killed-mid-delete');
    const naming = () =>
      ['nat', 'filter']
        .flatMap((t) => execFileSync('iptables-save', ['-t', t], { encoding: 'utf8' }).split('\n'))
        .filter((l) => l.split(/\s+/).includes(bridge));
    assert.ok(
      naming().some((l) => l.includes('MASQUERADE')),
      `the network's rules are set: ${naming().join('; ')}`,
    );
    // The deletion's first step done, the rest not: the bridge is gone, its rules are not.
    await eng.restart('SIGKILL', async () => {
      execFileSync('ip', ['link', 'del', bridge]);
    });
    await until(() => naming().length === 0, 10_000).catch(() => {});
    assert.deepEqual(naming(), []);
  } finally {
    ok('network', 'rm', 'killed-mid-delete');
  }
});

test(
  "an endpoint left by a killed berthd is undone at the next start: veth, lease (found by the container's ID where the record names none), port rules",
  { skip },
  async () => {
    const c = ok('run', '-d', '-p', '127.0.0.1::80', 'busybox', 'sleep', '60');
    const net = JSON.parse(ok('network', 'inspect', 'bridge'))[0];
    const ip = ok('inspect', '-f', '{{.NetworkSettings.IPAddress}}', c);
    const pid = Number(ok('inspect', '-f', '{{.State.Pid}}', c));
    const record = join(eng.dir, 'run', 'networks', c, `${net.Id}.json`);
    const a = JSON.parse(readFileSync(record, 'utf8'));
    const veth: string = a.bridge.host;
    const lease = join(eng.dir, 'run', 'ipam', 'bridge', ip);
    const dnat = () =>
      execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes(`${ip}:80`));
    assert.ok(existsSync(`/sys/class/net/${veth}`) && existsSync(lease) && dnat().length > 0, 'the endpoint is made');
    assert.deepEqual(a.bridge.ips, [`${ip}/${net.IPAM.Config[0].Subnet.split('/')[1]}`], 'the record names the lease');
    // berthd killed, the container ending meanwhile; its record written as berthd wrote it before
    // it chose addresses ahead (no addresses named: the lease is found by the container's ID).
    await eng.restart('SIGKILL', async () => {
      delete a.bridge.ips;
      writeFileSync(record, JSON.stringify(a));
      process.kill(pid, 'SIGKILL');
    });
    await until(() => !existsSync(`/sys/class/net/${veth}`) && !existsSync(lease) && dnat().length === 0 && !existsSync(record)).catch(
      () => {},
    );
    assert.deepEqual(
      { veth: existsSync(`/sys/class/net/${veth}`), lease: existsSync(lease), dnat: dnat(), record: existsSync(record) },
      { veth: false, lease: false, dnat: [], record: false },
    );
    ok('rm', '-f', c);
  },
);

test(
  'a UDP flow seen before its port is published reaches the container once it is (its stale conntrack entry deleted, as portmap did)',
  { skip },
  async () => {
    // A client in a network namespace of its own, on a veth to the host's 10.213.95.1, sending a
    // datagram every 100 ms from one source port to the host's port 18520 before anything publishes it.
    const [ns, host, peer] = ['berth-test-ct', 'berth-ct0', 'berth-ct1'];
    const ip = (...a: string[]) => execFileSync('ip', a);
    const node = (netns: string[], script: string) =>
      spawn('nsenter', [...netns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let sender: ChildProcess | undefined;
    let receiver: ChildProcess | undefined;
    let id = '';
    try {
      ip('netns', 'add', ns);
      ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer, 'netns', ns);
      ip('addr', 'add', '10.213.95.1/30', 'dev', host);
      ip('link', 'set', host, 'up');
      ip('-n', ns, 'addr', 'add', '10.213.95.2/30', 'dev', peer);
      ip('-n', ns, 'link', 'set', peer, 'up');
      sender = node(
        [`--net=/run/netns/${ns}`],
        "const s = require('dgram').createSocket('udp4'); let n = 0; s.bind(40123, () => setInterval(() => s.send(`ping-${n++}\\n`, 18520, '10.213.95.1'), 100));",
      );
      // The flow's entry is made (unanswered: nothing listens on the host).
      await new Promise((r) => setTimeout(r, 500));
      id = ok('run', '-d', '-p', '18520:9000/udp', 'busybox', 'sleep', '60');
      const pid = ok('inspect', '-f', '{{.State.Pid}}', id);
      // The container's side: a listener in its network namespace.
      receiver = node(
        [`--net=/proc/${pid}/ns/net`],
        "const s = require('dgram').createSocket('udp4'); s.on('message', (m) => process.stdout.write(m)); s.bind(9000, () => process.stdout.write('ready\\n'));",
      );
      let got = '';
      receiver.stdout!.on('data', (c) => (got += c));
      await until(() => /^ping-\d+$/m.test(got), 10_000);
    } finally {
      sender?.kill();
      receiver?.kill();
      if (id) docker('rm', '-f', id);
      spawnSync('ip', ['link', 'del', host]);
      spawnSync('ip', ['netns', 'del', ns]);
    }
  },
);
