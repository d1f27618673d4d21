import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ancestorsOf, checkDaemonRealtime, featuresOf } from './features.js';
import type { DetectedLayout } from './detect.js';

const mount = (p: string) => ({ mountPoint: p, root: '/' });

test('features: v1 files (no CFQ/BFQ weight), v2 by the io controller, hybrid by where each controller is', () => {
  const files = new Set([
    '/b:blkio.throttle.read_bps_device',
    '/c:cpu.rt_runtime_us',
    '/c:cpu.shares',
    '/c:cpu.cfs_period_us',
    '/c:cpu.cfs_quota_us',
    '/m:memory.oom_control',
    '/m:memory.limit_in_bytes',
    '/m:memory.swappiness',
    '/m:memory.kmem.limit_in_bytes',
    '/m:memory.kmem.tcp.limit_in_bytes',
    '/u:cgroup.controllers:io',
    '/u:cgroup.controllers:memory',
    '/u:cgroup.controllers:cpu',
    '/u:cgroup.controllers:pids',
    '/u:memory.swap.max@child',
  ]);
  const has = (d: string, f: string) => files.has(`${d}:${f}`);
  const v1: DetectedLayout = { layout: 'v1', mountRoot: '/', v1: { blkio: mount('/b'), cpu: mount('/c'), memory: mount('/m') } };
  assert.deepEqual(featuresOf(v1, has), {
    blkioWeight: false,
    blkioWeightDevice: false,
    blkioThrottle: true,
    cpuRealtime: true,
    oomKillDisable: true,
    memorySwappiness: true,
    kernelMemory: true,
    kernelMemoryTCP: true,
    memoryLimit: true,
    // No memory.memsw.*: swap accounting is off.
    swapLimit: false,
    cpuCfsPeriod: true,
    cpuCfsQuota: true,
    cpuShares: true,
    cpuset: false,
    pidsLimit: false,
  });
  const v2: DetectedLayout = { layout: 'v2', mountRoot: '/u', v1: {}, unified: mount('/u') };
  assert.deepEqual(featuresOf(v2, has), {
    blkioWeight: true,
    blkioWeightDevice: true,
    blkioThrottle: true,
    cpuRealtime: false,
    oomKillDisable: false,
    memorySwappiness: false,
    kernelMemory: false,
    kernelMemoryTCP: false,
    memoryLimit: true,
    swapLimit: true,
    cpuCfsPeriod: true,
    cpuCfsQuota: true,
    cpuShares: true,
    cpuset: false,
    pidsLimit: true,
  });
  const hybrid: DetectedLayout = { layout: 'hybrid', mountRoot: '/', v1: { cpu: mount('/c') }, unified: mount('/x') };
  assert.deepEqual(featuresOf(hybrid, has), {
    blkioWeight: false,
    blkioWeightDevice: false,
    blkioThrottle: false,
    cpuRealtime: true,
    oomKillDisable: false,
    memorySwappiness: false,
    kernelMemory: false,
    kernelMemoryTCP: false,
    memoryLimit: false,
    swapLimit: false,
    cpuCfsPeriod: true,
    cpuCfsQuota: true,
    cpuShares: true,
    cpuset: false,
    pidsLimit: false,
  });
});

test("the daemon's realtime budget: refused in dockerd's words on v2 and without realtime groups; the cgroups it is written to", () => {
  checkDaemonRealtime(0, 0, 'v2', false);
  checkDaemonRealtime(1000000, 95000, 'hybrid', true);
  checkDaemonRealtime(0, 95000, 'v1', true);
  assert.throws(() => checkDaemonRealtime(0, 95000, 'v2', false), {
    message: 'daemon-scoped cpu-rt-period and cpu-rt-runtime are not implemented for cgroup v2',
  });
  assert.throws(() => checkDaemonRealtime(1000000, 0, 'v1', false), {
    message: 'daemon-scoped cpu-rt-period and cpu-rt-runtime are not supported by the kernel',
  });
  assert.deepEqual(ancestorsOf('/berth'), ['/berth']);
  assert.deepEqual(ancestorsOf('/a/b/c/'), ['/a', '/a/b', '/a/b/c']);
  assert.deepEqual(ancestorsOf('/'), []);
});
