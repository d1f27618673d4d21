// Unit tests: linux.resources → v1 and v2 control-file writes, the v1 device emulation, and the hybrid split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../errors.js';
import type { CgroupWrite } from './fs.js';
import { v1Writes } from './convert-v1.js';
import { blkioWeightToIOWeight, sharesToWeight, swapToV2, v2Writes } from './convert-v2.js';
import { splitResources } from './convert-common.js';

const kind = (k: string) => (e: unknown) => e instanceof BerthError && e.kind === k;
const fv = (ws: CgroupWrite[]) => ws.map((w) => `${w.file}=${w.value}`);
const M = 1024 * 1024;

test('v1 memory: limit, reservation, swap order by current limit, swappiness, oom killer', () => {
  assert.deepEqual(fv(v1Writes({ memory: { limit: 16 * M, swap: 32 * M } }, { memoryLimit: 9223372036854771712 })), [
    `memory.limit_in_bytes=${16 * M}`,
    `memory.memsw.limit_in_bytes=${32 * M}`,
  ]);
  // Growing: memsw first, or the kernel refuses a limit above it.
  assert.deepEqual(fv(v1Writes({ memory: { limit: 64 * M, swap: 128 * M } }, { memoryLimit: 16 * M })), [
    `memory.memsw.limit_in_bytes=${128 * M}`,
    `memory.limit_in_bytes=${64 * M}`,
  ]);
  assert.deepEqual(fv(v1Writes({ memory: { limit: 64 * M, swap: -1 } }, { memoryLimit: 16 * M })), [
    'memory.memsw.limit_in_bytes=-1',
    `memory.limit_in_bytes=${64 * M}`,
  ]);
  const unl = v1Writes({ memory: { limit: -1 } });
  assert.deepEqual(fv(unl), ['memory.memsw.limit_in_bytes=-1', 'memory.limit_in_bytes=-1']);
  assert.equal(unl[0].optional, true);
  assert.deepEqual(fv(v1Writes({ memory: { reservation: 8 * M, swappiness: 10, disableOOMKiller: true } })), [
    `memory.soft_limit_in_bytes=${8 * M}`,
    'memory.swappiness=10',
    'memory.oom_control=1',
  ]);
  assert.throws(() => v1Writes({ memory: { swappiness: 101 } }), kind('invalid'));
  assert.throws(() => v1Writes({ memory: { limit: 32 * M, swap: 16 * M } }), kind('invalid'));
  assert.throws(() => v1Writes({ memory: { limit: 1.5 } }), kind('invalid'));
  const k = v1Writes({ memory: { kernel: 64 * M, kernelTCP: 8 * M } });
  assert.deepEqual(fv(k), [`memory.kmem.limit_in_bytes=${64 * M}`, `memory.kmem.tcp.limit_in_bytes=${8 * M}`]);
  assert.ok(k.every((w) => w.optional));
});

test('v1 cpu, cpuset, pids, blkio, hugetlb, net_cls, net_prio, rdma', () => {
  assert.deepEqual(
    fv(
      v1Writes({
        cpu: {
          shares: 512,
          period: 100000,
          quota: 50000,
          burst: 1000,
          realtimePeriod: 1000000,
          realtimeRuntime: 950000,
          cpus: '0-1',
          mems: '0',
        },
      }),
    ),
    [
      'cpu.shares=512',
      'cpu.cfs_period_us=100000',
      'cpu.cfs_quota_us=50000',
      'cpu.cfs_burst_us=1000',
      'cpu.rt_period_us=1000000',
      'cpu.rt_runtime_us=950000',
      'cpuset.cpus=0-1',
      'cpuset.mems=0',
    ],
  );
  assert.deepEqual(fv(v1Writes({ pids: { limit: 10 } })), ['pids.max=10']);
  assert.deepEqual(fv(v1Writes({ pids: { limit: -1 } })), ['pids.max=max']);
  const b = v1Writes({
    blockIO: {
      weight: 300,
      weightDevice: [{ major: 8, minor: 0, weight: 200 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
    },
  });
  assert.deepEqual(fv(b), [
    'blkio.weight=300',
    'blkio.weight_device=8:0 200',
    'blkio.throttle.read_bps_device=8:0 1048576',
    'blkio.throttle.write_iops_device=8:16 100',
  ]);
  assert.deepEqual(b[0].alternatives, [{ file: 'blkio.bfq.weight', value: '300' }]);
  assert.deepEqual(b[0].controller, 'blkio');
  const h = v1Writes({ hugepageLimits: [{ pageSize: '2MB', limit: 4 * M }] });
  assert.deepEqual(fv(h), [`hugetlb.2MB.limit_in_bytes=${4 * M}`, `hugetlb.2MB.rsvd.limit_in_bytes=${4 * M}`]);
  assert.throws(() => v1Writes({ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }), kind('invalid'));
  const n = v1Writes({ network: { classID: 0x100001, priorities: [{ name: 'eth0', priority: 5 }] } });
  assert.deepEqual(fv(n), [`net_cls.classid=${0x100001}`, 'net_prio.ifpriomap=eth0 5']);
  assert.deepEqual(
    n.map((w) => w.controller),
    ['net_cls', 'net_prio'],
  );
  assert.deepEqual(fv(v1Writes({ rdma: { mlx5_0: { hcaHandles: 3, hcaObjects: 100 } } })), ['rdma.max=mlx5_0 hca_handle=3 hca_object=100']);
  assert.throws(() => v1Writes({ unified: { 'memory.high': '1G' } }), kind('unsupported'));
});

test('v2 conversions: shares → weight, blkio weight → io.weight, swap → swap.max', () => {
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(sharesToWeight(0), 0);
  assert.equal(blkioWeightToIOWeight(10), 1);
  assert.equal(blkioWeightToIOWeight(500), 4950);
  assert.equal(blkioWeightToIOWeight(1000), 10000);
  assert.equal(swapToV2(0, -1), -1);
  assert.equal(swapToV2(-1, 100), -1);
  assert.equal(swapToV2(0, 100), 0);
  assert.equal(swapToV2(300, 100), 200);
  assert.throws(() => swapToV2(50, 100), kind('invalid'));
  assert.throws(() => swapToV2(100, 0), kind('invalid'));
});

test('v2 writes: memory, cpu, pids, io, hugetlb, rdma, unified verbatim and last', () => {
  assert.deepEqual(fv(v2Writes({ memory: { limit: 16 * M, swap: 48 * M, reservation: 8 * M, kernel: 1, kernelTCP: 1 } })), [
    `memory.swap.max=${32 * M}`,
    `memory.max=${16 * M}`,
    `memory.low=${8 * M}`,
  ]);
  assert.deepEqual(fv(v2Writes({ memory: { limit: -1 } })), ['memory.swap.max=max', 'memory.max=max']);
  // An update with swap alone uses the current memory.max.
  assert.deepEqual(fv(v2Writes({ memory: { swap: 64 * M } }, { memoryMax: 16 * M })), [`memory.swap.max=${48 * M}`]);
  assert.throws(() => v2Writes({ memory: { swappiness: 60 } }), kind('unsupported'));
  assert.throws(() => v2Writes({ memory: { disableOOMKiller: true } }), kind('unsupported'));
  assert.deepEqual(fv(v2Writes({ cpu: { shares: 1024, quota: 50000, period: 100000, burst: 0, idle: 1, cpus: '0', mems: '0' } })), [
    'cpu.weight=39',
    'cpu.max=50000 100000',
    'cpu.max.burst=0',
    'cpu.idle=1',
    'cpuset.cpus=0',
    'cpuset.mems=0',
  ]);
  assert.deepEqual(fv(v2Writes({ cpu: { quota: -1 } })), ['cpu.max=max']);
  assert.deepEqual(fv(v2Writes({ cpu: { period: 20000 } }, { cpuQuota: 10000 })), ['cpu.max=10000 20000']);
  assert.deepEqual(fv(v2Writes({ cpu: { period: 20000 } })), ['cpu.max=max 20000']);
  assert.throws(() => v2Writes({ cpu: { realtimeRuntime: 1000 } }), kind('unsupported'));
  assert.deepEqual(fv(v2Writes({ pids: { limit: 0 } })), ['pids.max=max']);
  const io = v2Writes({
    blockIO: {
      weight: 500,
      weightDevice: [{ major: 8, minor: 0, weight: 100 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 0 }],
    },
  });
  assert.deepEqual(fv(io), ['io.bfq.weight=500', 'io.bfq.weight=8:0 100', 'io.max=8:0 rbps=1000', 'io.max=8:0 wbps=max']);
  assert.deepEqual(io[0].alternatives, [{ file: 'io.weight', value: '4950' }]);
  assert.deepEqual(io[1].alternatives, [{ file: 'io.weight', value: `8:0 ${blkioWeightToIOWeight(100)}` }]);
  assert.throws(() => v2Writes({ blockIO: { leafWeight: 100 } }), kind('unsupported'));
  assert.deepEqual(fv(v2Writes({ hugepageLimits: [{ pageSize: '1GB', limit: 0 }] })), ['hugetlb.1GB.max=0', 'hugetlb.1GB.rsvd.max=0']);
  assert.throws(() => v2Writes({ network: { classID: 1 } }), kind('unsupported'));
  const u = v2Writes({ pids: { limit: 5 }, unified: { 'memory.high': '100M', 'cgroup.max.depth': '3' } });
  assert.deepEqual(fv(u), ['pids.max=5', 'memory.high=100M', 'cgroup.max.depth=3']);
  assert.equal(u[1].controller, '');
  assert.equal(u[1].field, 'unified["memory.high"]');
  assert.throws(() => v2Writes({ unified: { '../x': '1' } }), kind('invalid'));
});

test('hybrid split: each part to the hierarchy that has its controller', () => {
  const v1has = new Set(['memory', 'cpu', 'pids', 'devices', 'blkio']);
  const [a, b] = splitResources(
    {
      memory: { limit: 1 },
      cpu: { shares: 2, cpus: '0' },
      pids: { limit: 3 },
      hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
      devices: [{ allow: false }],
      network: { classID: 1 },
      unified: { 'hugetlb.2MB.max': '0' },
    },
    (g) => v1has.has(g),
  );
  assert.deepEqual(a, { memory: { limit: 1 }, cpu: { shares: 2 }, pids: { limit: 3 }, devices: [{ allow: false }] });
  assert.deepEqual(b, {
    cpu: { cpus: '0' },
    hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
    network: { classID: 1 },
    unified: { 'hugetlb.2MB.max': '0' },
  });
});
