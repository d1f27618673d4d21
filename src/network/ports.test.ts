import { test } from 'node:test';
import assert from 'node:assert/strict';
import { portMap, portRequests, publishPorts, usedKey } from './ports.js';

test("a routed network's mappings: no host port, every address; inspect shows HostPort ''", async () => {
  const got = await publishPorts(
    portRequests({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] }, ['53/udp'], true, { defaultIp: '127.0.0.2' }),
    { v4: true, v6: false },
    new Set(),
  );
  assert.deepEqual(got, [
    { hostPort: 0, containerPort: 80, protocol: 'tcp', hostIP: '0.0.0.0' },
    { hostPort: 0, containerPort: 53, protocol: 'udp', hostIP: '0.0.0.0' },
  ]);
  assert.deepEqual(portMap(got, ['53/udp']), {
    '53/udp': [{ HostIp: '0.0.0.0', HostPort: '' }],
    '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '' }],
  });
});

test('each family by its own gateway mode: routed IPv4 and NATed IPv6, or the reverse, as dockerd 28 maps them', async () => {
  const b = {
    '80/tcp': [{ HostPort: '18931' }],
    '81/tcp': [
      { HostIp: '::1', HostPort: '18932' },
      { HostIp: '127.0.0.1', HostPort: '18933' },
    ],
  };
  const reqs = portRequests(b, [], false, { v6: true });
  const shown = async (routed: { v4: boolean; v6: boolean }) => portMap(await publishPorts(reqs, routed, new Set()), []);
  assert.deepEqual(await shown({ v4: true, v6: false }), {
    '80/tcp': [
      { HostIp: '0.0.0.0', HostPort: '' },
      { HostIp: '::', HostPort: '18931' },
    ],
    '81/tcp': [
      { HostIp: '::1', HostPort: '18932' },
      { HostIp: '0.0.0.0', HostPort: '' },
    ],
  });
  assert.deepEqual(await shown({ v4: false, v6: true }), {
    '80/tcp': [
      { HostIp: '0.0.0.0', HostPort: '18931' },
      { HostIp: '::', HostPort: '' },
    ],
    '81/tcp': [
      { HostIp: '::', HostPort: '' },
      { HostIp: '127.0.0.1', HostPort: '18933' },
    ],
  });
  // A host port another container holds on the NATed family is still a conflict.
  await assert.rejects(publishPorts(reqs, { v4: true, v6: false }, new Set([usedKey('::', 18931, 'tcp')])), {
    message: 'Bind for [::]:18931 failed: port is already allocated',
  });
});

test("a binding with no HostIp is one per family the container has, as dockerd 28's (userland proxy off)", () => {
  const b = { '80/tcp': [{ HostPort: '8080' }] };
  assert.deepEqual(portRequests(b, [], false, { v6: true }), [
    { containerPort: 80, protocol: 'tcp', hostIPs: ['0.0.0.0', '::'], hostPorts: [8080, 8080] },
  ]);
  assert.deepEqual(portRequests(b, [], false, {}), [{ containerPort: 80, protocol: 'tcp', hostIPs: ['0.0.0.0'], hostPorts: [8080, 8080] }]);
  // An explicit address is its family's alone.
  const two = {
    '80/tcp': [
      { HostIp: '0.0.0.0', HostPort: '1' },
      { HostIp: '::', HostPort: '2' },
    ],
  };
  assert.deepEqual(
    portRequests(two, [], false, { v6: true }).map((r) => r.hostIPs),
    [['0.0.0.0'], ['::']],
  );
  // The network's default address (host_binding_ipv4), of either family.
  assert.deepEqual(portRequests(b, [], false, { v6: true, defaultIp: '127.0.0.1' })[0].hostIPs, ['127.0.0.1']);
  assert.deepEqual(portRequests(b, [], false, { v6: true, defaultIp: 'fd42:b3::1' })[0].hostIPs, ['fd42:b3::1']);
  // -P: every exposed port, both families.
  assert.deepEqual(portRequests({}, ['53/udp'], true, { v6: true })[0], {
    containerPort: 53,
    protocol: 'udp',
    hostIPs: ['0.0.0.0', '::'],
    hostPorts: [0, 0],
  });
});

test('an IPv6 host address for a container with no IPv6 address maps nothing, and says so; "any address" keeps its IPv4 half quietly', () => {
  const said: string[] = [];
  const skipped = (key: string, ip: string) => said.push(`${key} ${ip}`);
  assert.deepEqual(portRequests({ '80/tcp': [{ HostIp: '::', HostPort: '8080' }] }, [], false, { skipped }), []);
  assert.deepEqual(portRequests({ '80/tcp': [{ HostPort: '8080' }] }, [], false, { skipped, defaultIp: 'fd42:b3::1' }), []);
  assert.equal(portRequests({ '80/tcp': [{ HostPort: '8080' }] }, [], false, { skipped }).length, 1);
  assert.deepEqual(said, ['80/tcp ::', '80/tcp fd42:b3::1']);
});

test("inspect's Ports list both bindings of one port, IPv4's first, as dockerd 28", () => {
  const m = (hostIP: string) => ({ hostIP, hostPort: 8080, containerPort: 80, protocol: 'tcp' as const });
  assert.deepEqual(portMap([m('0.0.0.0'), m('::')], ['80/tcp']), {
    '80/tcp': [
      { HostIp: '0.0.0.0', HostPort: '8080' },
      { HostIp: '::', HostPort: '8080' },
    ],
  });
});
