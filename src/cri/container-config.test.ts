import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodRecord } from '../engine/index.js';
import { containerCreate, resourcesOf } from './container-config.js';

const podMeta = { name: 'web', namespace: 'default', uid: 'u1', attempt: 0 };
const pod = { Id: 'p', SharedNamespaces: ['net', 'ipc', 'uts'] } as PodRecord;
const base = { metadata: { name: 'app', attempt: 1 }, image: { image: 'sha256:abc' } };

test('command, args, env, mounts, devices, labels and the CRI log', () => {
  const c = containerCreate(
    {
      ...base,
      command: ['/bin/sh'],
      args: ['-c', 'x'],
      working_dir: '/w',
      envs: [{ key: 'A', value: '1' }],
      mounts: [
        { container_path: '/data', host_path: '/var/lib/kubelet/x', readonly: true, propagation: 1 },
        { container_path: '/etc/hosts', host_path: '/h' },
      ],
      devices: [{ container_path: '/dev/fuse', host_path: '/dev/fuse', permissions: 'rw' }],
      labels: { 'io.kubernetes.container.name': 'app' },
      annotations: { k: 'v' },
      log_path: 'app/1.log',
      tty: true,
    },
    pod,
    podMeta,
    '/var/log/pods/d',
  );
  assert.equal(c.name, 'k8s_app_web_default_u1_1');
  assert.deepEqual(
    [c.config.Entrypoint, c.config.Cmd, c.config.WorkingDir, c.config.Env, c.config.Tty],
    [['/bin/sh'], ['-c', 'x'], '/w', ['A=1'], true],
  );
  assert.deepEqual(c.hostConfig.Mounts, [
    {
      Type: 'bind',
      Source: '/var/lib/kubelet/x',
      Target: '/data',
      ReadOnly: true,
      BindOptions: { Propagation: 'rslave', ReadOnlyNonRecursive: true },
    },
    { Type: 'bind', Source: '/h', Target: '/etc/hosts', ReadOnly: undefined },
  ]);
  assert.deepEqual(c.hostConfig.Devices, [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rw' }]);
  assert.deepEqual(c.hostConfig.LogConfig, { Type: 'cri', Config: { path: '/var/log/pods/d/app/1.log' } });
  assert.deepEqual(c.hostConfig.Annotations, { k: 'v' });
  assert.equal(c.config.Labels!['io.kubernetes.container.name'], 'app');
  assert.equal(c.config.Labels!['berth.cri.log-path'], '/var/log/pods/d/app/1.log');
  // No log_path: no log.
  assert.deepEqual(containerCreate(base, pod, podMeta, undefined).hostConfig.LogConfig, { Type: 'none' });
});

test('resources and the security context', () => {
  const c = containerCreate(
    {
      ...base,
      linux: {
        resources: {
          cpu_period: '100000',
          cpu_quota: '50000',
          cpu_shares: '512',
          memory_limit_in_bytes: '67108864',
          oom_score_adj: '-997',
          hugepage_limits: [{ page_size: '2MB', limit: '0' }],
        },
        security_context: {
          capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['ALL'] },
          run_as_user: { value: '1000' },
          run_as_group: { value: '3000' },
          readonly_rootfs: true,
          supplemental_groups: ['4000'],
          no_new_privs: true,
          masked_paths: ['/proc/kcore'],
          readonly_paths: ['/proc/sys'],
          seccomp: { profile_type: 1 },
          namespace_options: { network: 0, pid: 1, ipc: 0 },
        },
      },
    },
    pod,
    podMeta,
    undefined,
  );
  const hc = c.hostConfig;
  assert.deepEqual([hc.CpuPeriod, hc.CpuQuota, hc.CpuShares, hc.Memory, hc.OomScoreAdj], [100000, 50000, 512, 67108864, -997]);
  assert.deepEqual([hc.CapAdd, hc.CapDrop, hc.GroupAdd, hc.ReadonlyRootfs], [['NET_ADMIN'], ['ALL'], ['4000'], true]);
  assert.deepEqual([hc.MaskedPaths, hc.ReadonlyPaths], [['/proc/kcore'], ['/proc/sys']]);
  assert.deepEqual(hc.SecurityOpt, ['no-new-privileges', 'seccomp=unconfined']);
  assert.equal(c.config.User, '1000:3000');
  const local = containerCreate(
    { ...base, linux: { security_context: { seccomp_profile_path: 'localhost//etc/p.json', privileged: true } } },
    pod,
    podMeta,
    undefined,
  );
  assert.deepEqual([local.seccompFile, local.hostConfig.Privileged], ['/etc/p.json', true]);
});

test("namespaces: the node's where the pod has them, a target PID namespace; a mode the pod does not match is refused", () => {
  const hostPod = { Id: 'h', SharedNamespaces: [] } as unknown as PodRecord;
  const onHost = containerCreate(
    { ...base, linux: { security_context: { namespace_options: { network: 2, pid: 2, ipc: 2 } } } },
    hostPod,
    podMeta,
    undefined,
  );
  assert.deepEqual(
    [onHost.hostConfig.NetworkMode, onHost.hostConfig.UTSMode, onHost.hostConfig.PidMode, onHost.hostConfig.IpcMode],
    ['host', 'host', 'host', 'host'],
  );
  // No options at all: the pod's.
  assert.equal(containerCreate(base, hostPod, podMeta, undefined).hostConfig.NetworkMode, 'host');
  const target = containerCreate(
    { ...base, linux: { security_context: { namespace_options: { pid: 3, target_id: 'abc' } } } },
    pod,
    podMeta,
    undefined,
  );
  assert.equal(target.hostConfig.PidMode, 'container:abc');
  assert.throws(
    () => containerCreate({ ...base, linux: { security_context: { namespace_options: { network: 2, pid: 1 } } } }, pod, podMeta, undefined),
    /namespace_options\.network NODE does not match its sandbox's/,
  );
});

test('what berthd does not apply is refused by its path', () => {
  const refused = (c: object, re: RegExp) => assert.throws(() => containerCreate({ ...base, ...c } as never, pod, podMeta, undefined), re);
  refused(
    { linux: { security_context: { apparmor: { profile_type: 2, localhost_ref: 'x' } } } },
    /config\.linux\.security_context\.apparmor/,
  );
  refused({ linux: { security_context: { capabilities: { add_ambient_capabilities: ['NET_RAW'] } } } }, /add_ambient_capabilities/);
  refused({ mounts: [{ container_path: '/a', host_path: '/b', selinux_relabel: true }] }, /config\.mounts\[0\]\.selinux_relabel/);
  refused({ windows: { resources: { cpu_count: '2' } } }, /config\.windows/);
  refused({ linux: { resources: { unified: { 'memory.high': '1' } } } }, /config\.linux\.resources\.unified/);
  assert.throws(
    () => resourcesOf({ hugepage_limits: [{ page_size: '2MB', limit: '2097152' }] }, 'linux'),
    /linux\.hugepage_limits\[0\]\.limit/,
  );
});
