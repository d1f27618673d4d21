import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseGateways, duplicateIfName, ifNames, nextIfName, type GatewayCandidate } from './gateway.js';

const c = (network: string, o: Partial<GatewayCandidate> = {}): GatewayCandidate => ({
  network,
  priority: 0,
  internal: false,
  v6: false,
  ...o,
});
const who = (cs: GatewayCandidate[]) => {
  const g = chooseGateways(cs);
  return { v4: cs[g.findIndex((x) => x.v4)]?.network, v6: cs[g.findIndex((x) => x.v6)]?.network };
};

test("the gateway: the highest GwPriority, then dockerd's ties (not internal, dual-stack, the network's name)", () => {
  assert.deepEqual(who([c('b'), c('a')]), { v4: 'a', v6: undefined });
  assert.deepEqual(who([c('a'), c('b', { priority: 1 })]), { v4: 'b', v6: undefined });
  assert.deepEqual(who([c('a', { priority: -1 }), c('b')]), { v4: 'b', v6: undefined });
  assert.deepEqual(who([c('a', { internal: true }), c('z')]), { v4: 'z', v6: undefined });
  // An internal network gives no gateway, whatever its priority.
  assert.deepEqual(who([c('a', { internal: true, priority: 9 }), c('z')]), { v4: 'z', v6: undefined });
  assert.deepEqual(who([c('a', { internal: true })]), { v4: undefined, v6: undefined });
  // Dual-stack before IPv4 only at one priority; each family from the first that has it.
  assert.deepEqual(who([c('a'), c('b', { v6: true })]), { v4: 'b', v6: 'b' });
  assert.deepEqual(who([c('a', { priority: 1 }), c('b', { v6: true })]), { v4: 'a', v6: 'b' });
  // Byte order, as Go compares strings.
  assert.deepEqual(who([c('a'), c('B')]), { v4: 'B', v6: undefined });
  assert.deepEqual(chooseGateways([]), []);
});

test('interface names: those asked kept, the others the first free eth<N>, never one asked', () => {
  assert.deepEqual(ifNames([undefined, undefined]), ['eth0', 'eth1']);
  assert.deepEqual(ifNames([undefined, 'eth0', undefined]), ['eth1', 'eth0', 'eth2']);
  assert.deepEqual(ifNames(['foo0', undefined]), ['foo0', 'eth0']);
  assert.equal(nextIfName(['eth0', 'eth2']), 'eth1');
  // A network's container_iface_prefix numbers its own names.
  assert.deepEqual(ifNames([undefined, undefined, undefined], ['ct', undefined, 'ct']), ['ct0', 'eth0', 'ct1']);
  assert.equal(nextIfName(['eth0', 'ct0'], 'ct'), 'ct1');
  assert.equal(duplicateIfName(['a', undefined, 'b', 'a']), 'a');
  assert.equal(duplicateIfName(['a', undefined, 'b']), undefined);
});
