// GET /info's `Warnings`, as dockerd 20.10 writes them (daemon/info_unix.go): what the machine's
// cgroups cannot limit, and the kernel switches its networking needs. The docker CLI prints each
// under `docker info`. Pure: the caller reads the machine.

import type { CgroupFeatures } from '../../engine/index.js';

export interface InfoFacts {
  /** 'none' where a rootless daemon has no cgroups delegated to it. */
  cgroupDriver: 'cgroupfs' | 'none';
  cgroupVersion: '1' | '2';
  features: CgroupFeatures;
  ipv4Forwarding: boolean;
  bridgeNfIptables: boolean;
  bridgeNfIp6tables: boolean;
}

export function infoWarnings(f: InfoFacts): string[] {
  const w: string[] = [];
  const v2 = f.cgroupVersion === '2';
  const no = (missing: boolean, what: string) => missing && w.push(`WARNING: No ${what} support`);
  if (f.cgroupDriver === 'none') {
    w.push(
      v2
        ? 'WARNING: Running in rootless-mode without cgroups. Systemd is required to enable cgroups in rootless-mode.'
        : 'WARNING: Running in rootless-mode without cgroups. To enable cgroups in rootless-mode, you need to boot the system in cgroup v2 mode.',
    );
  } else {
    const c = f.features;
    no(!c.memoryLimit, 'memory limit');
    no(!c.swapLimit, 'swap limit');
    // v2 has neither; dockerd warns only where the user could do something about it.
    no(!c.kernelMemoryTCP && !v2, 'kernel memory TCP limit');
    no(!c.oomKillDisable && !v2, 'oom kill disable');
    no(!c.cpuCfsQuota, 'cpu cfs quota');
    no(!c.cpuCfsPeriod, 'cpu cfs period');
    no(!c.cpuShares, 'cpu shares');
    no(!c.cpuset, 'cpuset');
    // v1 lost the blkio weight in kernel 5.0: dockerd warns of it on v2 only.
    no(!c.blkioWeight && v2, 'io.weight');
    no(!c.blkioWeightDevice && v2, 'io.weight (per device)');
    for (const [v1name, v2name] of [
      ['read_bps_device', 'rbps'],
      ['write_bps_device', 'wbps'],
      ['read_iops_device', 'riops'],
      ['write_iops_device', 'wiops'],
    ])
      no(!c.blkioThrottle, v2 ? `io.max (${v2name})` : `blkio throttle.${v1name}`);
  }
  if (!f.ipv4Forwarding) w.push('WARNING: IPv4 forwarding is disabled');
  if (!f.bridgeNfIptables) w.push('WARNING: bridge-nf-call-iptables is disabled');
  if (!f.bridgeNfIp6tables) w.push('WARNING: bridge-nf-call-ip6tables is disabled');
  return w;
}
