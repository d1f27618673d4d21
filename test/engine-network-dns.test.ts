// The embedded DNS of user-defined bridge networks side by side with dockerd 20.10, through the
// docker 28 CLI: the same scenario against each engine in turn, and both must agree: a
// container's resolv.conf (plain, with --dns-opt and --dns-search, with --dns of both families;
// berthd names its server on the bridge's gateway where dockerd names 127.0.0.11), names and
// aliases over UDP (busybox nslookup) and over TCP (a query this test sends from the container's
// network namespace), and on a network whose bridge has no IPv4 address (inhibit_ipv4) the
// resolver at 127.0.0.11 in the container's namespace, UDP and TCP. Then berthd alone: gateway
// mode isolated (which dockerd 20.10 does not know), and both kinds of server answering again,
// over TCP, after a berthd killed while the containers ran. Subnets 10.251.x: no other test's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { CliResult, EngineFixture } from './engine-fixture.js';
import { IMAGE, show, sideBySide } from './helpers/side-by-side.js';
import type { Dockerd } from './helpers/dockerd.js';

const NETS = ['bdns-a', 'bdns-i', 'bdns-x', 'bdns-b'];
const CONTAINERS = ['bdns-srv', 'bdns-cli', 'bdns-i1', 'bdns-i2', 'bdns-x1', 'bdns-x2', 'bdns-b1'];
const GATEWAY_A = '10.251.1.1';

let eng: EngineFixture;
let d: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p), { needs: ['nsenter'] });

type Cli = (args: string[]) => CliResult;

/**
 * A query for an A record sent over TCP (a 2-byte length, then the message) to `server`:53, run
 * by node in the namespace it is started in; prints the answer's rcode, TC bit and addresses.
 */
const TCP_QUERY = `
const net = require('node:net');
const [server, name] = process.argv.slice(1);
const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
const q = Buffer.concat([Buffer.from([0x42, 0x42, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
const len = Buffer.alloc(2);
len.writeUInt16BE(q.length);
const s = net.connect({ host: server, port: 53 }, () => s.write(Buffer.concat([len, q])));
const end = (o) => { console.log(JSON.stringify(o)); s.destroy(); };
s.setTimeout(5000, () => end({ error: 'timeout' }));
s.on('error', (e) => end({ error: e.code }));
let buf = Buffer.alloc(0);
s.on('data', (c) => {
  buf = Buffer.concat([buf, c]);
  if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
  const m = buf.subarray(2, 2 + buf.readUInt16BE(0));
  let off = q.length;
  const ips = [];
  for (let i = 0; i < m.readUInt16BE(6); i++) {
    for (;;) {
      const l = m[off];
      if (l === 0) { off++; break; }
      if ((l & 0xc0) === 0xc0) { off += 2; break; }
      off += 1 + l;
    }
    const rdl = m.readUInt16BE(off + 8);
    if (m.readUInt16BE(off) === 1) ips.push([...m.subarray(off + 10, off + 10 + rdl)].join('.'));
    off += 10 + rdl;
  }
  end({ id: m.readUInt16BE(0), rcode: m[3] & 15, tc: (m[2] & 2) === 2, ips: ips.sort() });
});
`;

/** `name`'s A records from `server` (the container's first nameserver when not given), asked over TCP from inside its network namespace. */
function tcpLookup(cli: Cli, container: string, name: string, server?: string): unknown {
  const pid = cli(['inspect', '-f', '{{.State.Pid}}', container]).stdout.trim();
  server ??= /^nameserver (\S+)$/m.exec(cli(['exec', container, 'cat', '/etc/resolv.conf']).stdout)?.[1] ?? '';
  const r = spawnSync('nsenter', ['-t', pid, '-n', process.execPath, '-e', TCP_QUERY, server, name], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** What busybox's nslookup in the container finds for `name` (UDP, through its resolv.conf): the answer's addresses. */
function lookup(cli: Cli, container: string, name: string): string[] {
  const out = cli(['exec', container, 'nslookup', name]).stdout;
  const answer = out.slice(out.indexOf('Name:'));
  return out.includes('Name:') ? [...answer.matchAll(/^Address:\s*(\S+)$/gm)].map((m) => m[1]).sort() : [];
}

/** resolv.conf with the embedded server's address (dockerd's 127.0.0.11, berthd's gateway on bdns-a) as one word. */
const embedded = (text: string) =>
  text.replace(new RegExp(`^nameserver (127\\.0\\.0\\.11|${GATEWAY_A.replace(/\./g, '\\.')})$`, 'm'), 'nameserver <embedded>');

function scenario(cli: Cli) {
  const seen: Record<string, unknown> = {};
  const ok = (...a: string[]) => {
    const r = cli(a);
    assert.equal(r.status, 0, show(a.join(' '), r));
    return r.stdout.trim();
  };
  const cat = (...flags: string[]) => ok('run', '--rm', '--network', 'bdns-a', ...flags, IMAGE, 'cat', '/etc/resolv.conf');
  try {
    ok('network', 'create', '--subnet', '10.251.1.0/24', 'bdns-a');
    ok('run', '-d', '--name', 'bdns-srv', '--network', 'bdns-a', '--network-alias', 'bdns-web', IMAGE, 'sleep', '120');
    ok('run', '-d', '--name', 'bdns-cli', '--network', 'bdns-a', IMAGE, 'sleep', '120');
    seen.srvIp = ok('inspect', '-f', '{{(index .NetworkSettings.Networks "bdns-a").IPAddress}}', 'bdns-srv');
    seen.rawResolvConf = ok('exec', 'bdns-cli', 'cat', '/etc/resolv.conf');
    seen.resolvConf = embedded(seen.rawResolvConf as string);
    seen.resolvConfOpts = embedded(
      cat('--dns-opt', 'ndots:2', '--dns-opt', 'timeout:1', '--dns-search', 'a.test', '--dns-search', 'b.test'),
    );
    seen.resolvConfDns = embedded(cat('--dns', '192.0.2.53', '--dns', '2001:db8::53', '--dns-opt', 'edns0'));
    seen.udpName = lookup(cli, 'bdns-cli', 'bdns-srv');
    seen.udpAlias = lookup(cli, 'bdns-cli', 'bdns-web');
    seen.tcpName = tcpLookup(cli, 'bdns-cli', 'bdns-srv');
    seen.tcpAlias = tcpLookup(cli, 'bdns-cli', 'bdns-web');

    // A bridge with no IPv4 address: the resolver at 127.0.0.11 in the container, UDP and TCP.
    ok('network', 'create', '--subnet', '10.251.2.0/24', '-o', 'com.docker.network.bridge.inhibit_ipv4=true', 'bdns-i');
    ok('run', '-d', '--name', 'bdns-i1', '--network', 'bdns-i', '--network-alias', 'bdns-ia', IMAGE, 'sleep', '120');
    ok('run', '-d', '--name', 'bdns-i2', '--network', 'bdns-i', IMAGE, 'sleep', '120');
    seen.inhibitIp = ok('inspect', '-f', '{{(index .NetworkSettings.Networks "bdns-i").IPAddress}}', 'bdns-i1');
    seen.inhibitResolvConf = ok('exec', 'bdns-i2', 'cat', '/etc/resolv.conf');
    seen.inhibitUdp = lookup(cli, 'bdns-i2', 'bdns-ia');
    seen.inhibitTcp = tcpLookup(cli, 'bdns-i2', 'bdns-i1');
    // Names of another network are not its.
    seen.inhibitOther = lookup(cli, 'bdns-i2', 'bdns-srv');
    return seen;
  } finally {
    cli(['rm', '-f', ...CONTAINERS]);
    for (const n of NETS) cli(['network', 'rm', n]);
  }
}

test('embedded DNS on user-defined bridge networks: berthd as dockerd 20.10', { skip }, () => {
  const theirs = scenario((a) => d.docker(a));
  const ours = scenario((a) => eng.docker(a));
  // Each engine's own server address; all else alike.
  assert.match(theirs.rawResolvConf as string, /^nameserver 127\.0\.0\.11$/m);
  assert.match(ours.rawResolvConf as string, new RegExp(`^nameserver ${GATEWAY_A.replace(/\./g, '\\.')}$`, 'm'));
  delete theirs.rawResolvConf;
  delete ours.rawResolvConf;
  assert.deepEqual(ours, theirs);
  // What they agreed on, as it should be.
  assert.match(ours.resolvConf as string, /^options (.* )?ndots:0$/m);
  assert.equal(
    ours.resolvConfOpts,
    'search a.test b.test\nnameserver <embedded>\noptions ndots:2 timeout:1',
    'an ndots of the user stays, no ndots:0 beside it',
  );
  assert.equal(ours.resolvConfDns, 'nameserver <embedded>\nnameserver 2001:db8::53\noptions edns0 ndots:0');
  assert.deepEqual(ours.udpName, [ours.srvIp]);
  assert.deepEqual(ours.udpAlias, [ours.srvIp]);
  assert.deepEqual(ours.tcpName, { id: 0x4242, rcode: 0, tc: false, ips: [ours.srvIp] });
  assert.deepEqual(ours.tcpAlias, ours.tcpName);
  assert.match(ours.inhibitResolvConf as string, /^nameserver 127\.0\.0\.11$/m);
  assert.deepEqual(ours.inhibitUdp, [ours.inhibitIp]);
  assert.deepEqual(ours.inhibitTcp, { id: 0x4242, rcode: 0, tc: false, ips: [ours.inhibitIp] });
  assert.deepEqual(ours.inhibitOther, []);
});

test(
  "berthd alone: gateway mode isolated has the resolver at 127.0.0.11; both kinds answer over TCP after a berthd restart; a gateway refuses other networks' containers",
  { skip },
  async () => {
    const cli: Cli = (a) => eng.docker(a);
    const ok = (...a: string[]) => eng.dockerOk(a);
    try {
      ok(
        'network',
        'create',
        '--internal',
        '--subnet',
        '10.251.3.0/24',
        '-o',
        'com.docker.network.bridge.gateway_mode_ipv4=isolated',
        'bdns-x',
      );
      ok('run', '-d', '--name', 'bdns-x1', '--network', 'bdns-x', IMAGE, 'sleep', '120');
      ok('run', '-d', '--name', 'bdns-x2', '--network', 'bdns-x', IMAGE, 'sleep', '120');
      ok('network', 'create', '--subnet', '10.251.1.0/24', 'bdns-a');
      ok('run', '-d', '--name', 'bdns-srv', '--network', 'bdns-a', IMAGE, 'sleep', '120');
      ok('run', '-d', '--name', 'bdns-cli', '--network', 'bdns-a', IMAGE, 'sleep', '120');
      const x1 = ok('inspect', '-f', '{{(index .NetworkSettings.Networks "bdns-x").IPAddress}}', 'bdns-x1');
      const srv = ok('inspect', '-f', '{{(index .NetworkSettings.Networks "bdns-a").IPAddress}}', 'bdns-srv');
      assert.equal(ok('exec', 'bdns-x2', 'cat', '/etc/resolv.conf'), 'nameserver 127.0.0.11\noptions ndots:0');
      assert.deepEqual(lookup(cli, 'bdns-x2', 'bdns-x1'), [x1]);
      await eng.restart('SIGKILL');
      assert.deepEqual(tcpLookup(cli, 'bdns-x2', 'bdns-x1'), { id: 0x4242, rcode: 0, tc: false, ips: [x1] });
      assert.deepEqual(tcpLookup(cli, 'bdns-cli', 'bdns-srv'), { id: 0x4242, rcode: 0, tc: false, ips: [srv] });
      assert.deepEqual(lookup(cli, 'bdns-x2', 'bdns-x1'), [x1]);
      // A container of another network that asks bdns-a's gateway (a host address it reaches) is
      // refused there, over UDP and TCP: bdns-a's names are for bdns-a's containers.
      ok('network', 'create', '--subnet', '10.251.4.0/24', 'bdns-b');
      ok('run', '-d', '--name', 'bdns-b1', '--network', 'bdns-b', IMAGE, 'sleep', '120');
      assert.deepEqual(tcpLookup(cli, 'bdns-b1', 'bdns-srv', GATEWAY_A), { id: 0x4242, rcode: 5, tc: false, ips: [] });
      const udp = cli(['exec', 'bdns-b1', 'nslookup', 'bdns-srv', GATEWAY_A]);
      assert.doesNotMatch(udp.stdout, new RegExp(`Address:\\s*${srv.replace(/\./g, '\\.')}$`, 'm'), udp.stdout + udp.stderr);
      assert.match(udp.stdout + udp.stderr, /REFUSED/i);
      assert.deepEqual(tcpLookup(cli, 'bdns-cli', 'bdns-srv', GATEWAY_A), { id: 0x4242, rcode: 0, tc: false, ips: [srv] });
    } finally {
      cli(['rm', '-f', ...CONTAINERS]);
      for (const n of NETS) cli(['network', 'rm', n]);
    }
  },
);
