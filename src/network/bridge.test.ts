import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bridgeConfList } from './bridge.js';
import { splitRule } from './iptables.js';

test('an iptables-save rule splits as the shell would', () => {
  assert.deepEqual(
    splitRule('-A CNI-ISOLATION-STAGE-2 -o berth1 -m comment --comment "CNI firewall plugin rules (ingressPolicy: same-bridge)" -j DROP'),
    [
      '-A',
      'CNI-ISOLATION-STAGE-2',
      '-o',
      'berth1',
      '-m',
      'comment',
      '--comment',
      'CNI firewall plugin rules (ingressPolicy: same-bridge)',
      '-j',
      'DROP',
    ],
  );
});

test('a bridge conflist: ip-range bounds, internal without a default route, portmap only with ports', () => {
  const l = bridgeConfList(
    { name: 'n', bridge: 'berthx', v4: { subnet: '10.1.0.0/24', gateway: '10.1.0.254', ipRange: '10.1.0.0/25' }, internal: true },
    '/run/ipam',
    { ports: false },
  );
  const bridge = l.plugins[0] as any;
  assert.deepEqual(bridge.ipam.ranges, [
    [{ subnet: '10.1.0.0/24', gateway: '10.1.0.254', rangeStart: '10.1.0.1', rangeEnd: '10.1.0.127' }],
  ]);
  assert.deepEqual(bridge.ipam.routes, []);
  assert.deepEqual(
    l.plugins.map((p) => p.type),
    ['bridge'],
  );
  const withPorts = bridgeConfList({ name: 'n', bridge: 'b', v4: { subnet: '10.1.0.0/24', gateway: '10.1.0.1' }, internal: false }, '/d', {
    ports: true,
  });
  assert.deepEqual((withPorts.plugins[0] as any).ipam.routes, [{ dst: '0.0.0.0/0' }]);
  assert.deepEqual(
    withPorts.plugins.map((p) => p.type),
    ['bridge', 'portmap'],
  );
});

test('an IPv6 network: a range set per family, a default route each, the IPv6 ip-range without a broadcast to leave out', () => {
  const l = bridgeConfList(
    {
      name: 'n',
      bridge: 'b',
      v4: { subnet: '10.1.0.0/24', gateway: '10.1.0.1' },
      v6: { subnet: 'fd4b:e47f:2::/64', gateway: 'fd4b:e47f:2::1', ipRange: 'fd4b:e47f:2::/112' },
      internal: false,
    },
    '/d',
    { ports: false },
  );
  const ipam = (l.plugins[0] as any).ipam;
  assert.deepEqual(ipam.ranges, [
    [{ subnet: '10.1.0.0/24', gateway: '10.1.0.1' }],
    [{ subnet: 'fd4b:e47f:2::/64', gateway: 'fd4b:e47f:2::1', rangeStart: 'fd4b:e47f:2::1', rangeEnd: 'fd4b:e47f:2::ffff' }],
  ]);
  assert.deepEqual(ipam.routes, [{ dst: '0.0.0.0/0' }, { dst: '::/0' }]);
});
