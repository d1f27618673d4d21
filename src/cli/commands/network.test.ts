import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipamConfig } from './network.js';

test('network create pairs each --gateway and --ip-range with the subnet it falls in, as docker does, IPv6 too', () => {
  assert.deepEqual(ipamConfig(['10.1.0.0/24', 'fd4b:e47f:2::/64'], ['fd4b:e47f:2::fe'], ['10.1.0.128/25'], {}), [
    { Subnet: '10.1.0.0/24', Gateway: undefined, IPRange: '10.1.0.128/25', AuxiliaryAddresses: undefined },
    { Subnet: 'fd4b:e47f:2::/64', Gateway: 'fd4b:e47f:2::fe', IPRange: undefined, AuxiliaryAddresses: undefined },
  ]);
  assert.throws(() => ipamConfig(['10.1.0.0/24'], ['10.2.0.1'], [], {}), { message: 'no matching subnet for gateway 10.2.0.1' });
  assert.throws(() => ipamConfig(['10.1.0.0/16', '10.2.0.0/16'], ['10.1.0.1', '10.1.0.2'], [], {}), {
    message: 'cannot configure multiple gateways (10.1.0.1, 10.1.0.2) on the same subnet (10.1.0.0/16)',
  });
  assert.throws(() => ipamConfig(['10.1.0.0/24', '10.2.0.0/24'], [], ['10.1.0.0/25', '10.1.0.128/25'], {}), /multiple ranges/);
  assert.throws(() => ipamConfig([], ['10.1.0.1'], [], {}), { message: 'every ip-range or gateway must have a corresponding subnet' });
});
