// OCI device-cgroup rules, checked and normalized once for both device back ends: the v1
// devices.allow/deny writes (devices-v1.ts) and the v2 eBPF program (devices-ebpf.ts).
import type { LinuxDeviceCgroup, LinuxResources } from '../../oci/runtime-spec.js';
import { invalid } from '../../errors.js';
import { inUserNamespace } from '../../common/rootless.js';

/**
 * The device rules a runtime applies here: none in a user namespace (a rootless runtime with
 * delegated cgroups), as runc skips them there. v1's devices.allow/deny and v2's eBPF attach
 * need CAP_SYS_ADMIN in the host's user namespace, which nothing in another has; there the
 * kernel refuses mknod already, and the container's device nodes are the host's, bound with the
 * host's permissions.
 */
export function deviceRulesHere(r: LinuxResources): LinuxDeviceCgroup[] | undefined {
  return r.devices?.length && !inUserNamespace() ? r.devices : undefined;
}

/** Access bits, the values BPF_DEVCG_ACC_* use. */
export const ACC_MKNOD = 1;
export const ACC_READ = 2;
export const ACC_WRITE = 4;
export const ACC_ALL = 7;

export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  /** -1 = any */
  major: number;
  /** -1 = any */
  minor: number;
  /** ACC_* bits, never 0 */
  access: number;
}

export function accessBits(s: string | undefined, where: string): number {
  if (s === undefined || s === '') return ACC_ALL;
  let bits = 0;
  for (const ch of s) {
    if (ch === 'r') bits |= ACC_READ;
    else if (ch === 'w') bits |= ACC_WRITE;
    else if (ch === 'm') bits |= ACC_MKNOD;
    else throw invalid(`${where}: access ${JSON.stringify(s)} may hold only r, w and m`);
  }
  return bits;
}

export function accessString(bits: number): string {
  return (bits & ACC_READ ? 'r' : '') + (bits & ACC_WRITE ? 'w' : '') + (bits & ACC_MKNOD ? 'm' : '');
}

export function normalizeDeviceRules(rules: LinuxDeviceCgroup[]): DeviceRule[] {
  return rules.map((r, i) => {
    const where = `devices[${i}]`;
    if (typeof r.allow !== 'boolean') throw invalid(`${where}: allow must be true or false`);
    const type = r.type === undefined || r.type === '' ? 'a' : r.type;
    if (type !== 'a' && type !== 'c' && type !== 'b') throw invalid(`${where}: type ${JSON.stringify(r.type)} must be a, c or b`);
    const num = (v: number | null | undefined, name: string) => {
      if (v === undefined || v === null || v === -1) return -1;
      if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw invalid(`${where}: ${name} ${v} is not a device number`);
      return v;
    };
    return { allow: r.allow, type, major: num(r.major, 'major'), minor: num(r.minor, 'minor'), access: accessBits(r.access, where) };
  });
}

export function matchesEverything(r: DeviceRule): boolean {
  return r.type === 'a' && r.major === -1 && r.minor === -1 && r.access === ACC_ALL;
}
