import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onPodNetwork, podOptions, portBindings } from './sandbox-config.js';

const metadata = { name: 'web', namespace: 'default', uid: 'u1', attempt: 2 };

test('a sandbox config as pod options: dockershim name, shared namespaces, DNS, labels kept beside the kubelet ones', () => {
  const o = podOptions({
    metadata,
    hostname: 'web-0',
    log_directory: '/var/log/pods/x',
    dns_config: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] },
    labels: { app: 'web' },
    annotations: { a: 'b' },
    linux: { cgroup_parent: '/kubepods/besteffort/podu1', security_context: { namespace_options: { pid: 1 } } },
  });
  assert.equal(o.Network, undefined);
  onPodNetwork(o, metadata, 'k8s-pods');
  assert.equal(o.Name, 'k8s_POD_web_default_u1_2');
  assert.deepEqual(o.Share, ['net', 'uts', 'ipc']);
  assert.equal(o.Network, 'k8s-pods');
  assert.deepEqual(o.NetworkDriverOpts, { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web', K8S_POD_UID: 'u1' });
  assert.equal(o.Hostname, 'web-0');
  assert.equal(o.CgroupParent, '/kubepods/besteffort/podu1');
  assert.deepEqual([o.Dns, o.DnsSearch, o.DnsOptions], [['10.96.0.10'], ['default.svc.cluster.local'], ['ndots:5']]);
  assert.equal(o.Labels!.app, 'web');
  assert.deepEqual(JSON.parse(o.Labels!['berth.cri.metadata']), metadata);
  assert.equal(o.Labels!['berth.cri.log-directory'], '/var/log/pods/x');
});

test('host network and a shared PID namespace; what a sandbox cannot have is refused by name', () => {
  const host = podOptions({ metadata, linux: { security_context: { namespace_options: { network: 2, pid: 0, ipc: 2 } } } });
  onPodNetwork(host, metadata, 'k8s-pods');
  assert.deepEqual([host.Share, host.Network, host.NetworkDriverOpts], [['pid'], undefined, undefined]);
  assert.throws(() => podOptions({ metadata, linux: { sysctls: { 'net.core.somaxconn': '1' } } } as never), /config\.linux\.sysctls/);
  assert.throws(() => podOptions({ metadata, linux: { cgroup_parent: 'kubepods.slice' } }), /cgroupfs paths only/);
  assert.throws(() => podOptions({ metadata: { name: 'x' } }), /metadata needs name, namespace and uid/);
  assert.throws(() => podOptions({ metadata, linux: { security_context: { seccomp: { profile_type: 2 } } } }), /Localhost seccomp/);
});

test('only ports with a host port are published, by protocol', () => {
  assert.deepEqual(
    portBindings([
      { container_port: 80, host_port: 8080 },
      { container_port: 53, host_port: 5353, protocol: 1, host_ip: '127.0.0.1' },
      { container_port: 9000 },
    ]),
    { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }] },
  );
});
