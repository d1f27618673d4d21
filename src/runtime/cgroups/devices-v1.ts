// Device rules → cgroup v1 devices.allow / devices.deny writes. As runc's emulator does, the rules
// are played onto a model of the kernel's list (a default plus exceptions); a fresh cgroup gets a
// reset plus the exceptions, an update only the difference from devices.list. Pure.
import type { LinuxDeviceCgroup } from '../../oci/runtime-spec.js';
import type { CgroupWrite } from './fs.js';
import { type DeviceRule, accessBits, accessString, matchesEverything, normalizeDeviceRules } from './devices.js';

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

/**
 * devices.list → the kernel's state. With a default of allow the kernel lists only "a *:* rwm"
 * and hides its deny exceptions, so `exact` is false then.
 */
export function parseDevicesList(text: string): V1DeviceState & { exact: boolean } {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.includes('a *:* rwm')) return { defaultAllow: true, exceptions: [], exact: false };
  const exceptions: V1DeviceState['exceptions'] = [];
  for (const l of lines) {
    const m = /^([cb]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(l);
    if (!m) return { defaultAllow: false, exceptions: [], exact: false };
    exceptions.push({
      type: m[1] as 'c' | 'b',
      major: m[2] === '*' ? -1 : Number(m[2]),
      minor: m[3] === '*' ? -1 : Number(m[3]),
      access: accessBits(m[4], 'devices.list'),
    });
  }
  return { defaultAllow: false, exceptions, exact: true };
}

/**
 * The writes that bring a cgroup to `rules`. Given the current devices.list of a deny-by-default
 * cgroup, only the difference is written (added access first, then removed), so a running
 * container never loses a device it keeps; otherwise a reset and the full list.
 */
export function v1DeviceWrites(rules: LinuxDeviceCgroup[], currentList?: string): CgroupWrite[] {
  const st = emulateV1(normalizeDeviceRules(rules));
  const cur = currentList === undefined ? undefined : parseDevicesList(currentList);
  if (cur?.exact && !st.defaultAllow) {
    const key = (e: { type: string; major: number; minor: number }) => `${e.type} ${num(e.major)}:${num(e.minor)}`;
    const have = new Map(cur.exceptions.map((e) => [key(e), e.access]));
    const want = new Map(st.exceptions.map((e) => [key(e), e.access]));
    const out: CgroupWrite[] = [];
    for (const [k, acc] of want) {
      const add = acc & ~(have.get(k) ?? 0);
      if (add) out.push({ controller: 'devices', file: 'devices.allow', value: `${k} ${accessString(add)}`, field: 'devices' });
    }
    for (const [k, acc] of have) {
      const drop = acc & ~(want.get(k) ?? 0);
      if (drop) out.push({ controller: 'devices', file: 'devices.deny', value: `${k} ${accessString(drop)}`, field: 'devices' });
    }
    return out;
  }
  const out: CgroupWrite[] = [
    { controller: 'devices', file: st.defaultAllow ? 'devices.allow' : 'devices.deny', value: 'a', field: 'devices' },
  ];
  const file = st.defaultAllow ? 'devices.deny' : 'devices.allow';
  for (const e of st.exceptions) {
    out.push({
      controller: 'devices',
      file,
      value: `${e.type} ${num(e.major)}:${num(e.minor)} ${accessString(e.access)}`,
      field: 'devices',
    });
  }
  return out;
}
