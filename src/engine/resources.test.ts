import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockDeviceNumbers, discardUnsupported, listWithin, memorySwappiness, ociResources } from './resources.js';
import type { CgroupFeatures } from '../runtime/cgroups/features.js';

const features = (v: boolean): CgroupFeatures => ({
  blkioWeight: v,
  blkioWeightDevice: v,
  blkioThrottle: v,
  cpuRealtime: v,
  oomKillDisable: v,
  memorySwappiness: v,
  kernelMemory: v,
  kernelMemoryTCP: v,
  memoryLimit: true,
  swapLimit: true,
  cpuCfsPeriod: true,
  cpuCfsQuota: true,
  cpuShares: true,
  cpuset: true,
  pidsLimit: true,
});
const all = features(true);
const none = features(false);
const dev = (path: string) => ({ major: path === '/dev/vda' ? 254 : 8, minor: 0 });

test('limits the cgroups cannot apply are discarded with dockerd 20.10 words, in its order', () => {
  const r = {
    OomKillDisable: true,
    CpuRealtimePeriod: 1000000,
    CpuRealtimeRuntime: 1000,
    BlkioWeight: 300,
    BlkioWeightDevice: [{ Path: '/dev/vda', Weight: 200 }],
    BlkioDeviceReadBps: [{ Path: '/dev/vda', Rate: 1 }],
    BlkioDeviceWriteIOps: [{ Path: '/dev/vda', Rate: 1 }],
  };
  const warnings: string[] = [];
  const out = discardUnsupported(r, none, warnings);
  assert.deepEqual(warnings, [
    'Your kernel does not support OomKillDisable. OomKillDisable discarded.',
    'Your kernel does not support cgroup cpu real-time period. Period discarded.',
    'Your kernel does not support cgroup cpu real-time runtime. Runtime discarded.',
    'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
    'Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.',
    'Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.',
    'Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.',
  ]);
  assert.deepEqual(ociResources(out, dev), {});
  // All there: kept; OomKillDisable without a memory limit is warned of, as dockerd does.
  const kept: string[] = [];
  assert.deepEqual(discardUnsupported(r, all, kept), r);
  assert.deepEqual(kept, [
    'OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.',
  ]);
  assert.deepEqual(discardUnsupported({ OomKillDisable: true, Memory: 1 << 30 }, all, ((kept.length = 0), kept)).OomKillDisable, true);
  assert.deepEqual(kept, []);
});

test("dockerd's refusals: a realtime runtime above the period, a weight out of 10..1000 (500s)", () => {
  assert.throws(() => discardUnsupported({ CpuRealtimePeriod: 1000, CpuRealtimeRuntime: 2000 }, all, []), {
    kind: 'system',
    message: 'cpu real-time runtime cannot be higher than cpu real-time period',
  });
  assert.throws(() => discardUnsupported({ BlkioWeight: 5 }, all, []), {
    kind: 'system',
    message: 'Range of blkio weight is from 10 to 1000',
  });
  // Discarded first where the machine lacks the weight, so no range error (as dockerd on this kernel).
  assert.equal(discardUnsupported({ BlkioWeight: 5 }, none, []).BlkioWeight, 0);
});

test('block I/O, realtime CPU and OomKillDisable become linux.resources', () => {
  assert.deepEqual(
    ociResources(
      {
        BlkioWeight: 300,
        BlkioWeightDevice: [{ Path: '/dev/vda', Weight: 200 }],
        BlkioDeviceReadBps: [{ Path: '/dev/vda', Rate: 1048576 }],
        BlkioDeviceWriteBps: [{ Path: '/dev/sda', Rate: 2 }],
        BlkioDeviceReadIOps: [{ Path: '/dev/vda', Rate: 100 }],
        BlkioDeviceWriteIOps: [{ Path: '/dev/vda', Rate: 200 }],
        CpuRealtimePeriod: 1000000,
        CpuRealtimeRuntime: 950000,
        OomKillDisable: true,
        Memory: 64 << 20,
      },
      dev,
    ),
    {
      memory: { limit: 64 << 20, disableOOMKiller: true },
      cpu: { realtimePeriod: 1000000, realtimeRuntime: 950000 },
      blockIO: {
        weight: 300,
        weightDevice: [{ major: 254, minor: 0, weight: 200 }],
        throttleReadBpsDevice: [{ major: 254, minor: 0, rate: 1048576 }],
        throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2 }],
        throttleReadIOPSDevice: [{ major: 254, minor: 0, rate: 100 }],
        throttleWriteIOPSDevice: [{ major: 254, minor: 0, rate: 200 }],
      },
    },
  );
});

test("a block device's numbers from its node; a missing path in dockerd's words", () => {
  assert.deepEqual(blockDeviceNumbers('/dev/null'), { major: 1, minor: 3 });
  assert.throws(() => blockDeviceNumbers('/dev/berth-no-such'), {
    kind: 'system',
    message: 'stat /dev/berth-no-such: no such file or directory',
  });
});

test("swappiness and kernel memory: dockerd 20.10's warnings, discards and 400s; the OCI memory fields", () => {
  const w: string[] = [];
  const r = { MemorySwappiness: 10, KernelMemory: 8 << 20, KernelMemoryTCP: 4 << 20 };
  assert.deepEqual(discardUnsupported(r, all, w), r);
  assert.deepEqual(w, ['Specifying a kernel memory limit is deprecated and will be removed in a future release.']);
  assert.deepEqual(ociResources(r, dev), { memory: { swappiness: 10, kernel: 8 << 20, kernelTCP: 4 << 20 } });
  // 0 is a swappiness (no swapping), -1 and null are none.
  assert.deepEqual(ociResources({ MemorySwappiness: 0 }, dev), { memory: { swappiness: 0 } });
  assert.deepEqual(ociResources({ MemorySwappiness: null }, dev), {});
  assert.equal(discardUnsupported({ MemorySwappiness: -1 }, all, []).MemorySwappiness, null);
  // Where the cgroups lack them (v2): dockerd's words, and nothing written.
  w.length = 0;
  const out = discardUnsupported(r, none, w);
  assert.deepEqual(w, [
    'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.',
    'Specifying a kernel memory limit is deprecated and will be removed in a future release.',
    'Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.',
    'Your kernel does not support kernel memory TCP limit capabilities or the cgroup is not mounted. Limitation discarded.',
  ]);
  assert.deepEqual(ociResources(out, dev), {});
  // The ranges, as dockerd's 400s (swappiness is discarded first where the cgroup lacks it, as dockerd).
  for (const v of [101, -2, 1.5])
    assert.throws(() => discardUnsupported({ MemorySwappiness: v }, all, []), {
      kind: 'invalid',
      message: `Invalid value: ${v}, valid memory swappiness range is 0-100`,
    });
  assert.equal(discardUnsupported({ MemorySwappiness: 300 }, none, []).MemorySwappiness, null);
  assert.throws(() => discardUnsupported({ KernelMemory: 1000 }, all, []), {
    kind: 'invalid',
    message: 'Minimum kernel memory limit allowed is 6MB',
  });
  assert.throws(() => discardUnsupported({ KernelMemoryTCP: -5 }, all, []), { kind: 'invalid' });
  assert.deepEqual(ociResources(discardUnsupported({ KernelMemoryTCP: -1 }, all, []), dev), { memory: { kernelTCP: -1 } });
  assert.equal(memorySwappiness(undefined), null);
  assert.equal(memorySwappiness(0), 0);
});

test("cpusets: what the cpuset root lacks is refused in dockerd's words (400); lists are compared by range", () => {
  const two = { ...all, cpusetCpus: '0-1', cpusetMems: '0' };
  assert.deepEqual(discardUnsupported({ CpusetCpus: '1', CpusetMems: '0' }, two, []), { CpusetCpus: '1', CpusetMems: '0' });
  assert.throws(() => discardUnsupported({ CpusetCpus: '7' }, two, []), {
    kind: 'invalid',
    message: 'Requested CPUs are not available - requested 7, available: 0-1',
  });
  assert.throws(() => discardUnsupported({ CpusetMems: '3' }, two, []), {
    kind: 'invalid',
    message: 'Requested memory nodes are not available - requested 3, available: 0',
  });
  const warnings: string[] = [];
  assert.deepEqual(discardUnsupported({ CpusetCpus: '7' }, { ...none, cpuset: false }, warnings), { CpusetCpus: '', CpusetMems: '' });
  assert.deepEqual(warnings, ['Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.']);
  assert.equal(listWithin('0-3,8', '0-5,7-9'), true);
  assert.equal(listWithin('4-8', '0-5,7-9'), false);
  assert.equal(listWithin('0-4000000000', '0-1'), false, 'a huge range is not walked number by number');
  assert.equal(listWithin('0', ''), false);
});
