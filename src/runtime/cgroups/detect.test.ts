// Unit tests: layout detection from fixture mountinfo texts, /proc/self/cgroup parsing, cgroupsPath rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../errors.js';
import { parseLayout, parseMountinfo, parseProcCgroup } from './detect.js';
import { hierarchyDir, parseCgroupsPath } from './paths.js';
import { containerPaths, detectLayout } from './manager.js';

const kind = (k: string) => (e: unknown) => e instanceof BerthError && e.kind === k;

const V1_MOUNTINFO = `\
22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
25 18 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:22 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
28 25 0:24 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,net_prio,net_cls
29 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
31 25 0:27 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,devices
32 25 0:28 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,freezer
33 25 0:29 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,cpuset,clone_children
34 25 0:30 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,blkio
35 25 0:31 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,pids
36 25 0:32 / /sys/fs/cgroup/hugetlb rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,hugetlb
37 25 0:33 / /sys/fs/cgroup/perf_event rw,nosuid,nodev,noexec,relatime shared:21 - cgroup cgroup rw,perf_event
`;

const V2_MOUNTINFO = `\
22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

const HYBRID_MOUNTINFO = `\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

test('v1 layout: every controller, co-mounted ones share a mount, name=systemd kept', () => {
  const d = parseLayout(V1_MOUNTINFO);
  assert.equal(d.layout, 'v1');
  assert.equal(d.unified, undefined);
  assert.equal(d.v1.cpu.mountPoint, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(d.v1.cpuacct.mountPoint, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(d.v1.net_cls.mountPoint, '/sys/fs/cgroup/net_cls,net_prio');
  assert.equal(d.v1['name=systemd'].mountPoint, '/sys/fs/cgroup/systemd');
  assert.equal(d.v1.cpuset.mountPoint, '/sys/fs/cgroup/cpuset');
  assert.equal(d.v1.xattr, undefined);
  assert.deepEqual(Object.keys(d.v1).sort(), [
    'blkio',
    'cpu',
    'cpuacct',
    'cpuset',
    'devices',
    'freezer',
    'hugetlb',
    'memory',
    'name=systemd',
    'net_cls',
    'net_prio',
    'perf_event',
    'pids',
  ]);
});

test('v2 layout: cgroup2 at the mount root', () => {
  const d = parseLayout(V2_MOUNTINFO);
  assert.equal(d.layout, 'v2');
  assert.deepEqual(d.unified, { mountPoint: '/sys/fs/cgroup', root: '/' });
  assert.deepEqual(d.v1, {});
});

test('hybrid layout: v1 controllers plus cgroup2 at unified', () => {
  const d = parseLayout(HYBRID_MOUNTINFO);
  assert.equal(d.layout, 'hybrid');
  assert.equal(d.unified?.mountPoint, '/sys/fs/cgroup/unified');
  assert.equal(d.v1.memory.mountPoint, '/sys/fs/cgroup/memory');
  assert.equal(d.v1['name=systemd'].mountPoint, '/sys/fs/cgroup/systemd');
  assert.equal(d.v1.hugetlb, undefined);
});

test('a mountRoot that is itself a cgroup2 mount is v2 (the unified half of a hybrid machine)', () => {
  const d = parseLayout(HYBRID_MOUNTINFO, '/sys/fs/cgroup/unified');
  assert.equal(d.layout, 'v2');
  assert.equal(d.unified?.mountPoint, '/sys/fs/cgroup/unified');
});

test('no cgroup mounts → not-found; escaped mount points are decoded', () => {
  assert.throws(() => parseLayout('22 1 253:0 / / rw - ext4 /dev/vda1 rw\n'), kind('not-found'));
  const e = parseMountinfo('40 31 0:37 /a\\040b /x\\040y rw - cgroup cgroup rw,memory\n');
  assert.equal(e[0].root, '/a b');
  assert.equal(e[0].mountPoint, '/x y');
});

test('detectLayout on this machine reads /proc/self/mountinfo', () => {
  const d = detectLayout();
  assert.ok(['v1', 'v2', 'hybrid'].includes(d.layout));
});

test('/proc/self/cgroup parsing', () => {
  const c = parseProcCgroup('9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/x\n0::/u\n');
  assert.deepEqual(c, { 'name=systemd': '/', memory: '/process_api/abc', cpu: '/x', cpuacct: '/x', '': '/u' });
});

test('cgroupsPath rules', () => {
  assert.deepEqual(parseCgroupsPath('', 'c1'), { relative: false, path: '/berth/c1' });
  assert.deepEqual(parseCgroupsPath(undefined, 'c1'), { relative: false, path: '/berth/c1' });
  assert.deepEqual(parseCgroupsPath('/a/b/', 'c1'), { relative: false, path: '/a/b' });
  assert.deepEqual(parseCgroupsPath('a/b', 'c1'), { relative: true, path: 'a/b' });
  assert.throws(
    () => parseCgroupsPath('system.slice:berth:c1', 'c1'),
    (e) => kind('unsupported')(e) && /systemd cgroup driver is not supported/.test((e as Error).message),
  );
  assert.throws(() => parseCgroupsPath('/', 'c1'), kind('invalid'));
  assert.throws(() => parseCgroupsPath('/a/../..', 'c1'), kind('invalid'));
  assert.throws(() => parseCgroupsPath('../x', 'c1'), kind('invalid'));
  assert.throws(() => parseCgroupsPath('', 'a/b'), kind('invalid'));
});

test('hierarchyDir: absolute under the mount, relative under the caller, minus the mount root', () => {
  const m = { mountPoint: '/sys/fs/cgroup/memory', root: '/' };
  assert.equal(hierarchyDir(m, { relative: false, path: '/berth/c1' }), '/sys/fs/cgroup/memory/berth/c1');
  assert.equal(hierarchyDir(m, { relative: true, path: 'c1' }, '/process_api/abc'), '/sys/fs/cgroup/memory/process_api/abc/c1');
  const ns = { mountPoint: '/sys/fs/cgroup', root: '/docker/xyz' };
  assert.equal(hierarchyDir(ns, { relative: true, path: 'c1' }, '/docker/xyz/sub'), '/sys/fs/cgroup/sub/c1');
  assert.throws(() => hierarchyDir(ns, { relative: true, path: 'c1' }, '/other'), kind('invalid'));
  assert.throws(() => hierarchyDir(m, { relative: true, path: 'c1' }), kind('invalid'));
});

test('containerPaths per layout', () => {
  const own = { memory: '/m', cpu: '/', '': '/u', 'name=systemd': '/s' };
  const h = containerPaths(parseLayout(HYBRID_MOUNTINFO), '', 'c1', own);
  assert.equal(h[''], '/sys/fs/cgroup/unified/berth/c1');
  assert.equal(h.memory, '/sys/fs/cgroup/memory/berth/c1');
  assert.equal(h['name=systemd'], '/sys/fs/cgroup/systemd/berth/c1');
  const v2 = containerPaths(parseLayout(V2_MOUNTINFO), 'k/c1', 'c1', own);
  assert.deepEqual(v2, { '': '/sys/fs/cgroup/u/k/c1' });
  const v1 = containerPaths(parseLayout(V1_MOUNTINFO), '/x', 'c1', own);
  assert.equal(v1[''], undefined);
  assert.equal(v1.cpuacct, '/sys/fs/cgroup/cpu,cpuacct/x');
});
