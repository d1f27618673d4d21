// System routes: `/_ping`, `/version`, `/info`.

import { cpus, hostname, release, totalmem } from 'node:os';
import { readFileSync, existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { cgroupFeatures, cgroupsDelegated, daemonSecurityOptions, type CgroupFeatures, type Engine } from '../../engine/index.js';
import { BERTH_VERSION } from '../../common/version.js';
import { API_VERSION, MIN_API_VERSION } from '../version.js';
import { apiOlder, COMMON_HEADERS, sendJSON } from './http.js';
import { infoWarnings } from './info-warnings.js';
import type { Router } from './router.js';

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64' };
const UNAME_ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

/** A /proc/sys switch is on (dockerd's sysinfo reads these; a missing file is off). */
function procOn(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** Every feature off: what a daemon without cgroups can limit. */
const none = (f: CgroupFeatures) => Object.fromEntries(Object.keys(f).map((k) => [k, false])) as unknown as CgroupFeatures;

const orNull = (list: string[]) => (list.length ? list : null);

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

export function systemRoutes(router: Router, engine: Engine, daemonId: string): void {
  const ping = (ctx: Parameters<Parameters<Router['on']>[2]>[0]) => {
    ctx.res!.writeHead(200, {
      ...COMMON_HEADERS,
      'Builder-Version': '1',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': '2',
    });
    ctx.res!.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
  };
  router.on('GET', '/_ping', ping).on('HEAD', '/_ping', ping);

  router.on('GET', '/version', (ctx) => {
    const details = {
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      Arch: ARCH[process.arch] ?? process.arch,
      Os: 'linux',
      KernelVersion: release(),
      GitCommit: '',
      GoVersion: `node ${process.version}`,
      BuildTime: '',
      Experimental: 'false',
    };
    sendJSON(ctx, 200, {
      Platform: { Name: 'berth' },
      Components: [{ Name: 'Engine', Version: BERTH_VERSION, Details: details }],
      Version: BERTH_VERSION,
      ...details,
      Experimental: false,
    });
  });

  router.on('GET', '/info', async (ctx) => {
    const containers = engine.containers.list();
    const count = (s: string) => containers.filter((c) => c.State.Status === s).length;
    const images = await engine.images.list();
    const cgroupV2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
    const mirrors = engine.options.registryMirrors ?? [];
    // A rootless berthd whose user was given no cgroups runs its containers without any: dockerd's
    // driver "none", with nothing to limit.
    const driver = engine.options.rootless && !cgroupsDelegated(`/berth/${daemonId}`, daemonId) ? 'none' : 'cgroupfs';
    const f = driver === 'none' ? none(cgroupFeatures()) : cgroupFeatures();
    const net = {
      IPv4Forwarding: procOn('/proc/sys/net/ipv4/ip_forward'),
      BridgeNfIptables: procOn('/proc/sys/net/bridge/bridge-nf-call-iptables'),
      BridgeNfIp6tables: procOn('/proc/sys/net/bridge/bridge-nf-call-ip6tables'),
    };
    sendJSON(ctx, 200, {
      ID: daemonId,
      Containers: containers.length,
      ContainersRunning: count('running'),
      ContainersPaused: count('paused'),
      ContainersStopped: containers.length - count('running') - count('paused'),
      Images: images.length,
      // berth's layers are overlayfs snapshots measured and answered as dockerd's overlay2 (daemon.json's
      // storage-driver takes "overlay2"), so it reports that driver and its Status lines.
      Driver: 'overlay2',
      DriverStatus: [
        ['Backing Filesystem', await backingFs(engine.options.dataRoot)],
        ['Supports d_type', 'true'],
        ['Using metacopy', 'false'],
        ['Native Overlay Diff', 'true'],
        ['userxattr', String(!!engine.options.rootless)],
      ],
      // The drivers berthd has (dockerd lists its built-in ones the same way; `none` is not listed).
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file', 'local'] },
      // What the cgroups can apply, as dockerd's sysinfo reads them (runtime/cgroups/features.ts);
      // KernelMemory is false from API 1.42 on, as moby answers.
      MemoryLimit: f.memoryLimit,
      SwapLimit: f.swapLimit,
      KernelMemory: f.kernelMemory && apiOlder(ctx.version, '1.42'),
      KernelMemoryTCP: f.kernelMemoryTCP,
      CpuCfsPeriod: f.cpuCfsPeriod,
      CpuCfsQuota: f.cpuCfsQuota,
      CPUShares: f.cpuShares,
      CPUSet: f.cpuset,
      PidsLimit: f.pidsLimit,
      ...net,
      Debug: false,
      NFd: 0,
      OomKillDisable: f.oomKillDisable,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: driver,
      CgroupVersion: cgroupV2 ? '2' : '1',
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: osName(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: UNAME_ARCH[process.arch] ?? process.arch,
      // The registry short names resolve to, which the docker CLI logs in to by default.
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: { InsecureRegistryCIDRs: [], IndexConfigs: {}, Mirrors: mirrors },
      NCPU: cpus().length,
      MemTotal: totalmem(),
      GenericResources: null,
      DockerRootDir: engine.options.dataRoot,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: BERTH_VERSION,
      Runtimes: {
        berth: { path: 'berth-runtime' },
        runc: { path: 'berth-runtime' },
        ...Object.fromEntries(
          Object.entries(engine.options.runtimes ?? {}).map(([n, r]) => [
            n,
            { path: r.path, ...(r.runtimeArgs ? { runtimeArgs: r.runtimeArgs } : {}) },
          ]),
        ),
      },
      DefaultRuntime: engine.options.defaultRuntime ?? 'berth',
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: '',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: '' },
      InitCommit: { ID: '' },
      SecurityOptions: daemonSecurityOptions({ remapping: !!engine.options.usernsRemap, rootless: !!engine.options.rootless }),
      // null when there is none, as dockerd's nil list.
      Warnings: orNull(
        infoWarnings({
          cgroupDriver: driver,
          cgroupVersion: cgroupV2 ? '2' : '1',
          features: f,
          ipv4Forwarding: net.IPv4Forwarding,
          bridgeNfIptables: net.BridgeNfIptables,
          bridgeNfIp6tables: net.BridgeNfIp6tables,
        }),
      ),
    });
  });
}

/** moby's graphdriver.FsNames: the names overlay2's "Backing Filesystem" gives the file systems' magic numbers. */
const FS_NAMES = new Map<number, string>([
  [0x61756673, 'aufs'],
  [0x9123683e, 'btrfs'],
  [0x28cd3d45, 'cramfs'],
  [0xf15f, 'ecryptfs'],
  [0xef53, 'extfs'],
  [0xf2f52010, 'f2fs'],
  [0x47504653, 'gpfs'],
  [0x72b6, 'jffs2'],
  [0x3153464a, 'jfs'],
  [0x6969, 'nfs'],
  [0x858458f6, 'ramfs'],
  [0x52654973, 'reiserfs'],
  [0x517b, 'smb'],
  [0x73717368, 'squashfs'],
  [0x01021994, 'tmpfs'],
  [0xa501fcf5, 'vxfs'],
  [0x58465342, 'xfs'],
  [0x2fc12fc1, 'zfs'],
  [0x794c7630, 'overlayfs'],
  [0x65735546, 'fuse'],
]);

/** The file system under the data root, by name as overlay2 reports it (`<unknown>` for one moby does not name). */
async function backingFs(dataRoot: string): Promise<string> {
  const { type } = await statfs(dataRoot);
  return FS_NAMES.get(type >>> 0) ?? '<unknown>';
}
