// Unit tests: stats parsing from fixture control-file contents (v1 and v2), oom_kill counts, page size names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hugePageSizeNames, parseBlkioLines, parseCpuList, parseOomKill, v1HugetlbStats, v1Stats, v2Stats } from './stats.js';

const V1: Record<string, Record<string, string>> = {
  cpuacct: {
    'cpuacct.usage': '123456789\n',
    'cpuacct.usage_percpu': '100000000 23456789 \n',
    'cpuacct.usage_all': 'cpu user system\n0 90000000 10000000\n1 20000000 3456789\n',
    'cpuacct.stat': 'user 7\nsystem 3\n',
  },
  cpu: { 'cpu.stat': 'nr_periods 10\nnr_throttled 2\nthrottled_time 5000\nnr_bursts 0\nburst_time 0\n' },
  cpuset: {
    'cpuset.cpus': '0-1\n',
    'cpuset.mems': '0\n',
    'cpuset.cpu_exclusive': '0\n',
    'cpuset.sched_load_balance': '1\n',
    'cpuset.sched_relax_domain_level': '-1\n',
  },
  memory: {
    'memory.usage_in_bytes': '4096000\n',
    'memory.max_usage_in_bytes': '8192000\n',
    'memory.limit_in_bytes': '16777216\n',
    'memory.failcnt': '3\n',
    'memory.memsw.usage_in_bytes': '4096000\n',
    'memory.memsw.limit_in_bytes': '33554432\n',
    'memory.memsw.max_usage_in_bytes': '8192000\n',
    'memory.memsw.failcnt': '0\n',
    'memory.kmem.usage_in_bytes': '1000\n',
    'memory.kmem.limit_in_bytes': '9223372036854771712\n',
    'memory.kmem.failcnt': '0\n',
    'memory.stat': 'cache 12288\nrss 4000000\ntotal_cache 12288\n',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
  },
  pids: { 'pids.current': '3\n', 'pids.max': 'max\n' },
  blkio: {
    'blkio.throttle.io_service_bytes_recursive':
      '253:0 Read 4096\n253:0 Write 8192\n253:0 Sync 0\n253:0 Async 12288\n253:0 Discard 0\n253:0 Total 12288\nTotal 12288\n',
    'blkio.throttle.io_serviced_recursive': '253:0 Read 1\n253:0 Write 2\nTotal 3\n',
  },
};

test('v1 stats from fixture files', () => {
  const s = v1Stats((c, f) => V1[c]?.[f]);
  assert.equal(s.cpu.usage.total, 123456789);
  assert.deepEqual(s.cpu.usage.percpu, [100000000, 23456789]);
  assert.deepEqual(s.cpu.usage.percpu_user, [90000000, 20000000]);
  assert.deepEqual(s.cpu.usage.percpu_kernel, [10000000, 3456789]);
  assert.equal(s.cpu.usage.user, 70000000);
  assert.equal(s.cpu.usage.kernel, 30000000);
  assert.deepEqual(s.cpu.throttling, { periods: 10, throttledPeriods: 2, throttledTime: 5000 });
  assert.deepEqual(s.cpuset.cpus, [0, 1]);
  assert.deepEqual(s.cpuset.mems, [0]);
  assert.equal(s.cpuset.sched_load_balance, 1);
  assert.equal(s.cpuset.sched_relax_domain_level, -1);
  assert.deepEqual(s.memory.usage, { usage: 4096000, max: 8192000, limit: 16777216, failcnt: 3 });
  assert.equal(s.memory.swap.limit, 33554432);
  assert.equal(s.memory.kernel.usage, 1000);
  assert.equal(s.memory.cache, 12288);
  assert.equal(s.memory.raw?.rss, 4000000);
  assert.deepEqual(s.pids, { current: 3, limit: 0 });
  assert.deepEqual(s.blkio.ioServiceBytesRecursive?.slice(0, 2), [
    { major: 253, minor: 0, op: 'Read', value: 4096 },
    { major: 253, minor: 0, op: 'Write', value: 8192 },
  ]);
  assert.equal(s.blkio.ioServiceBytesRecursive?.length, 6); // the device's Total line kept, the grand total dropped
  assert.equal(s.blkio.ioServicedRecursive?.length, 2);
  assert.equal(parseOomKill(V1.memory['memory.oom_control']), 2);
  // The JSON field names are runc's.
  const json = JSON.parse(JSON.stringify(s));
  assert.ok(
    'throttledPeriods' in json.cpu.throttling &&
      'percpu_kernel' in json.cpu.usage &&
      'kernelTCP' in json.memory &&
      'ioServiceBytesRecursive' in json.blkio,
  );
});

test('v1 hugetlb stats', () => {
  const f: Record<string, string> = {
    'hugetlb.2MB.usage_in_bytes': '2097152\n',
    'hugetlb.2MB.max_usage_in_bytes': '4194304\n',
    'hugetlb.2MB.failcnt': '1\n',
  };
  assert.deepEqual(
    v1HugetlbStats(['2MB', '1GB'], (x) => f[x]),
    { '2MB': { usage: 2097152, max: 4194304, failcnt: 1 } },
  );
});

test('v2 stats from fixture files', () => {
  const f: Record<string, string> = {
    'cpu.stat': 'usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\nnr_periods 4\nnr_throttled 1\nthrottled_usec 70\n',
    'cpuset.cpus.effective': '0-3\n',
    'memory.current': '1048576\n',
    'memory.max': 'max\n',
    'memory.peak': '2097152\n',
    'memory.events': 'low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n',
    'memory.stat': 'anon 4096\nfile 8192\n',
    'memory.swap.current': '4096\n',
    'memory.swap.max': '0\n',
    'pids.current': '2\n',
    'pids.max': '10\n',
    'io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n',
    'hugetlb.2MB.current': '0\n',
    'hugetlb.2MB.max': '4194304\n',
    'hugetlb.2MB.events': 'max 2\n',
  };
  const s = v2Stats((x) => f[x], ['2MB', '1GB']);
  assert.equal(s.cpu.usage.total, 5000000);
  assert.equal(s.cpu.usage.user, 3000000);
  assert.equal(s.cpu.usage.kernel, 2000000);
  assert.deepEqual(s.cpu.throttling, { periods: 4, throttledPeriods: 1, throttledTime: 70000 });
  assert.deepEqual(s.cpuset.cpus, [0, 1, 2, 3]);
  assert.equal(s.memory.usage.usage, 1048576);
  assert.equal(s.memory.usage.max, 2097152);
  assert.equal(s.memory.usage.limit, Number.MAX_SAFE_INTEGER);
  assert.equal(s.memory.usage.failcnt, 5);
  assert.equal(s.memory.cache, 8192);
  assert.equal(s.memory.swap.usage, 1048576 + 4096);
  assert.deepEqual(s.pids, { current: 2, limit: 10 });
  assert.deepEqual(s.blkio.ioServiceBytesRecursive, [
    { major: 8, minor: 0, op: 'Read', value: 4096 },
    { major: 8, minor: 0, op: 'Write', value: 8192 },
    { major: 8, minor: 0, op: 'Discard', value: 0 },
  ]);
  assert.equal(s.blkio.ioServicedRecursive?.length, 3);
  assert.deepEqual(s.hugetlb, { '2MB': { usage: 0, max: 4194304, failcnt: 2 } });
  assert.equal(parseOomKill(f['memory.events']), 1);
});

test('small parsers', () => {
  assert.deepEqual(parseCpuList('0-2,5,7-8\n'), [0, 1, 2, 5, 7, 8]);
  assert.equal(parseCpuList('\n'), undefined);
  assert.deepEqual(parseBlkioLines('8:0 12\n'), [{ major: 8, minor: 0, value: 12 }]);
  assert.deepEqual(hugePageSizeNames(['hugepages-2048kB', 'hugepages-1048576kB', 'hugepages-64kB', 'x']), ['2MB', '1GB', '64KB']);
  assert.equal(parseOomKill(undefined), 0);
});
