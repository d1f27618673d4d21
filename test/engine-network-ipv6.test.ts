// IPv6 networks side by side with dockerd 20.10, the docker 28 CLI against each: `network create
// --ipv6` with an IPv6 subnet beside an IPv4 one (or alone), inspect's IPAM configs and
// EnableIPv6, dockerd's refusals (no IPv6 subnet, overlapping pools, two subnets of a family,
// --ip6 where the network has no IPv6 subnet or outside it); containers with an address of each
// family (--ip6 applied, link-local IPs added, the lowest free address chosen as dockerd's IPAM does), their endpoints in inspect, their v6 address on
// eth0, ping6 by name and alias through each engine's DNS (AAAA), /etc/hosts. berthd's side
// publishes on both families (its ip6tables on, as dockerd 28's; dockerd 20.10 here runs with
// --ip6tables=false) and leaves no bridge, veth, netns pin or ip6tables rule behind. Subnets 10.231/10.232.x and
// fd4b:e47f:10::/48 (dockerd), fd4b:e47f:20::/48 (berthd): no other test's.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpGet, type CliResult, type EngineFixture } from './engine-fixture.js';
import { missing, type Dockerd } from './helpers/dockerd.js';
import { berthCli, IMAGE, show, sideBySide } from './helpers/side-by-side.js';

const FORWARDING = '/proc/sys/net/ipv6/conf/all/forwarding';
let eng: EngineFixture;
let d: Dockerd;

type Run = (a: string[]) => CliResult;
interface Side {
  who: string;
  run: Run;
  v4: string;
  v6: string;
}
const sides = (): Side[] => [
  { who: 'dockerd', run: (a) => d.docker(a), v4: '10.231', v6: 'fd4b:e47f:10' },
  { who: 'berthd', run: (a) => eng.docker(a), v4: '10.232', v6: 'fd4b:e47f:20' },
];
const ok = (s: Side, a: string[]) => {
  const r = s.run(a);
  assert.equal(r.status, 0, show(`${s.who} ${a.join(' ')}`, r));
  return r.stdout.trim();
};
/** The side's prefixes as V4 and V6, so both engines' outputs compare. */
const norm = (s: Side, text: string) => text.split(`${s.v4}.`).join('V4.').split(`${s.v6}:`).join('V6:');
const ip6tables = () => execFileSync('ip6tables-save', { encoding: 'utf8' }).replace(/^#.*\n/gm, '');

// The host's state as the engines find it (read now: a suite's before hooks start at once).
const needs = ['ip6tables-save', 'nsenter'];
const host = missing(...needs) ? undefined : { forwarding: readFileSync(FORWARDING, 'utf8').trim(), ip6: ip6tables() };
// After hooks run in the order they are registered: dockerd's networks go (it leaves their
// bridges when it stops) before the engines stop.
after(() => {
  if (!d) return;
  for (const s of sides()) {
    s.run(['rm', '-f', 'v6-one', 'v6-two', 'v6-web']);
    for (const n of ['v6-dual', 'v6-only', 'v6-v4', 'v6-off']) s.run(['network', 'rm', n]);
  }
});
const skip = sideBySide((p) => ({ eng, d } = p), { needs });
// Both engines' bridge drivers turn IPv6 forwarding on (dockerd's and CNI's, as for IPv4): back as it was.
after(() => {
  if (host) writeFileSync(FORWARDING, host.forwarding);
});

/** A network's inspect, less what differs by engine and run (IDs, times, the bridge's name, an automatic IPv4 pool). */
function network(s: Side, name: string) {
  const n = JSON.parse(ok(s, ['network', 'inspect', name]))[0];
  const config = (n.IPAM.Config as { Subnet: string; Gateway?: string }[]).map((c) =>
    c.Subnet.startsWith(`${s.v4}.`) || c.Subnet.startsWith(`${s.v6}:`)
      ? JSON.parse(norm(s, JSON.stringify(c)))
      : { ...c, Subnet: 'auto', ...(c.Gateway ? { Gateway: 'auto' } : {}) },
  );
  return {
    Name: n.Name,
    Driver: n.Driver,
    EnableIPv6: n.EnableIPv6,
    Internal: n.Internal,
    IPAM: { Driver: n.IPAM.Driver, Config: config },
  };
}

test('network create --ipv6: EnableIPv6 and the IPAM configs as dockerd shows them; its refusals in its words', { skip }, () => {
  const got: unknown[][] = [];
  for (const s of sides()) {
    const seen: unknown[] = [];
    ok(s, [
      'network',
      'create',
      '--ipv6',
      '--subnet',
      `${s.v4}.1.0/24`,
      '--subnet',
      `${s.v6}:1::/64`,
      '--gateway',
      `${s.v6}:1::fe`,
      'v6-dual',
    ]);
    ok(s, ['network', 'create', '--ipv6', '--subnet', `${s.v6}:2::/64`, 'v6-only']);
    ok(s, ['network', 'create', '--subnet', `${s.v4}.3.0/24`, 'v6-v4']);
    ok(s, ['network', 'create', '--subnet', `${s.v6}:4::/64`, 'v6-off']);
    for (const n of ['v6-dual', 'v6-only', 'v6-v4', 'v6-off']) seen.push(network(s, n));
    for (const args of [
      ['--ipv6', '--subnet', `${s.v6}:1::/80`, 'v6-x'],
      ['--subnet', `${s.v4}.1.0/25`, 'v6-x'],
      ['--ipv6', '--subnet', `${s.v6}:6::/64`, '--subnet', `${s.v6}:7::/64`, 'v6-x'],
    ]) {
      const r = s.run(['network', 'create', ...args]);
      seen.push([norm(s, args.join(' ')), r.status, norm(s, r.stderr)]);
    }
    got.push(seen);
  }
  assert.deepEqual(got[1], got[0]);
  assert.deepEqual(got[0][0], {
    Name: 'v6-dual',
    Driver: 'bridge',
    EnableIPv6: true,
    Internal: false,
    IPAM: { Driver: 'default', Config: [{ Subnet: 'V4.1.0/24' }, { Subnet: 'V6:1::/64', Gateway: 'V6:1::fe' }] },
  });
  assert.deepEqual((got[0][1] as { IPAM: unknown }).IPAM, {
    Driver: 'default',
    Config: [{ Subnet: 'auto', Gateway: 'auto' }, { Subnet: 'V6:2::/64' }],
  });
  assert.deepEqual(got[0].slice(4), [
    [`--ipv6 --subnet V6:1::/80 v6-x`, 1, 'Error response from daemon: Pool overlaps with other one on this address space\n'],
    [`--subnet V4.1.0/25 v6-x`, 1, 'Error response from daemon: Pool overlaps with other one on this address space\n'],
    [
      `--ipv6 --subnet V6:6::/64 --subnet V6:7::/64 v6-x`,
      1,
      "Error response from daemon: bridge driver doesn't support multiple subnets\n",
    ],
  ]);
});

test("--ipv6 with no IPv6 subnet: the next /64 of the host's ULA pool (dockerd 27+; 20.10 had none and refused)", { skip }, () => {
  const b = sides()[1];
  const want = d.docker(['network', 'create', '--ipv6', 'v6-ula']);
  assert.match(want.stderr, /could not find an available, non-overlapping IPv6 address pool among the defaults/, 'dockerd 20.10 refuses');
  ok(b, ['network', 'create', '--ipv6', '--subnet', '10.232.5.0/24', 'v6-ula']);
  ok(b, ['network', 'create', '--ipv6', 'v6-ula2']);
  try {
    const subnets = ['v6-ula', 'v6-ula2'].map((n) =>
      ok(b, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', n]).split(' '),
    );
    const v6 = subnets.map((l) => l.find((x) => x.includes(':'))!);
    // fdXX:XXXX:XXXX::/48 from the engine's ID, then its /64s in order: :0, :1.
    assert.match(v6[0], /^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/64$/, subnets[0].join(' '));
    assert.equal(v6[1], v6[0].replace('::/64', ':1::/64'));
    assert.equal(subnets[0][0], '10.232.5.0/24');
    const r = b.run(['run', '--rm', '--network', 'v6-ula2', IMAGE, 'ip', '-6', 'addr', 'show', 'eth0']);
    assert.ok(r.stdout.includes(v6[1].replace('::/64', '::2/64')), show('berthd', r));
  } finally {
    b.run(['network', 'rm', 'v6-ula', 'v6-ula2']);
  }
});

/** An endpoint's inspect, less IDs and MACs, with the side's prefixes. */
function endpoint(s: Side, container: string, net: string) {
  const ep = JSON.parse(ok(s, ['inspect', '-f', '{{json .NetworkSettings.Networks}}', container]))[net];
  const { IPAMConfig, Gateway, IPAddress, IPPrefixLen, IPv6Gateway, GlobalIPv6Address, GlobalIPv6PrefixLen } = ep;
  return JSON.parse(
    norm(s, JSON.stringify({ IPAMConfig, Gateway, IPAddress, IPPrefixLen, IPv6Gateway, GlobalIPv6Address, GlobalIPv6PrefixLen })),
  );
}

test(
  'containers on an IPv6 network: --ip6 and link-local IPs applied, endpoints as dockerd shows them, ping6 by name and alias',
  { skip },
  () => {
    const got: unknown[][] = [];
    for (const s of sides()) {
      const seen: unknown[] = [];
      ok(s, ['run', '-d', '--name', 'v6-one', '--network', 'v6-dual', IMAGE, 'sleep', '300']);
      ok(s, [
        'run',
        '-d',
        '--name',
        'v6-two',
        '--network',
        'v6-dual',
        '--ip',
        `${s.v4}.1.20`,
        '--ip6',
        `${s.v6}:1::10`,
        '--network-alias',
        'deux',
        IMAGE,
        'sleep',
        '300',
      ]);
      seen.push(endpoint(s, 'v6-two', 'v6-dual'));
      const one = endpoint(s, 'v6-one', 'v6-dual');
      assert.match(one.GlobalIPv6Address, /^V6:1::[0-9a-f]+$/, s.who);
      seen.push({ ...one, IPAddress: 'dynamic', GlobalIPv6Address: 'dynamic' });
      const members = JSON.parse(ok(s, ['network', 'inspect', '-f', '{{json .Containers}}', 'v6-dual']));
      seen.push(
        Object.values<{ Name: string; IPv4Address: string; IPv6Address: string }>(members)
          .filter((m) => m.Name === 'v6-two')
          .map((m) => norm(s, `${m.IPv4Address} ${m.IPv6Address}`)),
      );
      // The container sees its address on eth0, and a default route through the gateway.
      const addr = ok(s, ['exec', 'v6-two', 'ip', '-6', 'addr', 'show', 'eth0']);
      seen.push(norm(s, addr).match(/inet6 V6:\S+ scope global/)?.[0]);
      seen.push(norm(s, ok(s, ['exec', 'v6-two', 'ip', '-6', 'route'])).match(/^default via \S+ dev eth0/m)?.[0]);
      // Names over IPv6, both ways, through the engine's DNS (AAAA).
      seen.push(norm(s, ok(s, ['exec', 'v6-one', 'ping6', '-c1', '-W5', 'v6-two'])).split('\n')[0]);
      seen.push(norm(s, ok(s, ['exec', 'v6-one', 'ping6', '-c1', '-W5', 'deux'])).split('\n')[0]);
      assert.match(ok(s, ['exec', 'v6-two', 'ping6', '-c1', '-W5', 'v6-one']), /1 packets received/, s.who);
      seen.push(norm(s, ok(s, ['exec', 'v6-one', 'nslookup', '-type=AAAA', 'v6-two'])).match(/^Address: V6:.*$/m)?.[0]);
      const hosts = ok(s, ['exec', 'v6-two', 'cat', '/etc/hosts']).split('\n').slice(-2);
      seen.push(hosts.map((l) => norm(s, l.split('\t')[0])));
      // Link-local addresses, with the prefixes dockerd gives them.
      const local = ok(s, [
        'run',
        '--rm',
        '--network',
        'v6-dual',
        '--link-local-ip',
        '169.254.9.9',
        '--link-local-ip',
        'fe80::99',
        IMAGE,
        'ip',
        'addr',
        'show',
        'eth0',
      ]);
      seen.push(local.match(/inet 169\.254\.9\.9\/16|inet6 fe80::99\/64/g));
      // Connected while running: an address of each family on the second network too.
      ok(s, ['network', 'connect', '--ip6', `${s.v6}:2::20`, 'v6-only', 'v6-one']);
      const second = endpoint(s, 'v6-one', 'v6-only');
      // Its IPv4 subnet is an automatic pool's: dockerd takes the first free one, berth a random one.
      seen.push({ ...second, Gateway: 'auto', IPAddress: 'auto', IPPrefixLen: 'auto' });
      assert.match(ok(s, ['exec', 'v6-one', 'ip', '-6', 'addr', 'show', 'eth1']), new RegExp(`inet6 ${s.v6}:2::20/64`), s.who);
      // dockerd's refusals of --ip6 (its daemon finds them at start, berthd at create: the same words to the CLI).
      for (const [net, ip6] of [
        ['v6-v4', `${s.v6}:1::11`],
        ['v6-dual', `${s.v6}:8::11`],
        ['v6-dual', `${s.v4}.1.9`],
      ]) {
        const r = s.run(['run', '--rm', '--network', net, '--ip6', ip6, IMAGE, 'true']);
        seen.push([net, r.status, norm(s, r.stderr.split('\n')[0])]);
      }
      got.push(seen);
    }
    assert.deepEqual(got[1], got[0]);
    assert.deepEqual(got[0][0], {
      IPAMConfig: { IPv4Address: 'V4.1.20', IPv6Address: 'V6:1::10' },
      Gateway: 'V4.1.1',
      IPAddress: 'V4.1.20',
      IPPrefixLen: 24,
      IPv6Gateway: 'V6:1::fe',
      GlobalIPv6Address: 'V6:1::10',
      GlobalIPv6PrefixLen: 64,
    });
    assert.deepEqual(got[0].slice(2, 11), [
      ['V4.1.20/24 V6:1::10/64'],
      'inet6 V6:1::10/64 scope global',
      'default via V6:1::fe dev eth0',
      'PING v6-two (V6:1::10): 56 data bytes',
      'PING deux (V6:1::10): 56 data bytes',
      'Address: V6:1::10',
      ['V4.1.20', 'V6:1::10'],
      ['inet 169.254.9.9/16', 'inet6 fe80::99/64'],
      {
        IPAMConfig: { IPv6Address: 'V6:2::20' },
        Gateway: 'auto',
        IPAddress: 'auto',
        IPPrefixLen: 'auto',
        IPv6Gateway: 'V6:2::1',
        GlobalIPv6Address: 'V6:2::20',
        GlobalIPv6PrefixLen: 64,
      },
    ]);
    assert.deepEqual(got[0].slice(11), [
      [
        'v6-v4',
        125,
        'docker: Error response from daemon: user specified IP address is supported only when connecting to networks with user configured subnets',
      ],
      ['v6-dual', 125, "docker: Error response from daemon: Invalid address V6:8::11: It does not belong to any of this network's subnets"],
      ['v6-dual', 125, 'docker: Error response from daemon: invalid IPv6 address: V4.1.9'],
    ]);
  },
);

test(
  "published ports on an IPv6 network: one binding per family as dockerd 28 (ip6tables on), berthd's DNAT in ip6tables",
  { skip },
  async () => {
    const s = sides()[1];
    ok(s, ['run', '-d', '--name', 'v6-web', '--network', 'v6-dual', '-p', '80', IMAGE, 'httpd', '-f', '-p', '80', '-h', '/etc']);
    const ports = JSON.parse(ok(s, ['inspect', '-f', '{{json .NetworkSettings.Ports}}', 'v6-web']));
    assert.deepEqual(Object.keys(ports), ['80/tcp']);
    assert.deepEqual(
      ports['80/tcp'].map((b: { HostIp: string }) => b.HostIp),
      ['0.0.0.0', '::'],
    );
    assert.equal(ports['80/tcp'][1].HostPort, ports['80/tcp'][0].HostPort);
    const id = ok(s, ['inspect', '-f', '{{.Config.Hostname}}', 'v6-web']);
    assert.equal((await httpGet(Number(ports['80/tcp'][0].HostPort))).trim(), id);
    const v6 = ok(s, ['inspect', '-f', '{{(index .NetworkSettings.Networks "v6-dual").GlobalIPv6Address}}', 'v6-web']);
    assert.match(ip6tables(), new RegExp(`-j DNAT --to-destination \\[${v6}\\]:80`));
  },
);

test(
  'addresses of each family: the lowest free, a freed one at once, a --ip leaving the rest alone, the MAC from the IPv4 address, as dockerd 20.10',
  { skip },
  () => {
    const seen = sides().map((s) => {
      // Its addresses, and whether its MAC is dockerd 20.10's from its IPv4 address (02:42 and the address).
      const addr = (c: string) => {
        const f = '{{with (index .NetworkSettings.Networks "v6-ipam")}}{{.IPAddress}} {{.GlobalIPv6Address}} {{.MacAddress}}{{end}}';
        const [v4, v6, mac] = ok(s, ['inspect', '-f', f, c]).split(' ');
        const fromIp = ['02', '42', ...v4.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
        return norm(s, `${v4} ${v6} ${mac === fromIp ? 'mac-from-ip' : mac}`);
      };
      const start = (c: string, ...flags: string[]) => {
        ok(s, ['run', '-d', '--name', c, '--network', 'v6-ipam', ...flags, IMAGE, 'sleep', '120']);
        return addr(c);
      };
      try {
        ok(s, ['network', 'create', '--ipv6', '--subnet', `${s.v4}.12.0/24`, '--subnet', `${s.v6}:12::/64`, 'v6-ipam']);
        const got = [start('v6-i1'), start('v6-i2', '--ip', `${s.v4}.12.77`, '--ip6', `${s.v6}:12::77`), start('v6-i3')];
        ok(s, ['rm', '-f', 'v6-i1']);
        got.push(start('v6-i4'));
        return got;
      } finally {
        s.run(['rm', '-f', 'v6-i1', 'v6-i2', 'v6-i3', 'v6-i4']);
        s.run(['network', 'rm', 'v6-ipam']);
      }
    });
    assert.deepEqual(seen[1], seen[0]);
    assert.deepEqual(seen[1], [
      'V4.12.2 V6:12::2 mac-from-ip',
      'V4.12.77 V6:12::77 mac-from-ip',
      'V4.12.3 V6:12::3 mac-from-ip',
      'V4.12.2 V6:12::2 mac-from-ip',
    ]);
  },
);

test('the berth CLI: network create --ipv6 pairs the gateway with its subnet, run --ip6 and --link-local-ip', { skip }, () => {
  const berth = (args: string[]) => {
    const r = berthCli(eng, args);
    assert.equal(r.status, 0, show(`berth ${args.join(' ')}`, r));
    return r.stdout.trim();
  };
  berth([
    'network',
    'create',
    '--ipv6',
    '--subnet',
    '10.232.9.0/24',
    '--subnet',
    'fd4b:e47f:20:9::/64',
    '--gateway',
    'fd4b:e47f:20:9::fe',
    'v6-cli',
  ]);
  try {
    const n = JSON.parse(berth(['network', 'inspect', 'v6-cli']))[0];
    assert.equal(n.EnableIPv6, true);
    assert.deepEqual(n.IPAM.Config, [{ Subnet: '10.232.9.0/24' }, { Subnet: 'fd4b:e47f:20:9::/64', Gateway: 'fd4b:e47f:20:9::fe' }]);
    const out = berth([
      'run',
      '--rm',
      '--network',
      'v6-cli',
      '--ip6',
      'fd4b:e47f:20:9::9',
      '--link-local-ip',
      'fe80::9',
      IMAGE,
      'ip',
      '-6',
      'addr',
      'show',
      'eth0',
    ]);
    assert.match(out, /inet6 fd4b:e47f:20:9::9\/64 scope global/);
    assert.match(out, /inet6 fe80::9\/64 scope link/);
  } finally {
    berthCli(eng, ['network', 'rm', 'v6-cli']);
  }
});

test("berthd's side leaves nothing: bridges (and their veths), netns pins, ip6tables rules", { skip }, () => {
  const s = sides()[1];
  const bridges = ['v6-dual', 'v6-only', 'v6-v4', 'v6-off'].map((n) =>
    ok(s, ['network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.name"}}', n]),
  );
  assert.ok(bridges.some((b) => existsSync(`/sys/class/net/${b}`)));
  ok(s, ['rm', '-f', 'v6-one', 'v6-two', 'v6-web']);
  for (const n of ['v6-dual', 'v6-only', 'v6-v4', 'v6-off']) ok(s, ['network', 'rm', n]);
  for (const b of bridges) assert.ok(!existsSync(`/sys/class/net/${b}`), `${b} is left`);
  const pins = join(eng.dir, 'run', 'netns');
  assert.deepEqual(existsSync(pins) ? readdirSync(pins) : [], []);
  assert.equal(ip6tables(), host!.ip6);
});
