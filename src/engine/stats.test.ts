// Unit tests: cgroup figures → Docker's stats JSON (v1 and v2 shapes, limits, precpu), /proc/stat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyStats as emptyCgroup } from '../runtime/cgroups/stats.js';
import { dockerStats, emptyStats, netDev, systemCpuUsage } from './stats.js';

const host = { systemCpu: 5e12, onlineCpus: 4, memory: 8 * 2 ** 30 };

function sample() {
  const s = emptyCgroup();
  s.cpu.usage = { total: 3e9, percpu: [2e9, 1e9], kernel: 1e9, user: 2e9 };
  s.memory.usage = { usage: 10 * 2 ** 20, max: 12 * 2 ** 20, limit: Number.MAX_SAFE_INTEGER, failcnt: 0 };
  s.memory.raw = { inactive_file: 2 ** 20, total_inactive_file: 2 ** 20 };
  s.pids = { current: 2, limit: 0 };
  s.blkio.ioServiceBytesRecursive = [
    { major: 8, minor: 0, op: 'Read', value: 4096 },
    { major: 8, minor: 0, op: 'Write', value: 8192 },
    { major: 8, minor: 0, op: 'Discard', value: 1 },
  ];
  return s;
}

test("v2: memory without max_usage, unlimited memory as the machine's, io read/write in lower case", () => {
  const d = dockerStats('/c', 'id', sample(), 'v2', undefined, host);
  assert.equal(d.memory_stats.limit, host.memory);
  assert.equal(d.memory_stats.max_usage, undefined);
  assert.deepEqual(d.blkio_stats.io_service_bytes_recursive, [
    { major: 8, minor: 0, op: 'read', value: 4096 },
    { major: 8, minor: 0, op: 'write', value: 8192 },
  ]);
  assert.equal(d.blkio_stats.io_serviced_recursive, null);
  assert.deepEqual(d.pids_stats, { current: 2 });
  assert.equal(d.cpu_stats.cpu_usage.total_usage, 3e9);
  assert.deepEqual(d.cpu_stats.cpu_usage.percpu_usage, [2e9, 1e9]);
  assert.equal(d.cpu_stats.online_cpus, 4);
  assert.equal(d.preread, '0001-01-01T00:00:00Z');
  assert.equal(d.precpu_stats.cpu_usage.total_usage, 0);
});

test('v1: max_usage and failcnt, a set limit kept; the previous sample becomes precpu', () => {
  const s = sample();
  s.memory.usage.limit = 64 * 2 ** 20;
  const first = dockerStats('/c', 'id', s, 'v1', undefined, host);
  const second = dockerStats('/c', 'id', s, 'v1', first, { ...host, systemCpu: 6e12 });
  assert.equal(second.memory_stats.limit, 64 * 2 ** 20);
  assert.equal(second.memory_stats.max_usage, 12 * 2 ** 20);
  assert.equal(second.memory_stats.failcnt, 0);
  assert.equal(second.preread, first.read);
  assert.deepEqual(second.precpu_stats, first.cpu_stats);
  assert.equal(second.blkio_stats.io_service_bytes_recursive?.length, 3);
});

test('a container that is not running: zeros and no read time', () => {
  const e = emptyStats('/c', 'id');
  assert.equal(e.read, '0001-01-01T00:00:00Z');
  assert.deepEqual(e.memory_stats, {});
});

test('system_cpu_usage: the cpu line of /proc/stat in nanoseconds (USER_HZ 100)', () => {
  assert.equal(systemCpuUsage('cpu  100 0 50 1000 10 0 0 0 0 0\ncpu0 50 0 25 500 5 0 0 0 0 0\n'), 1160 * 1e7);
});

test('netDev: the counters of /proc/PID/net/dev by interface, lo left out', () => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0
  eth0:    1186      13    1    2    0     0          0         0      546       7    3    4    0     0       0          0
`;
  assert.deepEqual(netDev(text), {
    eth0: { rx_bytes: 1186, rx_packets: 13, rx_errors: 1, rx_dropped: 2, tx_bytes: 546, tx_packets: 7, tx_errors: 3, tx_dropped: 4 },
  });
});
