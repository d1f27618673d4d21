import { test } from 'node:test';
import assert from 'node:assert/strict';
import { featuresOf } from './features.js';
import type { DetectedLayout } from './detect.js';

const mount = (p: string) => ({ mountPoint: p, root: '/' });

test('features: v1 files (no CFQ/BFQ weight), v2 by the io controller, hybrid by where each controller is', () => {
  const files = new Set(['/b:blkio.throttle.read_bps_device', '/c:cpu.rt_runtime_us', '/m:memory.oom_control', '/u:cgroup.controllers:io']);
  const has = (d: string, f: string) => files.has(`${d}:${f}`);
  const v1: DetectedLayout = { layout: 'v1', mountRoot: '/', v1: { blkio: mount('/b'), cpu: mount('/c'), memory: mount('/m') } };
  assert.deepEqual(featuresOf(v1, has), {
    blkioWeight: false,
    blkioWeightDevice: false,
    blkioThrottle: true,
    cpuRealtime: true,
    oomKillDisable: true,
  });
  const v2: DetectedLayout = { layout: 'v2', mountRoot: '/u', v1: {}, unified: mount('/u') };
  assert.deepEqual(featuresOf(v2, has), {
    blkioWeight: true,
    blkioWeightDevice: true,
    blkioThrottle: true,
    cpuRealtime: false,
    oomKillDisable: false,
  });
  const hybrid: DetectedLayout = { layout: 'hybrid', mountRoot: '/', v1: { cpu: mount('/c') }, unified: mount('/x') };
  assert.deepEqual(featuresOf(hybrid, has), {
    blkioWeight: false,
    blkioWeightDevice: false,
    blkioThrottle: false,
    cpuRealtime: true,
    oomKillDisable: false,
  });
});
