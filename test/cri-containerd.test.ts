// berth-runtime under containerd's CRI plugin (issue 15): Debian's containerd 1.6 with the runc v2
// shim running berth-runtime, as the default handler's BinaryName and as a second handler named
// `berth`. Through the tests' CRI client, for each handler: a pod (pause image, CNI bridge on
// 10.142.1.0/24 with a published port), a busybox container in it, exec, CRI logs at log_path,
// stats, stop and remove — and berth-runtime's own state (its --root, as the shim passes it)
// shows the pod's containers while they live, so it was the binary containerd used. Everything
// the test made goes with it: pods through the CRI, then containerd and its shims by PID, mounts,
// cgroups, the bridge, and the portmap and masquerade rules (checked by the sandbox's ID).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RUNTIME } from './helpers/bundle.js';
import { startContainerd, type Containerd } from './helpers/containerd.js';
import type { PodSandboxConfig, Req } from './helpers/cri-client.js';
import { missing } from './helpers/dockerd.js';
import { pushPodImages, type PodImages } from './helpers/pod-images.js';
import { freePort, startRegistry } from './helpers/registry.js';

const BERTH_RUNTIME = realpathSync(RUNTIME);
const SUBNET = '10.142.1.0/24';
const GATEWAY = '10.142.1.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The containers berth-runtime keeps under `root`, by ID and status. */
function berthRuntimeList(root: string): { id: string; status: string }[] {
  const r = spawnSync(BERTH_RUNTIME, ['--root', root, 'list', '--format', 'json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return ((JSON.parse(r.stdout) as { id: string; status: string }[] | null) ?? []).map(({ id, status }) => ({ id, status }));
}

const iptablesNaming = (id: string) =>
  ['nat', 'filter']
    .flatMap((t) => spawnSync('iptables-save', ['-t', t], { encoding: 'utf8' }).stdout.split('\n'))
    .filter((l) => l.includes(id));

async function httpGet(url: string): Promise<string> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 200, url);
  return r.text();
}

/** One pod's life through the CRI, on `handler` ('' is the default), checked at each step. */
async function podLifecycle(c: Containerd, images: PodImages, handler: string, logDir: string): Promise<void> {
  const { cri } = c;
  const name = `web-${handler || 'default'}`;
  const hostPort = await freePort();
  const sandboxConfig: Req<PodSandboxConfig> = {
    metadata: { name, uid: `uid-${name}`, namespace: 'berth-test', attempt: 0 },
    hostname: name,
    log_directory: join(logDir, name),
    port_mappings: [{ protocol: 'TCP', container_port: 80, host_port: hostPort }],
    labels: { app: name },
    linux: { cgroup_parent: c.cgroupParent, security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  };
  const { pod_sandbox_id: podId } = await cri.runtime('RunPodSandbox', { config: sandboxConfig, runtime_handler: handler });
  const pod = await cri.runtime('PodSandboxStatus', { pod_sandbox_id: podId });
  assert.equal(pod.status?.state, 'SANDBOX_READY');
  assert.equal(pod.status?.runtime_handler, handler, 'containerd reports the handler as asked (empty: its default)');
  const podIp = pod.status?.network?.ip ?? '';
  assert.match(podIp, /^10\.142\.1\.\d+$/);

  const root = c.runtimeRoot(handler || 'runc');
  assert.deepEqual(berthRuntimeList(root), [{ id: podId, status: 'running' }], 'the pause container runs under berth-runtime');

  const pulled = await cri.image('PullImage', { image: { image: images.busybox }, sandbox_config: sandboxConfig });
  assert.match(pulled.image_ref, /^sha256:[0-9a-f]{64}$/);
  const { container_id: id } = await cri.runtime('CreateContainer', {
    pod_sandbox_id: podId,
    sandbox_config: sandboxConfig,
    config: {
      metadata: { name: 'httpd', attempt: 0 },
      image: { image: images.busybox },
      command: ['/bin/sh', '-c', 'echo started; echo to stderr >&2; exec httpd -f -p 80 -h /etc'],
      envs: [{ key: 'GREETING', value: 'hi' }],
      log_path: 'httpd/0.log',
      linux: { security_context: { seccomp: { profile_type: 'RuntimeDefault' } } },
    },
  });
  await cri.runtime('StartContainer', { container_id: id });
  const st = await cri.runtime('ContainerStatus', { container_id: id });
  assert.equal(st.status?.state, 'CONTAINER_RUNNING');
  assert.deepEqual(
    berthRuntimeList(root).sort((a, b) => a.id.localeCompare(b.id)),
    [...[podId, id].sort().map((x) => ({ id: x, status: 'running' }))],
  );
  const state = JSON.parse(spawnSync(BERTH_RUNTIME, ['--root', root, 'state', id], { encoding: 'utf8' }).stdout) as { pid: number };
  assert.match(readFileSync(`/proc/${state.pid}/cmdline`, 'utf8'), /^httpd\0/, "berth-runtime's state names the container's init");

  // ExecSync: output, exit code, and the pod's shared UTS namespace and the container's env.
  const x = await cri.runtime('ExecSync', {
    container_id: id,
    cmd: ['sh', '-c', 'echo out $GREETING $(hostname); echo err >&2; exit 3'],
    timeout: 20,
  });
  assert.deepEqual([x.stdout.toString(), x.stderr.toString(), x.exit_code], [`out hi ${name}\n`, 'err\n', 3]);

  // The published port (portmap's DNAT, reached from the host through the bridge's gateway) and the pod IP.
  assert.equal(await httpGet(`http://${podIp}/hostname`), `${name}\n`);
  assert.equal(await httpGet(`http://${GATEWAY}:${hostPort}/hostname`), `${name}\n`);
  assert.ok(iptablesNaming(podId).length > 0, 'CNI set rules for the pod');

  // Logs in the CRI format, at log_directory/log_path.
  const logFile = join(logDir, name, 'httpd/0.log');
  for (let i = 0; i < 50 && !/stderr F to stderr/.test(existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''); i++) await sleep(100);
  const lines = readFileSync(logFile, 'utf8').trim().split('\n').sort();
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines.find((l) => / stdout /.test(l)) ?? '', /^\d{4}-\d\d-\d\dT\S+Z stdout F started$/);
  assert.match(lines.find((l) => / stderr /.test(l)) ?? '', /^\d{4}-\d\d-\d\dT\S+Z stderr F to stderr$/);

  // Stats from the container's cgroup (the shim reads it by the PID berth-runtime reported).
  const stats = (await cri.runtime('ContainerStats', { container_id: id })).stats;
  assert.equal(stats?.attributes?.id, id);
  assert.ok((stats?.memory?.working_set_bytes?.value ?? 0) > 0, JSON.stringify(stats));
  assert.ok((stats?.cpu?.usage_core_nano_seconds?.value ?? 0) > 0, JSON.stringify(stats));
  assert.ok(stats?.writable_layer?.fs_id?.mountpoint, JSON.stringify(stats));

  // UpdateContainerResources: the shim pipes the new resources to `update --resources -`.
  await cri.runtime('UpdateContainerResources', { container_id: id, linux: { memory_limit_in_bytes: 64 << 20, cpu_shares: 512 } });
  const memCgroup = /^\d+:memory:(.*)$/m.exec(readFileSync(`/proc/${state.pid}/cgroup`, 'utf8'))?.[1];
  assert.ok(memCgroup?.startsWith(`${c.cgroupParent}/`), `the container's cgroup is under the pod's parent: ${memCgroup}`);
  assert.equal(readFileSync(`/sys/fs/cgroup/memory${memCgroup}/memory.limit_in_bytes`, 'utf8').trim(), String(64 << 20));

  await cri.runtime('StopContainer', { container_id: id, timeout: 5 });
  const stopped = await cri.runtime('ContainerStatus', { container_id: id });
  assert.equal(stopped.status?.state, 'CONTAINER_EXITED');
  assert.equal(stopped.status?.exit_code, 143, 'httpd ends on SIGTERM');
  await cri.runtime('RemoveContainer', { container_id: id });
  assert.deepEqual(berthRuntimeList(root), [{ id: podId, status: 'running' }]);

  await cri.runtime('StopPodSandbox', { pod_sandbox_id: podId });
  assert.deepEqual(iptablesNaming(podId), [], "CNI's rules for the pod are gone once it stops");
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: podId });
  assert.deepEqual(berthRuntimeList(root), []);
  assert.deepEqual((await cri.runtime('ListPodSandbox', {})).items, []);
}

test(
  'containerd runs pods on berth-runtime, as the runc binary and as a handler of its own',
  { skip: missing('containerd', 'containerd-shim-runc-v2', 'iptables-save'), timeout: 300_000 },
  async () => {
    const registry = await startRegistry();
    const logDir = mkdtempSync(join(tmpdir(), 'berth-test-cri-logs-'));
    let c: Containerd | undefined;
    try {
      const images = await pushPodImages(registry.host);
      c = await startContainerd({
        runtimes: { runc: BERTH_RUNTIME, berth: BERTH_RUNTIME },
        registry: registry.host,
        sandboxImage: images.pause,
        subnet: SUBNET,
        bridge: `berthcri${process.pid % 10000}`,
      });
      const v = await c.cri.runtime('Version', {});
      assert.deepEqual([v.runtime_name, v.runtime_api_version], ['containerd', 'v1']);
      await podLifecycle(c, images, '', logDir);
      await podLifecycle(c, images, 'berth', logDir);
    } catch (e) {
      if (c) console.error(`containerd's log, last lines:\n${c.log().slice(-4000)}`);
      throw e;
    } finally {
      await c?.stop();
      await registry.stop();
      rmSync(logDir, { recursive: true, force: true });
    }
  },
);
