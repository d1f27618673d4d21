// Device rules → cgroup v1 devices.allow / devices.deny writes. Like runc's emulator, the rules
// are first played onto a model of the kernel's list (a default plus exceptions), then the result
// is written as a reset ("a" to allow or deny) followed by the exceptions. Pure. (Unlike runc, an
// update of a running container's devices is not a minimal diff: access narrows for an instant.)
import type { LinuxDeviceCgroup } from '../../oci/runtime-spec.js';
import type { CgroupWrite } from './fs.js';
import { type DeviceRule, accessString, matchesEverything, normalizeDeviceRules } from './devices.js';

export interface V1DeviceState {
  defaultAllow: boolean;
  exceptions: { type: 'c' | 'b'; major: number; minor: number; access: number }[];
}

/** What the kernel's list looks like after the rules, starting from allow-all (a new cgroup's default). */
export function emulateV1(rules: DeviceRule[]): V1DeviceState {
  const st: V1DeviceState = { defaultAllow: true, exceptions: [] };
  for (const r of rules) {
    if (matchesEverything(r)) {
      st.defaultAllow = r.allow;
      st.exceptions = [];
      continue;
    }
    // The kernel reads "a" as a full reset whatever follows, so a narrower "a" rule is spelled out as c and b.
    const types: ('c' | 'b')[] = r.type === 'a' ? ['c', 'b'] : [r.type];
    for (const type of types) {
      const same = st.exceptions.find((e) => e.type === type && e.major === r.major && e.minor === r.minor);
      if (r.allow === st.defaultAllow) {
        // Same as the default: takes access away from a matching exception.
        if (same) {
          same.access &= ~r.access;
          if (same.access === 0) st.exceptions.splice(st.exceptions.indexOf(same), 1);
        }
      } else if (same) same.access |= r.access;
      else st.exceptions.push({ type, major: r.major, minor: r.minor, access: r.access });
    }
  }
  return st;
}

const num = (n: number) => (n === -1 ? '*' : String(n));

export function v1DeviceWrites(rules: LinuxDeviceCgroup[]): CgroupWrite[] {
  const st = emulateV1(normalizeDeviceRules(rules));
  const out: CgroupWrite[] = [
    { controller: 'devices', file: st.defaultAllow ? 'devices.allow' : 'devices.deny', value: 'a', field: 'devices' },
  ];
  const file = st.defaultAllow ? 'devices.deny' : 'devices.allow';
  for (const e of st.exceptions) {
    out.push({ controller: 'devices', file, value: `${e.type} ${num(e.major)}:${num(e.minor)} ${accessString(e.access)}`, field: 'devices' });
  }
  return out;
}
