import { test } from 'node:test';
import assert from 'node:assert/strict';
import { migrateInterfaceSysctls } from './networks.js';
import type { EndpointRequest } from '../../engine/index.js';

const S = 'com.docker.network.endpoint.sysctls';

test("HostConfig.Sysctls naming eth0: the NetworkMode endpoint's sysctls up to API 1.46, with dockerd's warning", () => {
  const hc = { NetworkMode: 'default', Sysctls: { 'net.ipv4.conf.eth0.log_martians': '1', 'net.ipv4.ip_forward': '1' } };
  const eps: Record<string, EndpointRequest> = {};
  const warnings: string[] = [];
  migrateInterfaceSysctls(hc, eps, '1.41', warnings);
  assert.deepEqual(hc.Sysctls, { 'net.ipv4.ip_forward': '1' });
  assert.deepEqual(eps, { bridge: { DriverOpts: { [S]: 'net.ipv4.conf.IFNAME.log_martians=1' } } });
  assert.deepEqual(warnings, [
    `Migrated sysctl "net.ipv4.conf.eth0.log_martians" to DriverOpts{"${S}":"net.ipv4.conf.IFNAME.log_martians=1"}.`,
  ]);
  // The endpoint's own come after (they win).
  const eps2: Record<string, EndpointRequest> = { n: { DriverOpts: { [S]: 'net.ipv6.conf.IFNAME.accept_ra=2' } } };
  migrateInterfaceSysctls({ NetworkMode: 'n', Sysctls: { 'net.ipv6.conf.eth0.accept_ra': '1' } }, eps2, '1.46', []);
  assert.equal(eps2.n.DriverOpts![S], 'net.ipv6.conf.IFNAME.accept_ra=1,net.ipv6.conf.IFNAME.accept_ra=2');
});

test("HostConfig.Sysctls naming an interface: moby's refusals", () => {
  const eth0 = { NetworkMode: 'n', Sysctls: { 'net.ipv4.conf.eth0.log_martians': '1' } };
  for (const v of ['1.47', '1.50', undefined])
    assert.throws(() => migrateInterfaceSysctls(structuredClone(eth0), {}, v, []), {
      kind: 'system',
      message: `interface specific sysctl setting "net.ipv4.conf.eth0.log_martians" must be supplied using driver option '${S}'`,
    });
  assert.throws(() => migrateInterfaceSysctls({ Sysctls: { 'net.ipv4.conf.eth1.log_martians': '1' } }, {}, '1.41', []), {
    message: `unable to determine network endpoint for sysctl net.ipv4.conf.eth1.log_martians, use driver option '${S}' to set per-interface sysctls`,
  });
  assert.throws(() => migrateInterfaceSysctls(structuredClone(eth0), { other: {} }, '1.45', []), {
    kind: 'invalid',
    message:
      'unable to find a network for sysctl net.ipv4.conf.eth0.log_martians: HostConfig.NetworkMode must match the identity of a network in NetworkSettings.Networks',
  });
  // Not this container's interfaces: nothing moves.
  const host = { NetworkMode: 'host', Sysctls: { 'net.ipv4.conf.eth0.log_martians': '1' } };
  migrateInterfaceSysctls(host, {}, '1.50', []);
  assert.deepEqual(host.Sysctls, { 'net.ipv4.conf.eth0.log_martians': '1' });
});
