import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leaseSpan, Leases, type LeaseRange } from './leases.js';
import { formatIp } from './subnet.js';
import { formatIp6 } from './ip6.js';

const text = (s: ReturnType<typeof leaseSpan>) => [s.first, s.last].map((n) => (s.v6 ? formatIp6(n) : formatIp(Number(n)))).join('-');

test("host-local's ranges: the subnet less its own address and IPv4's broadcast, within the ip-range", () => {
  assert.equal(text(leaseSpan({ subnet: '10.1.0.0/24', gateway: '10.1.0.1' })), '10.1.0.1-10.1.0.254');
  assert.equal(text(leaseSpan({ subnet: '10.1.0.0/24', gateway: '10.1.0.254', ipRange: '10.1.0.0/25' })), '10.1.0.1-10.1.0.127');
  assert.equal(text(leaseSpan({ subnet: '10.1.0.0/24', gateway: '10.1.0.1', ipRange: '10.1.0.128/25' })), '10.1.0.128-10.1.0.254');
  assert.equal(
    text(leaseSpan({ subnet: 'fd4b:e47f:2::/64', gateway: 'fd4b:e47f:2::1', ipRange: 'fd4b:e47f:2::/112' })),
    'fd4b:e47f:2::1-fd4b:e47f:2::ffff',
  );
});

test('leases: the lowest free address past the gateway (a freed one at once, as dockerd), asked addresses, exhaustion, release by record or by ID', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'leases-test-')), 'net');
  const leases = new Leases();
  const reserve = async (id: string, ifName: string, ranges: LeaseRange[], asked?: string[]) => {
    const got = await leases.pick(dir, id, ifName, ranges, asked);
    await leases.commit(dir, id, ifName, got);
    return got;
  };
  try {
    const r = { subnet: '10.9.0.0/29', gateway: '10.9.0.1' }; // hosts .1-.6, .1 the gateway
    const v6 = { subnet: 'fd00:9::/64', gateway: 'fd00:9::1' };
    const a = await reserve('a', 'eth0', [r, v6]);
    assert.deepEqual(a, [
      { address: '10.9.0.2/29', gateway: '10.9.0.1' },
      { address: 'fd00:9::2/64', gateway: 'fd00:9::1' },
    ]);
    assert.equal(readFileSync(join(dir, '10.9.0.2'), 'utf8'), 'a\r\neth0');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('last_reserved_ip')),
      [],
    ); // host-local's cursor: none kept
    assert.deepEqual(await reserve('b', 'eth0', [r]), [{ address: '10.9.0.3/29', gateway: '10.9.0.1' }]);
    await leases.release(dir, 'a', 'eth0', ['10.9.0.2', 'fd00:9::2']);
    // The freed one, as dockerd 20.10 (host-local went round robin to .4).
    assert.equal((await reserve('c', 'eth0', [r]))[0].address, '10.9.0.2/29');
    await assert.rejects(reserve('d', 'eth0', [r], ['10.9.0.3']), /requested IP address 10\.9\.0\.3 is not available/);
    await assert.rejects(reserve('d', 'eth0', [r], ['10.9.0.1']), /is subnet's gateway/);
    assert.equal((await reserve('d', 'eth1', [r], ['10.9.0.6']))[0].address, '10.9.0.6/29');
    // Picked, not yet written: held all the same; a release by another leaves it.
    const e = await leases.pick(dir, 'e', 'eth0', [r]);
    assert.equal(e[0].address, '10.9.0.4/29');
    await leases.release(dir, 'x', 'eth0', ['10.9.0.4']);
    assert.equal((await reserve('f', 'eth0', [r]))[0].address, '10.9.0.5/29');
    await assert.rejects(reserve('g', 'eth0', [r]), /no IP addresses available in range set: 10\.9\.0\.1-10\.9\.0\.6/);
    await leases.commit(dir, 'e', 'eth0', e);
    // A berthd of its own reads the folder: what the files hold is held.
    const again = new Leases();
    await assert.rejects(again.pick(dir, 'g', 'eth0', [r]), /no IP addresses available/);
    // A failed second range gives back the first's pick.
    await again.release(dir, 'f', 'eth0', ['10.9.0.5']);
    const full = { subnet: 'fd00:8::/126', gateway: 'fd00:8::1' };
    writeFileSync(join(dir, 'fd00:8::2'), 'x\r\neth0');
    writeFileSync(join(dir, 'fd00:8::3'), 'x\r\neth0');
    const third = new Leases();
    await assert.rejects(third.pick(dir, 'h', 'eth0', [r, full]), /no IP addresses available/);
    assert.equal((await third.pick(dir, 'h', 'eth0', [r]))[0].address, '10.9.0.5/29');
    // By ID (no record of the addresses): only the interface's own; an older lease holding the ID alone too.
    writeFileSync(join(dir, '10.9.0.5'), 'd');
    await third.release(dir, 'd', 'eth1');
    assert.deepEqual(
      readdirSync(dir)
        .filter((f) => f.startsWith('10.'))
        .sort(),
      ['10.9.0.2', '10.9.0.3', '10.9.0.4'],
    );
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});

test('a network without a gateway address leases its first address too', async () => {
  const top = mkdtempSync(join(tmpdir(), 'leases-test-'));
  try {
    const r = { subnet: '10.9.0.0/29', gateway: '10.9.0.1', noGateway: true };
    assert.equal(text(leaseSpan(r)), '10.9.0.1-10.9.0.6');
    assert.deepEqual(await new Leases().pick(join(top, 'net'), 'a', 'eth0', [r]), [{ address: '10.9.0.1/29', gateway: '10.9.0.1' }]);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});
