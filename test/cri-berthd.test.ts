// berthd as a Kubernetes CRI runtime: a gRPC client (test/helpers/cri-client.ts, the published
// proto) over <exec-root>/cri.sock runs a pod's whole life against a berthd of the test's own
// (engine-fixture: temp roots, a local registry mirroring docker.io's busybox), removed afterwards.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { CriClient } from './helpers/cri-client.js';
import { startEngine, until, type EngineFixture } from './engine-fixture.js';
import { byChannel, connectWs } from './helpers/ws-client.js';
import { bridgeConflist } from './helpers/containerd.js';

let e: EngineFixture;
let cri: CriClient;
/** The node's CNI config dir, as kubelet's (empty at first), and its pod log root (/var/log/pods). */
let cniDir: string, logRoot: string;
/** A CNI plugin of the test's, chained after the pod network's: it records what berthd gives plugins. */
let pluginDir: string;
const POD_SUBNET = '10.142.4.0/24';
const POD_BRIDGE = 'berthcri4';
before(async () => {
  cniDir = mkdtempSync(join(tmpdir(), 'berth-test-cni-'));
  logRoot = mkdtempSync(join(tmpdir(), 'berth-test-pod-logs-'));
  pluginDir = mkdtempSync(join(tmpdir(), 'berth-test-cni-bin-'));
  const passOn =
    'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => process.stdout.write(JSON.stringify(JSON.parse(s).prevResult)))';
  writeFileSync(
    join(pluginDir, 'berth-test-record'),
    `#!/bin/sh\necho "$CNI_COMMAND $CNI_CONTAINERID $CNI_IFNAME $CNI_ARGS" >> ${pluginDir}/calls\n` +
      `[ "$CNI_COMMAND" = ADD ] && exec ${process.execPath} -e '${passOn}'\nexit 0\n`,
  );
  chmodSync(join(pluginDir, 'berth-test-record'), 0o755);
  // berthd inherits it: its plugins are looked up there first.
  process.env.CNI_PATH = `${pluginDir}:/usr/lib/cni:/opt/cni/bin`;
  e = await startEngine({ daemonConfig: { 'cni-conf-dir': cniDir } });
  // berthd serves the CRI once its Engine API answers.
  await until(() => existsSync(join(e.dir, 'run', 'cri.sock')));
  cri = new CriClient(join(e.dir, 'run', 'cri.sock'));
  await cri.ready();
});
after(async () => {
  // A failed test's sandboxes go through the CRI: the Engine API leaves a pod's infra container to its pod.
  if (cri) for (const s of (await cri.runtime('ListPodSandbox', {})).items) await cri.runtime('RemovePodSandbox', { pod_sandbox_id: s.id });
  cri?.close();
  await e?.stop();
  rmSync(cniDir, { recursive: true, force: true });
  rmSync(logRoot, { recursive: true, force: true });
  rmSync(pluginDir, { recursive: true, force: true });
  // The CNI bridge plugin makes the bridge on the first ADD and never removes it.
  if (spawnSync('ip', ['link', 'show', POD_BRIDGE]).status === 0) spawnSync('ip', ['link', 'del', POD_BRIDGE]);
});

test('Version and Status: berth, runtime ready, network not ready without a CNI config', async () => {
  assert.equal(statSync(join(e.dir, 'run', 'cri.sock')).mode & 0o777, 0o600);
  const v = await cri.runtime('Version', { version: '0.1.0' });
  assert.equal(v.runtime_name, 'berth');
  assert.equal(v.runtime_api_version, 'v1');
  await cri.runtime('UpdateRuntimeConfig', { runtime_config: { network_config: { pod_cidr: '10.88.0.0/16' } } });
  const s = await cri.runtime('Status', { verbose: true });
  const cond = Object.fromEntries(s.status!.conditions.map((c) => [c.type, c]));
  assert.equal(cond.RuntimeReady.status, true);
  assert.equal(cond.NetworkReady.status, false);
  assert.match(cond.NetworkReady.message, /no CNI network config in/);
  assert.equal(JSON.parse(s.info.config).podCidr, '10.88.0.0/16');
  await assert.rejects(cri.runtime('CheckpointContainer', { container_id: 'x' }), { code: status.UNIMPLEMENTED });
});

test('ImageService: pull, list, status, fs info, remove; unapplied fields refused by name', async () => {
  const { image_ref } = await cri.image('PullImage', { image: { image: 'busybox' } });
  assert.match(image_ref, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(
    (await cri.image('ListImages', {})).images.map((i) => i.id),
    [image_ref],
  );
  const one = await cri.image('ListImages', { filter: { image: { image: 'docker.io/library/busybox:latest' } } });
  assert.deepEqual(one.images[0].repo_tags, ['docker.io/library/busybox:latest']);
  assert.ok(one.images[0].size > 0);
  const st = await cri.image('ImageStatus', { image: { image: image_ref }, verbose: true });
  assert.equal(st.image!.id, image_ref);
  assert.ok(JSON.parse(st.info.imageSpec).rootfs);
  assert.equal((await cri.image('ImageStatus', { image: { image: 'nothere:1' } })).image, null);
  const fs = await cri.image('ImageFsInfo', {});
  assert.ok(fs.image_filesystems[0].used_bytes!.value > 0);
  await assert.rejects(cri.image('PullImage', { image: { image: 'busybox' }, auth: { registry_token: 't' } }), {
    code: status.INVALID_ARGUMENT,
    details: /registry_token/,
  });
  // The engine's images: berth's own API lists what kubelet pulled.
  assert.match((await e.api('GET', '/images/json')).body, new RegExp(image_ref));
  await cri.image('RemoveImage', { image: { image: image_ref } });
  await cri.image('RemoveImage', { image: { image: image_ref } });
  assert.deepEqual((await cri.image('ListImages', {})).images, []);
});

test("pods on the node's CNI network: none until its config is written; the config's plugins get the pod's CNI_ARGS, give its address, and undo it at stop", async () => {
  const meta = { name: 'net', namespace: 'kube-system', uid: 'uid-net', attempt: 0 };
  const config = { metadata: meta, linux: { security_context: { namespace_options: { network: 'POD' as const } } } };
  await assert.rejects(cri.runtime('RunPodSandbox', { config }), { details: /no CNI network config in .*the node's network is not ready/ });
  assert.deepEqual((await cri.runtime('ListPodSandbox', {})).items, [], 'a refused sandbox leaves nothing');

  // A config that does not load keeps the network not ready, naming the file.
  writeFileSync(join(cniDir, '05-broken.conflist'), '{"cniVersion": "1.0.0", "plugins": []}');
  const broken = (await cri.runtime('Status', {})).status!.conditions.find((c) => c.type === 'NetworkReady')!;
  assert.equal(broken.status, false);
  assert.match(broken.message, /05-broken\.conflist: "name" is missing/);
  rmSync(join(cniDir, '05-broken.conflist'));

  // The add-on's config, with the recording plugin chained last (a portmap-less list publishes nothing).
  const list = JSON.parse(bridgeConflist(POD_BRIDGE, POD_SUBNET, join(e.dir, 'pod-ipam'))) as { plugins: unknown[] };
  list.plugins.push({ type: 'berth-test-record' });
  writeFileSync(join(cniDir, '10-pods.conflist'), JSON.stringify({ ...list, name: 'k8s-pod-network' }));
  const ready = (await cri.runtime('Status', {})).status!.conditions.find((c) => c.type === 'NetworkReady')!;
  assert.equal(ready.status, true);

  const { pod_sandbox_id: sb } = await cri.runtime('RunPodSandbox', { config });
  const ip = (await cri.runtime('PodSandboxStatus', { pod_sandbox_id: sb })).status!.network!.ip;
  assert.match(ip, /^10\.142\.4\.\d+$/);
  const infra = JSON.parse((await e.api('GET', `/pods/${sb}/json`)).body).InfraContainerID as string;
  const calls = () => readFileSync(join(pluginDir, 'calls'), 'utf8').trim().split('\n');
  assert.deepEqual(calls(), [`ADD ${infra} eth0 IgnoreUnknown=1;K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=net;K8S_POD_UID=uid-net`]);
  // The lease is the config's IPAM's, in its own data dir.
  assert.ok(readdirSync(join(e.dir, 'pod-ipam', 'k8s-pod-network')).includes(ip));
  // berth's network list shows the network, made by the config.
  const n = JSON.parse((await e.api('GET', '/networks/k8s-pod-network')).body);
  assert.equal(n.Driver, 'cni');
  assert.equal(n.Options['berth.cni.conf-file'], join(cniDir, '10-pods.conflist'));

  await cri.runtime('StopPodSandbox', { pod_sandbox_id: sb });
  await until(() => calls().length === 2);
  assert.match(calls()[1], new RegExp(`^DEL ${infra} eth0 IgnoreUnknown=1;K8S_POD_NAMESPACE=kube-system`));
  await until(() => !readdirSync(join(e.dir, 'pod-ipam', 'k8s-pod-network')).includes(ip));
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: sb });
  rmSync(join(pluginDir, 'calls'));
});

test('a pod: sandbox, container, exec, CRI logs at log_path, stats, stop, remove; berth ps and pods show them', async () => {
  const { image_ref } = await cri.image('PullImage', { image: { image: 'busybox' } });
  const meta = { name: 'web', namespace: 'default', uid: 'uid-1', attempt: 0 };
  const logDir = join(logRoot, 'default_web_uid-1');
  const sandboxConfig = {
    metadata: meta,
    hostname: 'web',
    log_directory: logDir,
    labels: { app: 'web', 'io.kubernetes.pod.name': 'web' },
    annotations: { note: 'kept' },
    linux: { security_context: { namespace_options: { network: 'POD' as const, pid: 'CONTAINER' as const, ipc: 'POD' as const } } },
  };
  const { pod_sandbox_id: sb } = await cri.runtime('RunPodSandbox', { config: sandboxConfig });
  const ps = (await cri.runtime('PodSandboxStatus', { pod_sandbox_id: sb })).status!;
  assert.equal(ps.state, 'SANDBOX_READY');
  assert.deepEqual(ps.metadata, meta);
  assert.deepEqual(ps.annotations, { note: 'kept' });
  assert.match(ps.network!.ip, /^\d+\.\d+\.\d+\.\d+$/);
  assert.deepEqual(
    (await cri.runtime('ListPodSandbox', { filter: { label_selector: { app: 'web' } } })).items.map((s) => s.id),
    [sb],
  );

  const config = {
    metadata: { name: 'app', attempt: 0 },
    image: { image: image_ref },
    command: ['sh', '-c'],
    args: ['echo hello; echo oops >&2; exec sleep 1000'],
    envs: [{ key: 'GREETING', value: 'hi' }],
    labels: { 'io.kubernetes.container.name': 'app' },
    log_path: 'app/0.log',
    linux: { resources: { memory_limit_in_bytes: 64 << 20 } },
  };
  // What berthd does not apply is refused by name, and leaves nothing.
  await assert.rejects(
    cri.runtime('CreateContainer', {
      pod_sandbox_id: sb,
      config: { ...config, linux: { security_context: { selinux_options: { type: 'spc_t' } } } } as never,
      sandbox_config: sandboxConfig,
    }),
    { code: status.INVALID_ARGUMENT, details: /config\.linux\.security_context\.selinux_options/ },
  );
  const { container_id: ct } = await cri.runtime('CreateContainer', { pod_sandbox_id: sb, config, sandbox_config: sandboxConfig });
  assert.equal((await cri.runtime('ContainerStatus', { container_id: ct })).status!.state, 'CONTAINER_CREATED');
  await cri.runtime('StartContainer', { container_id: ct });
  const cs = (await cri.runtime('ContainerStatus', { container_id: ct })).status!;
  assert.equal(cs.state, 'CONTAINER_RUNNING');
  assert.equal(cs.log_path, join(logDir, 'app/0.log'));
  assert.equal(cs.resources!.linux!.memory_limit_in_bytes, 64 << 20);
  const listed = (await cri.runtime('ListContainers', { filter: { pod_sandbox_id: sb } })).containers;
  assert.deepEqual(
    listed.map((c) => [c.id, c.pod_sandbox_id, c.labels['io.kubernetes.container.name']]),
    [[ct, sb, 'app']],
  );

  // ExecSync: both streams, the exit code, the pod's hostname and the env; past its timeout, DEADLINE_EXCEEDED.
  const x = await cri.runtime('ExecSync', {
    container_id: ct,
    cmd: ['sh', '-c', 'echo $GREETING $(hostname); echo err >&2; exit 3'],
    timeout: 10,
  });
  assert.deepEqual([x.stdout.toString(), x.stderr.toString(), x.exit_code], ['hi web\n', 'err\n', 3]);
  await assert.rejects(cri.runtime('ExecSync', { container_id: ct, cmd: ['sleep', '30'], timeout: 1 }), { code: status.DEADLINE_EXCEEDED });

  // Exec through the streaming server the URL names: the output and the exit code (a v4 Status);
  // a container that is not the CRI's gets no URL.
  const { url } = await cri.runtime('Exec', {
    container_id: ct,
    cmd: ['sh', '-c', 'echo streamed $(hostname); exit 5'],
    tty: false,
    stdin: false,
    stdout: true,
    stderr: true,
  });
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]+$/);
  const msgs = await (await connectWs(url, ['v4.channel.k8s.io'])).all();
  assert.equal(byChannel(msgs)[1], 'streamed web\n');
  assert.deepEqual(JSON.parse(byChannel(msgs)[3]).details, { causes: [{ reason: 'ExitCode', message: '5' }] });
  await assert.rejects(
    cri.runtime('Exec', { container_id: 'nope', cmd: ['true'], tty: false, stdin: false, stdout: true, stderr: false }),
    { code: status.NOT_FOUND },
  );

  // The log, in the CRI format, where kubelet reads it; reopened after kubelet's rotation.
  const log = join(logDir, 'app/0.log');
  await until(() => existsSync(log) && readFileSync(log, 'utf8').split('\n').length >= 3);
  const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
  for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
  assert.deepEqual(lines.map((l) => l.slice(l.indexOf(' ') + 1)).sort(), ['stderr F oops', 'stdout F hello']);
  // `docker logs` (and berth's) reads it too, each stream to its own.
  const dl = e.docker(['logs', ct]);
  assert.deepEqual([dl.status, dl.stdout, dl.stderr], [0, 'hello\n', 'oops\n']);
  renameSync(log, `${log}.1`);
  await cri.runtime('ReopenContainerLog', { container_id: ct });
  await cri.runtime('ExecSync', { container_id: ct, cmd: ['sh', '-c', 'echo again > /proc/1/fd/1'], timeout: 10 });
  await until(() => existsSync(log) && readFileSync(log, 'utf8').length > 0);
  assert.match(readFileSync(log, 'utf8'), /^\S+ stdout F again\n$/);
  assert.equal(readFileSync(`${log}.1`, 'utf8').split('\n').length, 3);

  // Stats of the container and of its pod; its writable layer holds what it wrote.
  await cri.runtime('ExecSync', {
    container_id: ct,
    cmd: ['sh', '-c', 'mkdir /w && dd if=/dev/zero of=/w/f bs=1024 count=300'],
    timeout: 10,
  });
  const st = (await cri.runtime('ContainerStats', { container_id: ct })).stats!;
  assert.equal(st.attributes!.id, ct);
  assert.ok(Number(st.writable_layer!.used_bytes!.value) >= 300 * 1024, JSON.stringify(st.writable_layer));
  assert.ok(Number(st.writable_layer!.inodes_used!.value) >= 2, JSON.stringify(st.writable_layer));
  assert.ok(existsSync(join(st.writable_layer!.fs_id!.mountpoint, 'w', 'f')));
  assert.ok(st.cpu!.usage_core_nano_seconds!.value > 0);
  assert.ok(st.memory!.working_set_bytes!.value > 0);
  assert.equal((await cri.runtime('ListContainerStats', { filter: { pod_sandbox_id: sb } })).stats.length, 1);
  const pst = (await cri.runtime('PodSandboxStats', { pod_sandbox_id: sb })).stats!;
  assert.equal(pst.linux!.containers.length, 1);
  assert.ok(pst.linux!.process!.process_count!.value >= 2);

  // One store, two front doors: the Engine API shows kubelet's container and pod with their labels.
  const api = JSON.parse((await e.api('GET', '/containers/json')).body) as { Names: string[]; Labels: Record<string, string> }[];
  const mine = api.find((c) => c.Names[0] === '/k8s_app_web_default_uid-1_0');
  assert.equal(mine?.Labels['io.kubernetes.container.name'], 'app');
  const pods = JSON.parse((await e.api('GET', '/pods/json')).body) as { Name: string; Labels: Record<string, string> }[];
  assert.equal(pods.find((p) => p.Name === 'k8s_POD_web_default_uid-1_0')?.Labels.app, 'web');

  await cri.runtime('StopContainer', { container_id: ct, timeout: 1 });
  const stopped = (await cri.runtime('ContainerStatus', { container_id: ct })).status!;
  assert.equal(stopped.state, 'CONTAINER_EXITED');
  assert.equal(stopped.reason, 'Error');
  await cri.runtime('StopPodSandbox', { pod_sandbox_id: sb });
  assert.equal((await cri.runtime('PodSandboxStatus', { pod_sandbox_id: sb })).status!.state, 'SANDBOX_NOTREADY');
  await cri.runtime('RemoveContainer', { container_id: ct });
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: sb });
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: sb });
  assert.deepEqual((await cri.runtime('ListPodSandbox', {})).items, []);
  assert.deepEqual((await cri.runtime('ListContainers', {})).containers, []);
  assert.equal(JSON.parse((await e.api('GET', '/containers/json?all=1')).body).length, 0);
});

test('GetContainerEvents: a sandbox and its container, created, started, stopped and deleted, each with the statuses as they are then', async () => {
  const { image_ref } = await cri.image('PullImage', { image: { image: 'busybox' } });
  const stream = cri.containerEvents();
  try {
    const meta = { name: 'ev', namespace: 'default', uid: 'uid-ev', attempt: 0 };
    const sandboxConfig = { metadata: meta, linux: { security_context: { namespace_options: { network: 'POD' as const } } } };
    const { pod_sandbox_id: sb } = await cri.runtime('RunPodSandbox', { config: sandboxConfig });
    const config = { metadata: { name: 'c', attempt: 0 }, image: { image: image_ref }, command: ['sleep', '1000'] };
    const { container_id: ct } = await cri.runtime('CreateContainer', { pod_sandbox_id: sb, config, sandbox_config: sandboxConfig });
    await cri.runtime('StartContainer', { container_id: ct });
    await cri.runtime('StopContainer', { container_id: ct, timeout: 0 });
    await cri.runtime('RemoveContainer', { container_id: ct });
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: sb });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: sb });
    const want = [
      [sb, 'CONTAINER_STARTED_EVENT'],
      [ct, 'CONTAINER_CREATED_EVENT'],
      [ct, 'CONTAINER_STARTED_EVENT'],
      [ct, 'CONTAINER_STOPPED_EVENT'],
      [ct, 'CONTAINER_DELETED_EVENT'],
      [sb, 'CONTAINER_STOPPED_EVENT'],
      [sb, 'CONTAINER_DELETED_EVENT'],
    ];
    await until(() => stream.events.length >= want.length);
    const ev = stream.events;
    assert.deepEqual(
      ev.map((x) => [x.container_id, x.container_event_type]),
      want,
    );
    assert.ok(ev.every((x, i) => i === 0 || x.created_at >= ev[i - 1].created_at));
    // The statuses are those of the moment: the sandbox ready while the container runs, then not.
    assert.equal(ev[2].pod_sandbox_status?.state, 'SANDBOX_READY');
    assert.deepEqual(
      ev[2].containers_statuses.map((c) => [c.id, c.state]),
      [[ct, 'CONTAINER_RUNNING']],
    );
    assert.deepEqual(
      ev[3].containers_statuses.map((c) => [c.id, c.state]),
      [[ct, 'CONTAINER_EXITED']],
    );
    assert.deepEqual(ev[4].containers_statuses, []);
    assert.equal(ev[5].pod_sandbox_status?.state, 'SANDBOX_NOTREADY');
    assert.equal(ev[6].pod_sandbox_status, null);
  } finally {
    stream.cancel();
  }
});
