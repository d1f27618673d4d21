import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitRule } from './iptables.js';
import { macFromIp } from './bridge.js';

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

test("an endpoint's MAC where none is asked is dockerd 20.10's, 02:42 and its IPv4 address", () => {
  assert.equal(macFromIp('10.249.1.2'), '02:42:0a:f9:01:02');
  assert.equal(macFromIp('192.168.255.77'), '02:42:c0:a8:ff:4d');
});
