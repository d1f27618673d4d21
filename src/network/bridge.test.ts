import { test } from 'node:test';
import assert from 'node:assert/strict';
import { portmapList } from './bridge.js';
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

test('after a bridge endpoint, portmap runs only for published ports', () => {
  assert.deepEqual(portmapList('n', false), { cniVersion: '1.0.0', name: 'n', plugins: [] });
  assert.deepEqual(
    portmapList('n', true).plugins.map((p) => [p.type, p.capabilities, p.snat]),
    [['portmap', { portMappings: true }, true]],
  );
});
