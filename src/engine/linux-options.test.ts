import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSpec } from './spec.js';
import { checkLinuxOptions, donorPid, joinNamespaces, linuxHostConfig, resolveJoined } from './linux-options.js';
import { parseCgroupRule, planDevices } from './devices.js';
import { checkLogConfig, logLimitsOf, readsLogs } from './log-config.js';
import { homeOf, resolveUser, rootFiles } from './users.js';
import type { HostConfig } from './types.js';
import { notFound } from '../errors.js';

function withRoot(fn: (rootfs: string, dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-linux-options-'));
  const rootfs = join(dir, 'rootfs');
  try {
    mkdirSync(join(rootfs, 'etc'), { recursive: true });
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nwheel:x:10:\nnogroup:x:65534:\n');
    fn(rootfs, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const spec = (rootfs: string, hostConfig: HostConfig, User = '') =>
  buildSpec({ id: 'b'.repeat(64), rootfs, image: { Cmd: ['sh'] }, config: { User }, hostConfig });

test('Ulimits, Sysctls, OomScoreAdj, ShmSize and GroupAdd land in the OCI spec as dockerd puts them', () =>
  withRoot((rootfs) => {
    const hc = linuxHostConfig({
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
      Sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '4096' },
      OomScoreAdj: 500,
      ShmSize: 1 << 20,
      GroupAdd: ['10', 'nogroup'],
      PidMode: '',
      IpcMode: '',
    });
    checkLinuxOptions(hc, false, 'none');
    const s = spec(rootfs, hc);
    assert.deepEqual(
      s.process!.rlimits!.filter((r) => r.type === 'RLIMIT_NOFILE'),
      [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 }],
    );
    assert.deepEqual(s.linux!.sysctl, { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '4096' });
    assert.equal(s.process!.oomScoreAdj, 500);
    // As dockerd: the primary group first, then root's groups in /etc/group (none here), then GroupAdd's.
    assert.deepEqual(s.process!.user.additionalGids, [0, 10, 65534]);
    assert.deepEqual(
      s.mounts!.find((m) => m.destination === '/dev/shm')!.options!.filter((o) => o.startsWith('size=')),
      [`size=${1 << 20}`],
    );
    assert.equal(s.linux!.namespaces!.length, 6);
    assert.throws(
      () => spec(rootfs, { GroupAdd: ['nosuch'] }),
      /^Error: Unable to find group nosuch: no matching entries in group file$|Unable to find group nosuch: no matching entries in group file/,
    );
  }));

test('host and container namespaces: dropped, or joined at start from a running donor', () =>
  withRoot((rootfs) => {
    const s = spec(rootfs, { PidMode: 'host', IpcMode: 'host', UTSMode: 'host' });
    assert.deepEqual(s.linux!.namespaces!.map((n) => n.type).sort(), ['cgroup', 'mount', 'network']);
    assert.equal(s.hostname, undefined);
    assert.deepEqual(
      s.mounts!.find((m) => m.destination === '/dev/shm'),
      { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] },
    );
    assert.equal(
      spec(rootfs, { IpcMode: 'none' }).mounts!.some((m) => m.destination === '/dev/shm'),
      false,
    );

    const hc: HostConfig = { PidMode: 'container:web', IpcMode: 'container:web' };
    const d = { Id: 'f'.repeat(64), running: true, pid: 4242, ipcMode: 'shareable', shmDir: '/x/shm' };
    resolveJoined(hc, (ref) => {
      if (ref !== 'web') throw new Error('not asked');
      return d;
    });
    assert.equal(hc.PidMode, `container:${d.Id}`);
    assert.throws(
      () =>
        resolveJoined({ PidMode: 'container:nope' }, () => {
          throw notFound('No such container: nope');
        }),
      { kind: 'invalid', message: 'No such container: nope' },
    );
    const joined = joinNamespaces(spec(rootfs, hc), hc, () => d);
    assert.deepEqual(
      joined.linux!.namespaces!.filter((n) => n.path),
      [
        { type: 'pid', path: '/proc/4242/ns/pid' },
        { type: 'ipc', path: '/proc/4242/ns/ipc' },
      ],
    );
    assert.equal(joined.mounts!.find((m) => m.destination === '/dev/shm')!.source, '/x/shm');
    assert.throws(() => donorPid({ ...d, running: false }, 'PID'), { kind: 'conflict', message: `container ${d.Id} is not running` });
    assert.throws(() => donorPid({ ...d, ipcMode: 'private' }, 'IPC'), {
      message: `can't join IPC of container ${d.Id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`,
    });
  }));

test("checks at create, in dockerd's words", () => {
  const bad: [HostConfig, boolean, string, RegExp][] = [
    [{ PidMode: 'bogus' }, false, 'none', /^invalid PID mode: bogus$/],
    [{ IpcMode: 'bogus' }, false, 'none', /^Invalid IPC mode: bogus$/],
    [{ UTSMode: 'container:x' }, false, 'none', /^invalid UTS mode: container:x$/],
    [{ UTSMode: 'host' }, true, 'none', /^conflicting options: hostname and the UTS mode$/],
    [{ OomScoreAdj: 2000 }, false, 'none', /^Invalid value 2000, range for oom score adj is \[-1000, 1000\]$/],
    [{ ShmSize: -1 }, false, 'none', /^SHM size can not be less than 0$/],
    [{ Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] }, false, 'none', /^invalid ulimit type: bogus$/],
    [
      { Ulimits: [{ Name: 'nofile', Soft: 2048, Hard: 1024 }] },
      false,
      'none',
      /^ulimit soft limit must be less than or equal to hard limit: 2048 > 1024$/,
    ],
    [{ Sysctls: { 'vm.swappiness': '1' } }, false, 'none', /"vm.swappiness" is not in a separate kernel namespace/],
    [{ Sysctls: { 'net.ipv4.ip_forward': '1' } }, false, 'host', /"net.ipv4.ip_forward" not allowed in host network namespace/],
    [{ Sysctls: { 'kernel.shmmax': '1' }, IpcMode: 'host' }, false, 'none', /"kernel.shmmax" not allowed in host ipc namespace/],
  ];
  for (const [hc, hostname, net, re] of bad)
    assert.throws(() => checkLinuxOptions(hc, hostname, net), { kind: 'invalid', message: re }, JSON.stringify(hc));
  checkLinuxOptions({ Ulimits: [{ Name: 'cpu', Soft: 0, Hard: 0 }], IpcMode: 'shareable', PidMode: 'host' }, false, 'bridge');
});

test('devices and device cgroup rules', () => {
  assert.deepEqual(parseCgroupRule('c 1:3 rwm'), { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' });
  assert.deepEqual(parseCgroupRule('a *:* r'), { allow: true, type: 'a', access: 'r' });
  assert.throws(() => parseCgroupRule('bogus'), { kind: 'invalid', message: "invalid device cgroup rule format: 'bogus'" });
  const p = planDevices({
    Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/xnull', CgroupPermissions: 'rw' }],
    DeviceCgroupRules: ['b 7:* rwm'],
  });
  assert.deepEqual(
    p.devices.map((d) => [d.path, d.type, d.major, d.minor]),
    [['/dev/xnull', 'c', 1, 3]],
  );
  assert.deepEqual(p.allow, [
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
    { allow: true, type: 'b', major: 7, access: 'rwm' },
  ]);
  assert.throws(() => planDevices({ Devices: [{ PathOnHost: '/dev/nosuch', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }] }), {
    message: 'error gathering device information while adding custom device "/dev/nosuch": no such file or directory',
  });
  assert.throws(
    () => planDevices({ Devices: [{ PathOnHost: '/etc/hostname', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }] }),
    /not a device node/,
  );
});

test('log drivers: json-file, local and none; remote ones and unknown names refused', () => {
  for (const Type of ['json-file', 'local', 'none', '']) checkLogConfig({ Type, Config: {} });
  checkLogConfig({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
  assert.throws(() => checkLogConfig({ Type: 'bogus' }), {
    kind: 'invalid',
    message: 'error looking up logging plugin bogus: plugin "bogus" not found',
  });
  assert.throws(() => checkLogConfig({ Type: 'syslog' }), {
    kind: 'unsupported',
    message: /logging driver "syslog" is not supported by berthd/,
  });
  assert.throws(() => checkLogConfig({ Type: 'none', Config: { 'max-size': '1m' } }), {
    message: "unknown log opt 'max-size' for none log driver",
  });
  assert.throws(() => checkLogConfig({ Type: 'json-file', Config: { bogus: '1' } }), {
    message: "unknown log opt 'bogus' for json-file log driver",
  });
  assert.equal(readsLogs({ LogConfig: { Type: 'none' } }), false);
  assert.equal(readsLogs({}), true);
  assert.deepEqual(logLimitsOf({ Type: 'local' }), { maxSize: '20m', maxFile: '5' });
});

test('users and HOME are looked up with the mounts over the root', () =>
  withRoot((rootfs, dir) => {
    mkdirSync(join(dir, 'etc'));
    writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:4000:4000::/home/app:/bin/sh\n');
    const files = rootFiles(rootfs, [{ destination: '/etc/passwd', source: join(dir, 'etc', 'passwd'), type: 'bind' }]);
    assert.throws(() => resolveUser(rootfs, 'app'), /unable to find user app/);
    assert.equal(resolveUser(files, 'app').uid, 4000);
    assert.equal(homeOf(files, 4000), '/home/app');
    assert.equal(homeOf(rootfs, 0), '/root');
    assert.equal(homeOf(rootfs, 1234), '/');
    const s = buildSpec({ id: 'c'.repeat(64), rootfs, image: { Cmd: ['sh'] }, config: { User: 'app' }, hostConfig: {}, files });
    assert.ok(s.process!.env!.includes('HOME=/home/app'));
    const withHome = buildSpec({ id: 'c'.repeat(64), rootfs, image: { Cmd: ['sh'], Env: ['HOME=/x'] }, config: {}, hostConfig: {} });
    assert.deepEqual(
      withHome.process!.env!.filter((e) => e.startsWith('HOME=')),
      ['HOME=/x'],
    );
  }));
