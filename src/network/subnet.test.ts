import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCidr, overlaps, parseCidr, parseRouteTable, pickSubnet } from './subnet.js';

test('/proc/net/route: the host subnets but the default route', () => {
  const text =
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n' +
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n' +
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n';
  assert.deepEqual(parseRouteTable(text).map(formatCidr), ['192.0.2.0/24', '172.17.0.0/16']);
});

test('a picked subnet overlaps no route', () => {
  const taken = ['172.17.0.0/16', '172.16.0.0/12'].map(parseCidr).slice(0, 1);
  for (let i = 0; i < 50; i++) assert.ok(!taken.some((t) => overlaps(t, pickSubnet(taken))));
  assert.equal(formatCidr(pickSubnet([parseCidr('172.16.0.0/12')], undefined, () => 0)), '192.168.0.0/20');
  assert.throws(() => pickSubnet([parseCidr('0.0.0.0/1'), parseCidr('128.0.0.0/1')]), /non-overlapping/);
});

test('CIDR parsing', () => {
  assert.equal(formatCidr(parseCidr('10.1.2.3/16')), '10.1.0.0/16');
  assert.throws(() => parseCidr('10.1.2.3'), /invalid CIDR/);
  assert.throws(() => parseCidr('300.1.2.3/8'), /invalid IPv4/);
});
