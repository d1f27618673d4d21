// Host devices a container is given (`--device`, HostConfig.Devices) and the device cgroup
// rules it is allowed more (`--device-cgroup-rule`, DeviceCgroupRules), as dockerd makes them:
// each device node is made in the container's /dev with the host node's numbers, mode and
// owner, and allowed in the devices cgroup with its permissions; a folder gives every device
// under it. Checked at create with dockerd's words, so a refusal leaves no container.

import { realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { invalid } from '../errors.js';
import type { LinuxDevice, LinuxDeviceCgroup, Spec } from '../oci/runtime-spec.js';
import { deviceNode, hostDevices } from './security.js';
import type { DeviceMapping, HostConfig } from './types.js';

const RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

/** One device cgroup rule (`c 1:3 rwm`, `a *:* rwm`) in OCI's terms; dockerd's error when malformed. */
export function parseCgroupRule(rule: string): LinuxDeviceCgroup {
  const m = RULE.exec(rule);
  if (!m) throw invalid(`invalid device cgroup rule format: '${rule}'`);
  const num = (s: string) => (s === '*' ? undefined : Number(s));
  return {
    allow: true,
    type: m[1],
    ...(num(m[2]) !== undefined ? { major: num(m[2]) } : {}),
    ...(num(m[3]) !== undefined ? { minor: num(m[3]) } : {}),
    access: m[4],
  };
}

/** The fields of a create request's HostConfig (decoded by the API server); defaults filled as dockerd's CLI would. */
export function devicesHostConfig(hc: Record<string, any>): Pick<HostConfig, 'Devices' | 'DeviceCgroupRules'> {
  const out: Pick<HostConfig, 'Devices' | 'DeviceCgroupRules'> = {};
  if (hc.Devices?.length) {
    out.Devices = hc.Devices.map((d: Partial<DeviceMapping>) => ({
      PathOnHost: d.PathOnHost ?? '',
      PathInContainer: d.PathInContainer || d.PathOnHost || '',
      CgroupPermissions: d.CgroupPermissions || 'rwm',
    }));
  }
  if (hc.DeviceCgroupRules?.length) out.DeviceCgroupRules = [...hc.DeviceCgroupRules];
  return out;
}

/** The device nodes one mapping makes: the node itself, or every node under a folder. */
function devicesOf(d: DeviceMapping): LinuxDevice[] {
  const fail = (why: string) =>
    invalid(`error gathering device information while adding custom device ${JSON.stringify(d.PathOnHost)}: ${why}`);
  if (!/^[rwm]{1,3}$/.test(d.CgroupPermissions)) throw invalid(`invalid device mode: ${d.CgroupPermissions}`);
  if (!posix.isAbsolute(d.PathInContainer)) throw invalid(`${d.PathInContainer} is not an absolute path`);
  let host: string;
  try {
    host = realpathSync(d.PathOnHost);
  } catch (e) {
    throw fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message);
  }
  const st = statSync(host);
  if (st.isDirectory()) {
    const found = hostDevices(host);
    if (!found.length) throw fail('no device nodes found');
    return found.map((x) => ({ ...x, path: posix.join(d.PathInContainer, posix.relative(host, x.path)) }));
  }
  const node = deviceNode(d.PathInContainer, st);
  if (!node) throw fail('not a device node');
  return [node];
}

/** Checks the devices and rules as dockerd does at create; returns what the spec gets. */
export function planDevices(hc: Pick<HostConfig, 'Devices' | 'DeviceCgroupRules'>): { devices: LinuxDevice[]; allow: LinuxDeviceCgroup[] } {
  const devices: LinuxDevice[] = [];
  const allow: LinuxDeviceCgroup[] = [];
  for (const d of hc.Devices ?? []) {
    for (const n of devicesOf(d)) {
      devices.push(n);
      allow.push({ allow: true, type: n.type, major: n.major, minor: n.minor, access: d.CgroupPermissions });
    }
  }
  for (const r of hc.DeviceCgroupRules ?? []) allow.push(parseCgroupRule(r));
  return { devices, allow };
}

/** Adds the devices and their cgroup rules to a spec (after Docker's default deny-all rule). */
export function applyDevices(spec: Spec, hc: Pick<HostConfig, 'Devices' | 'DeviceCgroupRules'>): Spec {
  const { devices, allow } = planDevices(hc);
  if (!devices.length && !allow.length) return spec;
  const linux = (spec.linux ??= {});
  linux.devices = [...(linux.devices ?? []).filter((x) => !devices.some((n) => n.path === x.path)), ...devices];
  const res = (linux.resources ??= {});
  res.devices = [...(res.devices ?? []), ...allow];
  return spec;
}
