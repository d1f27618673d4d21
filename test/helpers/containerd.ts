// A private containerd (Debian's 1.6) serving the CRI for one test or bench: root, state, sockets,
// opt folder, runc roots, netns pins, CNI config and IPAM data all in its own temp dir; a bridge
// network of its own (CNI bridge + portmap on the caller's subnet); runtime handlers on the runc
// v2 shim with the caller's binary (berth-runtime or runc); a local registry as an insecure host.
// `stop()` removes every pod through the CRI, stops containerd by PID and the shims that name its
// socket, unmounts what is left under its dir, and removes its cgroup parent and bridge.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriClient } from './cri-client.js';
import { alive, cgroupParents, endProcesses, newDirs, pidsNaming, removeIfEmpty, removeNewCgroups, unmountUnder } from './dockerd.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ContainerdOptions {
  /** Handler name → the runc-compatible binary its shim runs (absolute path). The first is the default. */
  runtimes: Record<string, string>;
  /** `host:port` of a plain-HTTP registry containerd may pull from. */
  registry: string;
  /** The pod sandbox ("pause") image, in that registry. */
  sandboxImage: string;
  /** The pod network's subnet, e.g. `10.142.1.0/24`; the bridge is named `bridge`. */
  subnet: string;
  bridge: string;
}

export interface Containerd {
  dir: string;
  /** containerd's gRPC socket, where the CRI is served too. */
  socket: string;
  pid: number;
  cri: CriClient;
  /** What a pod's `linux.cgroup_parent` should be, so the test's cgroups sit under one folder it removes. */
  cgroupParent: string;
  /** The --root the shim gives a handler's binary: `<Root>/k8s.io`. */
  runtimeRoot(handler: string): string;
  log(): string;
  stop(): Promise<void>;
}

/** containerd's config (version 2): nothing outside `dir` but the CNI plugins and the binaries. */
function config(dir: string, o: ContainerdOptions): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const handlers = Object.entries(o.runtimes).map(
    ([name, binary]) => `
[${cri}.containerd.runtimes.${name}]
  runtime_type = "io.containerd.runc.v2"
[${cri}.containerd.runtimes.${name}.options]
  BinaryName = ${JSON.stringify(binary)}
  Root = ${JSON.stringify(join(dir, 'runtime', name))}
`,
  );
  return `version = 2
root = ${JSON.stringify(join(dir, 'root'))}
state = ${JSON.stringify(join(dir, 'state'))}
# Snapshotters this machine cannot use (the v1 runtime stays: containerd 1.6's task service needs it).
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = ${JSON.stringify(join(dir, 'containerd.sock'))}
[ttrpc]
  address = ${JSON.stringify(join(dir, 'containerd.sock.ttrpc'))}

[plugins."io.containerd.internal.v1.opt"]
  path = ${JSON.stringify(join(dir, 'opt'))}

[${cri}]
  sandbox_image = ${JSON.stringify(o.sandboxImage)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # netns pins under state/, not /run/netns, which other engines share.
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  # Lowering oom_score_adj (the sandbox's -998) needs CAP_SYS_RESOURCE, which a machine may not
  # give even root (this CI's VM does not): keep every container's at or above containerd's own.
  restrict_oom_score_adj = true
[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = ${JSON.stringify(Object.keys(o.runtimes)[0])}
${handlers.join('')}
[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = ${JSON.stringify(join(dir, 'cni'))}
  max_conf_num = 1
[${cri}.registry]
  config_path = ${JSON.stringify(join(dir, 'certs.d'))}
`;
}

/** A pod network's CNI config: a bridge with NAT out and host-local IPAM (leases in `ipamDir`), then portmap. */
export function bridgeConflist(bridge: string, subnet: string, ipamDir: string): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: bridge,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  });
}

export async function startContainerd(o: ContainerdOptions): Promise<Containerd> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-containerd-'));
  const cgroupParent = `/${dir.split('/').pop()}`;
  const cgName = cgroupParent.slice(1);
  const cgBefore = cgroupParents([cgName]);
  // containerd 1.6 puts shim sockets in /run/containerd/s whatever its state dir.
  const made = newDirs(['/run/containerd', '/run/containerd/s']).reverse();
  mkdirSync(join(dir, 'cni'));
  writeFileSync(join(dir, 'cni', '10-berth-test.conflist'), bridgeConflist(o.bridge, o.subnet, join(dir, 'ipam')));
  const hostDir = join(dir, 'certs.d', o.registry);
  mkdirSync(hostDir, { recursive: true });
  writeFileSync(
    join(hostDir, 'hosts.toml'),
    `server = "http://${o.registry}"\n[host."http://${o.registry}"]\n  capabilities = ["pull", "resolve"]\n`,
  );
  writeFileSync(join(dir, 'config.toml'), config(dir, o));
  const socket = join(dir, 'containerd.sock');
  const logFd = openSync(join(dir, 'containerd.log'), 'a');
  const child = spawn('containerd', ['--config', join(dir, 'config.toml'), '--log-level', 'info'], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const cri = new CriClient(socket);
  const log = () => readFileSync(join(dir, 'containerd.log'), 'utf8');

  const stop = async () => {
    const errors: string[] = [];
    if (alive(child.pid!)) {
      try {
        for (const p of (await cri.runtime('ListPodSandbox', {}, { timeoutMs: 20_000 })).items) {
          await cri.runtime('StopPodSandbox', { pod_sandbox_id: p.id }, { timeoutMs: 30_000 });
          await cri.runtime('RemovePodSandbox', { pod_sandbox_id: p.id }, { timeoutMs: 30_000 });
        }
      } catch (e) {
        errors.push(`removing pods: ${String(e)}`);
      }
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
    }
    cri.close();
    // The shims (and containerd, if it did not stop) name its socket on their command lines.
    await endProcesses(pidsNaming(dir), 5000);
    unmountUnder(dir);
    await removeNewCgroups(cgBefore, [cgName]);
    // The CNI bridge plugin makes the bridge on the first ADD and never removes it.
    if (spawnSync('ip', ['link', 'show', o.bridge]).status === 0) spawnSync('ip', ['link', 'del', o.bridge]);
    rmSync(dir, { recursive: true, force: true });
    removeIfEmpty(made);
    if (errors.length) throw new Error(`containerd teardown: ${errors.join('; ')}`);
  };

  try {
    await cri.ready(30_000);
    // The CRI plugin answers once its own init (CNI, snapshotter) is done.
    for (let i = 0; ; i++) {
      const s = await cri.runtime('Status', {}).catch((e: unknown) => e as Error);
      if (!(s instanceof Error) && s.status?.conditions.every((c) => c.status)) break;
      if (i > 100) throw new Error(`containerd's CRI is not ready: ${s instanceof Error ? s.message : JSON.stringify(s.status)}`);
      await sleep(100);
    }
  } catch (e) {
    const tail = log().slice(-3000);
    const cleanup = await stop().then(
      () => '',
      (err: unknown) => `\n(and ${String(err)})`,
    );
    throw new Error(`${String(e)}${cleanup}\ncontainerd log:\n${tail}`);
  }
  return {
    dir,
    socket,
    pid: child.pid!,
    cri,
    cgroupParent,
    runtimeRoot: (handler) => join(dir, 'runtime', handler, 'k8s.io'),
    log,
    stop,
  };
}
