import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipv6Options, openNetworkRules, splitRule, type NetworkRuleOptions } from './iptables.js';

const base: NetworkRuleOptions = { bridge: 'br0', subnet: '10.9.0.0/24', internal: false, icc: true, masquerade: true, gatewayMode: 'nat' };
const lines = (o: Partial<NetworkRuleOptions>) =>
  openNetworkRules({ ...base, ...o }).map((r) => `${r.insert ? '-I' : '-A'} ${r.table} ${r.rule.join(' ')}`);

test('nat: outbound MASQUERADE, published ports through their DNAT only, other direct access dropped', () => {
  assert.deepEqual(lines({}), [
    '-A filter BERTH-FORWARD -i br0 ! -o br0 -j ACCEPT',
    '-A filter BERTH-FORWARD -o br0 -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT',
    '-A filter BERTH-FORWARD ! -i br0 -o br0 -j DROP',
    '-A nat POSTROUTING -s 10.9.0.0/24 ! -o br0 -j MASQUERADE',
  ]);
});

test('host_ipv4: SNAT to it in place of MASQUERADE; none with enable_ip_masquerade=false', () => {
  assert.ok(lines({ hostIp: '192.0.2.7' }).includes('-A nat POSTROUTING -s 10.9.0.0/24 ! -o br0 -j SNAT --to-source 192.0.2.7'));
  assert.ok(!lines({ hostIp: '192.0.2.7', masquerade: false }).some((l) => l.includes(' nat ')));
});

test('nat-unprotected: direct access accepted', () => {
  const l = lines({ gatewayMode: 'nat-unprotected' });
  assert.ok(l.includes('-A filter BERTH-FORWARD ! -i br0 -o br0 -j ACCEPT'));
  assert.ok(!l.some((x) => x.endsWith('DROP')));
});

test('routed: no outbound NAT, ICMP in, reachable from other networks, the rest dropped but for published ports', () => {
  assert.deepEqual(lines({ gatewayMode: 'routed', hostIp: '192.0.2.7' }), [
    '-I filter BERTH-ISOLATION-STAGE-1 -o br0 -j RETURN',
    '-I filter BERTH-ISOLATION-STAGE-1 -i br0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A filter BERTH-FORWARD -i br0 ! -o br0 -j ACCEPT',
    '-A filter BERTH-FORWARD -o br0 -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT',
    '-A filter BERTH-FORWARD -o br0 -p icmp -j ACCEPT',
    '-A filter BERTH-FORWARD ! -i br0 -o br0 -j DROP',
  ]);
});

test('every rule names the bridge, so removeRules finds it', () => {
  for (const gatewayMode of ['nat', 'nat-unprotected', 'routed'] as const)
    for (const r of openNetworkRules({ ...base, gatewayMode, hostIp: '192.0.2.7' }))
      assert.ok(
        r.rule.some((a, i) => (a === '-i' || a === '-o') && r.rule[i + 1] === 'br0'),
        r.rule.join(' '),
      );
});

test('splitRule reads quoted arguments', () => {
  assert.deepEqual(splitRule('-A X -m comment --comment "a \\"b\\" c" -j Y'), [
    '-A',
    'X',
    '-m',
    'comment',
    '--comment',
    'a "b" c',
    '-j',
    'Y',
  ]);
});

test("an IPv6 network's ip6tables rules: its IPv6 subnet masqueraded, its own gateway mode (nat unless given) whatever IPv4's", () => {
  const o: NetworkRuleOptions = { ...base, subnet6: 'fd42:b3:9::/64', gatewayMode: 'routed', hostIp: '192.0.2.7' };
  const v6 = ipv6Options(o)!;
  assert.equal(ipv6Options({ ...base }), undefined);
  assert.deepEqual(
    openNetworkRules(v6).map((r) => `${r.table} ${r.rule.join(' ')}`),
    [
      'filter BERTH-FORWARD -i br0 ! -o br0 -j ACCEPT',
      'filter BERTH-FORWARD -o br0 -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT',
      'filter BERTH-FORWARD ! -i br0 -o br0 -j DROP',
      'nat POSTROUTING -s fd42:b3:9::/64 ! -o br0 -j MASQUERADE',
    ],
  );
  assert.ok(!openNetworkRules({ ...v6, masquerade: false }).some((r) => r.table === 'nat'));
  // isolated is IPv6's own too (an internal network's: no open rules either way).
  assert.equal(ipv6Options({ ...o, gatewayMode: 'isolated', internal: true })!.gatewayMode, 'nat');
  assert.equal(ipv6Options({ ...o, gatewayMode6: 'isolated', internal: true })!.gatewayMode, 'isolated');
});

test('gateway_mode_ipv6 and host_ipv6: routed with ICMPv6 and no NAT, nat-unprotected, SNAT to host_ipv6, in ip6tables alone', () => {
  const o: NetworkRuleOptions = { ...base, subnet6: 'fd42:b3:9::/64', hostIp6: 'fd42:b3:f::3' };
  const v6 = (x: Partial<NetworkRuleOptions>) =>
    openNetworkRules(ipv6Options({ ...o, ...x })!).map((r) => `${r.insert ? '-I' : '-A'} ${r.table} ${r.rule.join(' ')}`);
  assert.deepEqual(v6({ gatewayMode6: 'routed' }), [
    '-I filter BERTH-ISOLATION-STAGE-1 -o br0 -j RETURN',
    '-I filter BERTH-ISOLATION-STAGE-1 -i br0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A filter BERTH-FORWARD -i br0 ! -o br0 -j ACCEPT',
    '-A filter BERTH-FORWARD -o br0 -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT',
    '-A filter BERTH-FORWARD -o br0 -p icmpv6 -j ACCEPT',
    '-A filter BERTH-FORWARD ! -i br0 -o br0 -j DROP',
  ]);
  assert.ok(v6({ gatewayMode6: 'nat-unprotected' }).includes('-A filter BERTH-FORWARD ! -i br0 -o br0 -j ACCEPT'));
  assert.ok(v6({}).includes('-A nat POSTROUTING -s fd42:b3:9::/64 ! -o br0 -j SNAT --to-source fd42:b3:f::3'));
  // IPv4's rules take neither.
  assert.deepEqual(lines({ ...o, gatewayMode6: 'routed' }), lines({}));
});
