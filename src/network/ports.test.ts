import { test } from 'node:test';
import assert from 'node:assert/strict';
import { portMap, portRequests, routedPorts } from './ports.js';

test("a routed network's mappings: no host port, every address; inspect shows HostPort ''", () => {
  const got = routedPorts(portRequests({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] }, ['53/udp'], true, '127.0.0.2'));
  assert.deepEqual(got, [
    { hostPort: 0, containerPort: 80, protocol: 'tcp', hostIP: '0.0.0.0' },
    { hostPort: 0, containerPort: 53, protocol: 'udp', hostIP: '0.0.0.0' },
  ]);
  assert.deepEqual(portMap(got, ['53/udp']), {
    '53/udp': [{ HostIp: '0.0.0.0', HostPort: '' }],
    '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '' }],
  });
});
