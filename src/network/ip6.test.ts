import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contains6, firstFree64, firstHost6, formatCidr6, formatIp6, lastIp6, overlaps6, parseCidr6, parseIp6, ulaPool } from './ip6.js';

test('IPv6 addresses read in every form and print as RFC 5952 (Go) does', () => {
  for (const [a, b] of [
    ['fd4b:e47f:0002:0000:0000:0000:0000:0010', 'fd4b:e47f:2::10'],
    ['::', '::'],
    ['::1', '::1'],
    ['FE80::99', 'fe80::99'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['::ffff:10.1.2.3', '::ffff:a01:203'],
    ['2001:db8::', '2001:db8::'],
  ])
    assert.equal(formatIp6(parseIp6(a)), b);
  for (const bad of ['10.1.1.1', 'nonsense', 'fe80::1%eth0', '1::2::3'])
    assert.throws(() => parseIp6(bad), { message: `invalid IPv6 address: ${bad}` });
});

test('IPv6 subnets: host bits cleared, containment, overlap, first and last address', () => {
  const c = parseCidr6('fd4b:e47f:2::5/64');
  assert.equal(formatCidr6(c), 'fd4b:e47f:2::/64');
  assert.equal(firstHost6(c), 'fd4b:e47f:2::1');
  assert.equal(formatIp6(lastIp6(c)), 'fd4b:e47f:2:0:ffff:ffff:ffff:ffff');
  assert.ok(contains6(c, parseIp6('fd4b:e47f:2::10')));
  assert.ok(!contains6(c, parseIp6('fd4b:e47f:3::10')));
  assert.ok(overlaps6(c, parseCidr6('fd4b:e47f:2::/80')));
  assert.ok(overlaps6(parseCidr6('fd4b::/16'), c));
  assert.ok(!overlaps6(c, parseCidr6('fd4b:e47f:3::/64')));
  for (const bad of ['fd4b::/129', 'fd4b::', '10.0.0.0/8', 'fd4b::/6/4'])
    assert.throws(() => parseCidr6(bad), { message: `invalid CIDR address: ${bad}` });
});

test("the host's ULA pool: fd00::/8 and 40 bits of the SHA-256 of its ID, as moby's DeriveULABaseNetwork; /64s in order", () => {
  const p = ulaPool('berth-test-host');
  // (Python's hashlib and ipaddress give the same /48 for this ID.)
  assert.equal(formatCidr6(p), 'fd98:c19c:611f::/48');
  assert.equal(p.addr >> 120n, 0xfdn);
  assert.equal(p.addr & ((1n << 80n) - 1n), 0n);
  assert.deepEqual(ulaPool('berth-test-host'), p, 'the same ID, the same pool');
  assert.notDeepEqual(ulaPool('another-host'), p);
  const first = firstFree64(p, []);
  assert.deepEqual(first, { addr: p.addr, bits: 64 });
  assert.deepEqual(firstFree64(p, [first!]), { addr: p.addr + (1n << 64n), bits: 64 });
  assert.equal(firstFree64(p, [p]), undefined, 'a taken /48 leaves nothing');
});
