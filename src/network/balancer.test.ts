import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainOf, chainRules } from './balancer.js';

test('each backend gets 1/n of the connections: 1/n, then 1/(n-1) of the rest, the last all that is left', () => {
  const rules = chainRules({
    chain: 'BERTH-SVC-X',
    protocol: 'tcp',
    hostIp: '',
    hostPort: 30080,
    backends: [
      { ip: '10.1.0.2', port: 80 },
      { ip: '10.1.0.3', port: 80 },
      { ip: '10.1.0.4', port: 8080 },
    ],
  });
  assert.deepEqual(rules, [
    ['-j', 'MARK', '--set-xmark', '0x10000/0x10000'],
    ['-m', 'statistic', '--mode', 'random', '--probability', '0.3333333333', '-p', 'tcp', '-j', 'DNAT', '--to-destination', '10.1.0.2:80'],
    ['-m', 'statistic', '--mode', 'random', '--probability', '0.5000000000', '-p', 'tcp', '-j', 'DNAT', '--to-destination', '10.1.0.3:80'],
    ['-p', 'tcp', '-j', 'DNAT', '--to-destination', '10.1.0.4:8080'],
  ]);
});

test('no backend: no rule (the connection is refused by the host)', () => {
  assert.deepEqual(chainRules({ chain: 'C', protocol: 'udp', hostIp: '', hostPort: 53, backends: [] }), []);
});

test('chain names fit iptables', () => {
  assert.equal(chainOf('0123456789abcdef0123'), 'BERTH-SVC-0123456789ABCDEF');
  assert.ok(chainOf('f'.repeat(64)).length <= 28);
});
