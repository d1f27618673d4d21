import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CgroupFeatures } from '../../engine/index.js';
import { infoWarnings, type InfoFacts } from './info-warnings.js';

const all: CgroupFeatures = {
  blkioWeight: true,
  blkioWeightDevice: true,
  blkioThrottle: true,
  cpuRealtime: true,
  oomKillDisable: true,
  memorySwappiness: true,
  kernelMemory: true,
  kernelMemoryTCP: true,
  memoryLimit: true,
  swapLimit: true,
  cpuCfsPeriod: true,
  cpuCfsQuota: true,
  cpuShares: true,
  cpuset: true,
  pidsLimit: true,
};
const facts = (o: Partial<InfoFacts> = {}): InfoFacts => ({
  cgroupDriver: 'cgroupfs',
  cgroupVersion: '1',
  features: all,
  ipv4Forwarding: true,
  bridgeNfIptables: true,
  bridgeNfIp6tables: true,
  ...o,
});

test('a machine that has everything gets no warning', () => {
  assert.deepEqual(infoWarnings(facts()), []);
  assert.deepEqual(infoWarnings(facts({ cgroupVersion: '2' })), []);
});

test("v1 without swap accounting or a blkio weight: dockerd's words, the weight not warned of on v1", () => {
  const w = infoWarnings(facts({ features: { ...all, swapLimit: false, blkioWeight: false, blkioWeightDevice: false } }));
  assert.deepEqual(w, ['WARNING: No swap limit support']);
});

test('the throttle warnings name the v1 files or the v2 io.max keys', () => {
  const none = { ...all, blkioThrottle: false };
  assert.deepEqual(infoWarnings(facts({ features: none })), [
    'WARNING: No blkio throttle.read_bps_device support',
    'WARNING: No blkio throttle.write_bps_device support',
    'WARNING: No blkio throttle.read_iops_device support',
    'WARNING: No blkio throttle.write_iops_device support',
  ]);
  assert.deepEqual(infoWarnings(facts({ cgroupVersion: '2', features: none })), [
    'WARNING: No io.max (rbps) support',
    'WARNING: No io.max (wbps) support',
    'WARNING: No io.max (riops) support',
    'WARNING: No io.max (wiops) support',
  ]);
});

test('v2 lacks the OOM switch and kernel TCP memory: not warned of, as dockerd', () => {
  const v2 = { ...all, oomKillDisable: false, kernelMemoryTCP: false, kernelMemory: false };
  assert.deepEqual(infoWarnings(facts({ cgroupVersion: '2', features: v2 })), []);
  assert.deepEqual(infoWarnings(facts({ features: v2 })), [
    'WARNING: No kernel memory TCP limit support',
    'WARNING: No oom kill disable support',
  ]);
});

test('rootless without cgroups: one warning instead of the per-limit ones; the network switches', () => {
  const w = infoWarnings(
    facts({ cgroupDriver: 'none', cgroupVersion: '2', features: { ...all, memoryLimit: false }, ipv4Forwarding: false }),
  );
  assert.deepEqual(w, [
    'WARNING: Running in rootless-mode without cgroups. Systemd is required to enable cgroups in rootless-mode.',
    'WARNING: IPv4 forwarding is disabled',
  ]);
  assert.match(infoWarnings(facts({ cgroupDriver: 'none' }))[0], /boot the system in cgroup v2 mode/);
  assert.deepEqual(infoWarnings(facts({ bridgeNfIptables: false, bridgeNfIp6tables: false })), [
    'WARNING: bridge-nf-call-iptables is disabled',
    'WARNING: bridge-nf-call-ip6tables is disabled',
  ]);
});
