import { test } from 'node:test';
import assert from 'node:assert/strict';
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
