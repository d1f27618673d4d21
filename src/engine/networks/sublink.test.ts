import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkRecord } from '../types.js';
import { checkSubLinkOptions, dummyName, planParent, subLinkConfig } from './sublink.js';

const ID = 'aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999';
const OTHER = '0123456789ab' + 'f'.repeat(52);
const net = (driver: 'macvlan' | 'ipvlan', Options: Record<string, string>, o: Partial<NetworkRecord> = {}) =>
  ({ Id: ID, Name: 'n', Driver: driver, Options, Internal: false, ...o }) as NetworkRecord;
const words = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return `${(e as { kind?: string }).kind}: ${(e as Error).message}`;
  }
  return 'ok';
};

test('a dummy parent is dm- and the short ID', () => {
  assert.equal(dummyName(ID), 'dm-aaaabbbbcccc');
});

test("options are checked in dockerd's words; an option neither driver knows is refused", () => {
  assert.equal(
    words(() => checkSubLinkOptions('macvlan', { parent: 'eth0', macvlan_mode: 'passthru' })),
    'ok',
  );
  assert.equal(
    words(() => checkSubLinkOptions('macvlan', { macvlan_mode: 'bogus' })),
    "system: requested macvlan mode 'bogus' is not valid, 'bridge' mode is the macvlan driver default",
  );
  assert.equal(
    words(() => checkSubLinkOptions('ipvlan', { ipvlan_mode: 'l4' })),
    "system: requested ipvlan mode 'l4' is not valid, 'l2' mode is the ipvlan driver default",
  );
  assert.equal(
    words(() => checkSubLinkOptions('ipvlan', { ipvlan_flag: 'loud' })),
    "system: requested ipvlan flag 'loud' is not valid, 'bridge' is the ipvlan driver default",
  );
  assert.equal(
    words(() => checkSubLinkOptions('ipvlan', { parent: 'lo' })),
    'system: loopback interface is not a valid ipvlan parent link',
  );
  assert.match(
    words(() => checkSubLinkOptions('macvlan', { ipvlan_mode: 'l3' })),
    /^unsupported: network option "ipvlan_mode"/,
  );
  assert.match(
    words(() => checkSubLinkOptions('macvlan', { foo: 'bar' })),
    /^unsupported: network option "foo"/,
  );
});

test("the kernel's values for the modes and flags; defaults bridge and l2; no parent is internal", () => {
  assert.deepEqual(subLinkConfig(net('macvlan', { parent: 'eth0' })), {
    kind: 'macvlan',
    parent: 'eth0',
    mode: 4,
    flags: 0,
    onLink: false,
    internal: false,
  });
  assert.equal(subLinkConfig(net('macvlan', { parent: 'eth0', macvlan_mode: 'private' })).mode, 1);
  assert.equal(subLinkConfig(net('macvlan', { parent: 'eth0', macvlan_mode: 'vepa' })).mode, 2);
  assert.equal(subLinkConfig(net('macvlan', { parent: 'eth0', macvlan_mode: 'passthru' })).mode, 8);
  assert.deepEqual(subLinkConfig(net('ipvlan', {})), {
    kind: 'ipvlan',
    parent: 'dm-aaaabbbbcccc',
    mode: 0,
    flags: 0,
    onLink: false,
    internal: true,
  });
  const l3s = subLinkConfig(net('ipvlan', { parent: 'eth0', ipvlan_mode: 'l3s', ipvlan_flag: 'vepa' }));
  assert.deepEqual([l3s.mode, l3s.flags, l3s.onLink], [2, 2, true]);
  assert.deepEqual(subLinkConfig(net('ipvlan', { parent: 'eth0', ipvlan_mode: 'l3', ipvlan_flag: 'private' })).flags, 1);
  assert.equal(subLinkConfig(net('macvlan', { parent: 'eth0' }, { Internal: true })).internal, true);
});

test('the parent: as it is, a VLAN sub-interface or a dummy to make, or refused as dockerd 20.10 refuses it', () => {
  const host = new Set(['eth0', 'eth1.7']);
  const exists = (l: string) => host.has(l);
  const keep = (o: () => string) => {
    try {
      return o();
    } catch (e) {
      return (e as Error).message;
    }
  };
  const p = (opts: Record<string, string>, others: Parameters<typeof planParent>[2] = []) =>
    keep(() => JSON.stringify(planParent(ID, opts, others, exists)));
  assert.equal(p({ parent: 'eth0' }), '{"kind":"none"}');
  assert.equal(p({ parent: 'eth1.7' }), '{"kind":"none"}');
  assert.equal(p({}), '{"kind":"dummy","name":"dm-aaaabbbbcccc"}');
  assert.equal(p({ parent: 'eth0.10' }), '{"kind":"vlan","name":"eth0.10","master":"eth0","vlanId":10}');
  assert.equal(p({ parent: 'eth9' }), 'invalid subinterface vlan name eth9, example formatting is eth0.10');
  assert.equal(p({ parent: 'eth9.10' }), '-o parent interface does was not found on the host: eth9');
  assert.equal(p({ parent: 'eth0.x' }), 'unable to parse a valid vlan id from: x (ex. eth0.10 for vlan 10)');
  assert.equal(
    p({ parent: 'eth0.1.2' }),
    'required interface name format is: name.vlan_id, ex. eth0.10 for vlan 10, instead received eth0.1.2',
  );
  assert.equal(p({ parent: 'eth0.4095' }), 'vlan id must be between 1-4094, received: 4095');
  assert.equal(p({ parent: 'eth0.0' }), 'vlan id must be between 1-4094, received: 0');
  // Another macvlan or ipvlan network on the parent (a bridge network names none).
  const other = { Id: OTHER, Driver: 'ipvlan' as const, Options: { parent: 'eth0' } };
  assert.equal(p({ parent: 'eth0' }, [other]), 'network dm-0123456789ab is already using parent interface eth0');
  assert.equal(p({ parent: 'eth0' }, [{ ...other, Driver: 'bridge' as const }]), '{"kind":"none"}');
});
