import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerConfig, HostConfig } from '../types.js';
import { checkPodOptions, infraSettings, joinPod, parseShare, podState } from './rules.js';
import type { PodRecord } from './types.js';

const pod = (o: Partial<PodRecord> = {}): PodRecord => ({
  Id: 'p'.repeat(64),
  Name: 'web',
  Created: '',
  Labels: {},
  Hostname: 'web',
  SharedNamespaces: ['net', 'ipc', 'uts'],
  InfraId: 'i'.repeat(64),
  Network: 'bridge',
  PortBindings: {},
  ...o,
});

test('--share as podman reads it: a list replaces the default, +list adds to it', () => {
  assert.deepEqual(parseShare('+pid'), ['net', 'ipc', 'uts', 'pid']);
  assert.deepEqual(parseShare('net,pid'), ['net', 'pid']);
  assert.deepEqual(parseShare('none'), []);
  assert.deepEqual(parseShare(''), []);
  assert.throws(() => parseShare('cgroup'), /invalid kernel namespace to share: cgroup/);
});

test("a pod's options: network, ports and hostname only with what they need shared", () => {
  assert.deepEqual(checkPodOptions({}), ['net', 'ipc', 'uts']);
  assert.throws(() => checkPodOptions({ Share: ['ipc'], PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } }), /port bindings/);
  assert.throws(() => checkPodOptions({ Share: ['net'], Hostname: 'h' }), /hostname/);
  assert.throws(() => checkPodOptions({ Network: 'host', PortBindings: { '80/tcp': [] } }), /network host/);
  assert.throws(() => checkPodOptions({ CgroupParent: 'kubepods' }), /absolute/);
});

test('the infra container holds the network and ports, a shareable /dev/shm and the hostname', () => {
  const { config, hostConfig } = infraSettings(pod({ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } }), 'pause:1');
  assert.equal(config.Hostname, 'web');
  assert.equal(hostConfig.NetworkMode, 'bridge');
  assert.equal(hostConfig.IpcMode, 'shareable');
  assert.deepEqual(hostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
  assert.deepEqual(infraSettings(pod(), 'pause:1').endpoints, {});
  const named = infraSettings(pod({ Network: 'app', NetworkAliases: ['db'] }), 'pause:1');
  assert.deepEqual(named.endpoints, { app: { Aliases: ['web', 'db'] } });
  assert.throws(() => checkPodOptions({ NetworkAliases: ['db'] }), /user-defined networks/);
  const alone = infraSettings(pod({ SharedNamespaces: ['pid'], Network: '' }), 'pause:1');
  assert.equal(alone.hostConfig.NetworkMode, 'none');
  assert.equal(alone.hostConfig.IpcMode, '');
  assert.equal(alone.config.Hostname, undefined);
});

test("a member joins the infra's namespaces, or is refused what the pod decides", () => {
  const config: ContainerConfig = { Image: 'busybox' };
  const hc: HostConfig = {};
  joinPod(pod({ SharedNamespaces: ['net', 'ipc', 'uts', 'pid'], CgroupParent: '/kubepods/pod1' }), config, hc, {});
  const infra = `container:${'i'.repeat(64)}`;
  assert.deepEqual(
    [hc.NetworkMode, hc.IpcMode, hc.UTSMode, hc.PidMode, hc.CgroupParent, config.Hostname],
    [infra, infra, infra, infra, '/kubepods/pod1', 'web'],
  );
  const refused = (c: ContainerConfig, h: HostConfig, re: RegExp, ep = {}) => assert.throws(() => joinPod(pod(), c, h, ep), re);
  refused({}, { PortBindings: { '80/tcp': [] } }, /published or exposed ports must be defined when the pod is created/);
  refused({}, { PublishAllPorts: true }, /published or exposed ports/);
  refused({}, { NetworkMode: 'app' }, /networks must be defined when the pod is created/);
  refused({}, {}, /networks must be defined/, { app: {} });
  refused({ Hostname: 'x' }, {}, /cannot set hostname/);
  refused({}, { IpcMode: 'host' }, /IPC mode host/);
  refused({}, { Dns: ['1.1.1.1'] }, /DNS/);
  const hostPod = { NetworkMode: '' } as HostConfig;
  joinPod(pod({ Network: 'host' }), {}, hostPod, {});
  assert.equal(hostPod.NetworkMode, 'host');
  const own: HostConfig = { PidMode: 'host' };
  joinPod(pod({ SharedNamespaces: ['ipc'] }), {}, own, {});
  assert.deepEqual([own.NetworkMode, own.PidMode], [undefined, 'host']);
});

test("a pod's state from its containers', as podman's", () => {
  assert.equal(podState(['running', 'running']), 'Running');
  assert.equal(podState(['running', 'exited']), 'Degraded');
  assert.equal(podState(['created', 'created']), 'Created');
  assert.equal(podState(['exited', 'exited']), 'Exited');
  assert.equal(podState(['created', 'exited']), 'Stopped');
  assert.equal(podState(['paused']), 'Paused');
});
