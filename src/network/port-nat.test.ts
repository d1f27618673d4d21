import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addInput, chainOf, leftoverInput, ownedPortNat, ownerTag, planPortNat, removeInput } from './port-nat.js';

const ID = 'ab'.repeat(32);

test("a mapping is portmap's three rules: hairpin and 127.0.0.1 marked for masquerade, then the DNAT", () => {
  const p = planPortNat(ID, 'o1', [{ hostIP: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' }], '10.1.0.5/16');
  assert.equal(p.chain, `BERTH-P-${ID.slice(0, 16)}`);
  assert.ok(p.chain.length <= 28);
  assert.equal(p.comment, `berth ports o1 ${ID}`);
  assert.deepEqual(p.rules, [
    ['-s', '10.1.0.5/16', '-p', 'tcp', '-m', 'tcp', '--dport', '8080', '-j', 'MARK', '--set-xmark', '0x20000/0x20000'],
    ['-s', '127.0.0.1', '-p', 'tcp', '-m', 'tcp', '--dport', '8080', '-j', 'MARK', '--set-xmark', '0x20000/0x20000'],
    ['-p', 'tcp', '-m', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', '10.1.0.5:80'],
  ]);
});

test('a host address binds the rules to it; udp and sctp take their own match', () => {
  const ports = [
    { hostIP: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' as const },
    { hostIP: '192.0.2.1', hostPort: 9000, containerPort: 9, protocol: 'sctp' as const },
  ];
  const p = planPortNat(ID, 'o', ports, '10.1.0.5/24');
  assert.equal(p.rules.length, 6);
  assert.deepEqual(p.rules[2], [
    '-d',
    '127.0.0.1',
    '-p',
    'udp',
    '-m',
    'udp',
    '--dport',
    '5353',
    '-j',
    'DNAT',
    '--to-destination',
    '10.1.0.5:53',
  ]);
  assert.deepEqual(p.rules[3], [
    '-s',
    '10.1.0.5/24',
    '-d',
    '192.0.2.1',
    '-p',
    'sctp',
    '-m',
    'sctp',
    '--dport',
    '9000',
    '-j',
    'MARK',
    '--set-xmark',
    '0x20000/0x20000',
  ]);
});

test('iptables-restore input: the add makes (or empties) the chain and adds the jump; the removal deletes exactly that jump and the chain', () => {
  const p = planPortNat(ID, 'o', [{ hostIP: '0.0.0.0', hostPort: 1, containerPort: 2, protocol: 'tcp' }], '10.0.0.2/24');
  const c = chainOf(ID);
  assert.deepEqual(addInput(p).split('\n'), [
    '*nat',
    `:${c} - [0:0]`,
    `-A ${c} -s 10.0.0.2/24 -p tcp -m tcp --dport 1 -j MARK --set-xmark 0x20000/0x20000`,
    `-A ${c} -s 127.0.0.1 -p tcp -m tcp --dport 1 -j MARK --set-xmark 0x20000/0x20000`,
    `-A ${c} -p tcp -m tcp --dport 1 -j DNAT --to-destination 10.0.0.2:2`,
    `-A BERTH-PORTS -m comment --comment "berth ports o ${ID}" -j ${c}`,
    'COMMIT',
    '',
  ]);
  assert.deepEqual(removeInput(p).split('\n'), [
    '*nat',
    `:${c} - [0:0]`,
    `-D BERTH-PORTS -m comment --comment "berth ports o ${ID}" -j ${c}`,
    `-X ${c}`,
    'COMMIT',
    '',
  ]);
});

test("leftovers are found in iptables-save's output: every jump to the chain, and the chain", () => {
  const c = chainOf(ID);
  const save = [
    '*nat',
    ':BERTH-PORTS - [0:0]',
    `:${c} - [0:0]`,
    `-A BERTH-PORTS -m comment --comment "berth ports o ${ID}" -j ${c}`,
    `-A BERTH-PORTS -m comment --comment "berth ports o ${'cd'.repeat(32)}" -j BERTH-P-cdcdcdcdcdcdcdcd`,
    `-A ${c} -p tcp -m tcp --dport 1 -j DNAT --to-destination 10.0.0.2:2`,
    'COMMIT',
  ];
  assert.deepEqual(leftoverInput(save, c).split('\n'), [
    '*nat',
    `:${c} - [0:0]`,
    `-D BERTH-PORTS -m comment --comment "berth ports o ${ID}" -j ${c}`,
    `-X ${c}`,
    'COMMIT',
    '',
  ]);
  assert.equal(leftoverInput(['*nat', ':BERTH-PORTS - [0:0]', 'COMMIT'], c), '');
});

test("a berthd's mark is its exec-root's, short and stable", () => {
  assert.equal(ownerTag('/run/berth'), ownerTag('/run/berth'));
  assert.notEqual(ownerTag('/run/berth'), ownerTag('/tmp/berth-x/run'));
  assert.match(ownerTag('/run/berth'), /^[0-9a-f]{12}$/);
});

test("a routed network's ports: no NAT (no host port), dockerd's per-port ACCEPT from anywhere but the bridge", () => {
  const ports = [
    { hostIP: '0.0.0.0', hostPort: 0, containerPort: 80, protocol: 'tcp' as const },
    { hostIP: '0.0.0.0', hostPort: 0, containerPort: 80, protocol: 'tcp' as const },
  ];
  const p = planPortNat(ID, 'o', ports, '10.1.0.5/24', { bridge: 'br0', routed: { v4: true, v6: false }, trusted: [] });
  assert.deepEqual(p.rules, []);
  assert.equal(p.bridge, 'br0');
  assert.deepEqual(p.filter, [
    ['-d', '10.1.0.5/32', '!', '-i', 'br0', '-o', 'br0', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', 'ACCEPT'],
  ]);
  const add = addInput(p);
  assert.ok(!add.includes('*nat'), add);
  assert.match(
    add,
    /^\*filter\n:BERTH-P-\w+ - \[0:0\]\n-A BERTH-P-\w+ -d 10\.1\.0\.5\/32 ! -i br0 -o br0 .* -j ACCEPT\n-A BERTH-PORTS -o br0 -m comment/,
  );
  assert.match(
    removeInput(p),
    /^\*filter\n:BERTH-P-\w+ - \[0:0\]\n-D BERTH-PORTS -o br0 -m comment --comment "berth ports o \w+" -j BERTH-P-\w+\n-X BERTH-P-\w+\nCOMMIT\n$/,
  );
});

test('trusted host interfaces: NAT as ever, and the container port accepted from each of them', () => {
  const ports = [{ hostIP: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }];
  const p = planPortNat(ID, 'o', ports, '10.1.0.5/24', { bridge: 'br0', routed: { v4: false, v6: false }, trusted: ['eth3', 'vxlan.1'] });
  assert.equal(p.rules.length, 3);
  assert.deepEqual(
    p.filter?.map((r) => r.slice(0, 5)),
    [
      ['-d', '10.1.0.5/32', '-i', 'eth3', '-o'],
      ['-d', '10.1.0.5/32', '-i', 'vxlan.1', '-o'],
    ],
  );
  const add = addInput(p);
  assert.ok(add.indexOf('*nat') < add.indexOf('*filter') && add.split('COMMIT').length === 3, add);
  // No direct access allowed: the filter table is not touched.
  assert.equal(
    planPortNat(ID, 'o', ports, '10.1.0.5/24', { bridge: 'br0', routed: { v4: false, v6: false }, trusted: [] }).filter,
    undefined,
  );
});

test('leftovers in the filter table: its jump (which names the bridge) and the chain', () => {
  const chain = chainOf(ID);
  const save = [`:${chain} - [0:0]`, `-A BERTH-PORTS -o br0 -m comment --comment "berth ports x ${ID}" -j ${chain}`];
  assert.equal(
    leftoverInput(save, chain, 'filter'),
    `*filter\n:${chain} - [0:0]\n-D BERTH-PORTS -o br0 -m comment --comment "berth ports x ${ID}" -j ${chain}\n-X ${chain}\nCOMMIT\n`,
  );
});

test("ownedPortNat: the containers whose jumps from BERTH-PORTS carry this berthd's mark, with their chains, in nat or filter", () => {
  const other = 'cd'.repeat(32);
  const nat = [
    '*nat',
    ':BERTH-PORTS - [0:0]',
    `-A BERTH-PORTS -m comment --comment "berth ports o ${ID}" -j ${chainOf(ID)}`,
    `-A BERTH-PORTS -m comment --comment "berth ports p ${other}" -j ${chainOf(other)}`,
    `-A OUTPUT -m comment --comment "berth ports o ${other}" -j ${chainOf(other)}`,
    '-A BERTH-PORTS -m comment --comment "berth ports o short" -j BERTH-P-x',
    'COMMIT',
  ];
  assert.deepEqual([...ownedPortNat(nat, 'o')], [[ID, chainOf(ID)]]);
  assert.deepEqual([...ownedPortNat(nat, 'p')], [[other, chainOf(other)]]);
  const filter = ['*filter', `-A BERTH-PORTS -o br0 -m comment --comment "berth ports o ${ID}" -j ${chainOf(ID)}`, 'COMMIT'];
  assert.deepEqual([...ownedPortNat(filter, 'o')], [[ID, chainOf(ID)]]);
});

test("a binding on an IPv6 host address is the same three rules in ip6tables, to the container's IPv6 address; link-local sources are not DNAT'd", () => {
  const ports = [
    { hostIP: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const },
    { hostIP: '::', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const },
    { hostIP: 'fd42:b3::1', hostPort: 5353, containerPort: 53, protocol: 'udp' as const },
  ];
  const p = planPortNat(ID, 'o', ports, '10.1.0.5/24', undefined, 'fd42:b3:1::5/64');
  assert.equal(p.rules.length, 3);
  assert.deepEqual(p.rules6, [
    ['-s', 'fd42:b3:1::5/64', '-p', 'tcp', '-m', 'tcp', '--dport', '8080', '-j', 'MARK', '--set-xmark', '0x20000/0x20000'],
    ['-s', '::1', '-p', 'tcp', '-m', 'tcp', '--dport', '8080', '-j', 'MARK', '--set-xmark', '0x20000/0x20000'],
    ['!', '-s', 'fe80::/10', '-p', 'tcp', '-m', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', '[fd42:b3:1::5]:80'],
    [
      '-s',
      'fd42:b3:1::5/64',
      '-d',
      'fd42:b3::1',
      '-p',
      'udp',
      '-m',
      'udp',
      '--dport',
      '5353',
      '-j',
      'MARK',
      '--set-xmark',
      '0x20000/0x20000',
    ],
    ['-s', '::1', '-d', 'fd42:b3::1', '-p', 'udp', '-m', 'udp', '--dport', '5353', '-j', 'MARK', '--set-xmark', '0x20000/0x20000'],
    [
      '!',
      '-s',
      'fe80::/10',
      '-d',
      'fd42:b3::1',
      '-p',
      'udp',
      '-m',
      'udp',
      '--dport',
      '5353',
      '-j',
      'DNAT',
      '--to-destination',
      '[fd42:b3:1::5]:53',
    ],
  ]);
  const c = chainOf(ID);
  // ip6tables-restore's input: the same chain and jump, the IPv6 rules.
  assert.deepEqual(addInput(p, 6).split('\n').slice(0, 3), [
    '*nat',
    `:${c} - [0:0]`,
    `-A ${c} -s fd42:b3:1::5/64 -p tcp -m tcp --dport 8080 -j MARK --set-xmark 0x20000/0x20000`,
  ]);
  assert.equal(
    addInput(p, 6).split('\n')[4],
    `-A ${c} ! -s fe80::/10 -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd42:b3:1::5]:80`,
  );
  // IPv6 bindings alone: no iptables rules; IPv4 alone: no rules6 in the record.
  assert.deepEqual(planPortNat(ID, 'o', ports.slice(1), '10.1.0.5/24', undefined, 'fd42:b3:1::5/64').rules, []);
  assert.equal(planPortNat(ID, 'o', ports.slice(0, 1), '10.1.0.5/24', undefined, 'fd42:b3:1::5/64').rules6, undefined);
});

test("each family's direct access by its own gateway mode: routed IPv6's per-port ACCEPT in ip6tables' filter table, beside IPv4's NAT", () => {
  const ports = [
    { hostIP: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const },
    { hostIP: '::', hostPort: 0, containerPort: 80, protocol: 'tcp' as const },
  ];
  const direct = { bridge: 'br0', routed: { v4: false, v6: true }, trusted: [] };
  const p = planPortNat(ID, 'o', ports, '10.1.0.5/24', direct, 'fd42:b3:1::5/64');
  assert.equal(p.rules.length, 3);
  assert.equal(p.rules6, undefined);
  assert.equal(p.filter, undefined);
  assert.deepEqual(p.filter6, [
    ['-d', 'fd42:b3:1::5/128', '!', '-i', 'br0', '-o', 'br0', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-j', 'ACCEPT'],
  ]);
  const c = chainOf(ID);
  assert.equal(
    addInput(p, 6),
    `*filter\n:${c} - [0:0]\n-A ${c} -d fd42:b3:1::5/128 ! -i br0 -o br0 -p tcp -m tcp --dport 80 -j ACCEPT\n` +
      `-A BERTH-PORTS -o br0 -m comment --comment "berth ports o ${ID}" -j ${c}\nCOMMIT\n`,
  );
  assert.match(removeInput(p, 6), /^\*filter\n.*\n-D BERTH-PORTS -o br0 .*\n-X BERTH-P-\w+\nCOMMIT\n$/);
  // Trusted interfaces reach both addresses' published ports.
  const t = planPortNat(
    ID,
    'o',
    [{ ...ports[0] }, { ...ports[1], hostPort: 8080 }],
    '10.1.0.5/24',
    { ...direct, routed: { v4: false, v6: false }, trusted: ['eth3'] },
    'fd42:b3:1::5/64',
  );
  assert.deepEqual(
    [t.filter?.[0].slice(0, 4), t.filter6?.[0].slice(0, 4)],
    [
      ['-d', '10.1.0.5/32', '-i', 'eth3'],
      ['-d', 'fd42:b3:1::5/128', '-i', 'eth3'],
    ],
  );
});
