// The values of docker's flags as its CLI reads them (pflag's types and docker's opts): integers,
// sizes, CPU counts, host entries, addresses, ulimits, devices, port ranges. Each parser returns
// what the API takes or throws an Error whose message is docker's reason, which the flag parser
// prints as `invalid argument "V" for "--flag" flag: reason`. Pure.

import { isIP } from 'node:net';
import { IPC_SYSCTLS } from '../common/sysctl.js';

/** Go's strconv.ParseInt(v, 10, bits). */
export function int(v: string, bits = 64): number {
  if (!/^[+-]?\d+$/.test(v)) throw new Error(`strconv.ParseInt: parsing "${v}": invalid syntax`);
  const n = BigInt(v),
    lim = 1n << BigInt(bits - 1);
  if (n >= lim || n < -lim) throw new Error(`strconv.ParseInt: parsing "${v}": value out of range`);
  return Number(n);
}

/** Go's strconv.ParseUint(v, 10, bits). */
export function uint(v: string, bits = 64): number {
  if (!/^\+?\d+$/.test(v)) throw new Error(`strconv.ParseUint: parsing "${v}": invalid syntax`);
  if (BigInt(v) >= 1n << BigInt(bits)) throw new Error(`strconv.ParseUint: parsing "${v}": value out of range`);
  return Number(v);
}

const BINARY: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units' RAMInBytes (`--memory 64m`, `--shm-size 1g`): binary units, `b`/`ib` after the letter allowed. */
export function ramBytes(v: string): number {
  const sep = Math.max(...[...'0123456789. '].map((c) => v.lastIndexOf(c)));
  if (sep < 0) throw new Error(`invalid size: '${v}'`);
  const num = v.slice(0, sep + 1),
    suffix = v.slice(sep + 1).toLowerCase();
  if (
    suffix.length > 3 ||
    !(suffix[0] === undefined || suffix[0] in BINARY) ||
    !['', 'b', 'ib'].includes(suffix.slice(1)) ||
    (suffix[0] === 'b' && suffix.length > 1)
  ) {
    throw new Error(`invalid suffix: '${v.slice(sep + 1)}'`);
  }
  const n = Number(num.trim());
  if (!/^\s*-?(\d+\.?\d*|\.\d+)\s*$/.test(num) || Number.isNaN(n))
    throw new Error(`strconv.ParseFloat: parsing "${num.trim()}": invalid syntax`);
  if (n < 0) throw new Error(`invalid size: '${v}'`);
  return Math.trunc(n * BINARY[suffix[0] ?? '']);
}

/** docker's NanoCPUs (`--cpus 1.5`, `1/2`): a rational number of CPUs, in whole nanoCPUs. */
export function nanoCpus(v: string): number {
  let value: number;
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(v);
  if (frac && Number(frac[2]) !== 0) value = Number(frac[1]) / Number(frac[2]);
  else if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) value = Number(v);
  else throw new Error(`failed to parse ${v} as a rational number`);
  const nano = value * 1e9;
  if (Math.abs(nano - Math.round(nano)) > 1e-6) throw new Error('value is too precise');
  return Math.round(nano);
}

/** docker's ValidateExtraHost: `name:ip` or `name=ip`, the IP maybe in brackets, or `host-gateway`. */
export function extraHost(v: string): string {
  const eq = v.indexOf('=');
  const i = eq > 0 ? eq : v.indexOf(':');
  if (i < 1 || i === v.length - 1) throw new Error(`bad format for add-host: "${v}"`);
  const name = v.slice(0, i);
  let ip = v.slice(i + 1);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== 'host-gateway' && !isIP(ip)) throw new Error(`invalid IP address in add-host: "${v.slice(i + 1)}"`);
  return `${name}:${ip}`;
}

/** An IP address (`--dns`, `--ip`). */
export function ipAddress(v: string): string {
  if (!isIP(v)) throw new Error(`IP address is not correctly formatted: ${v}`);
  return v;
}

/** `-e`: docker's ValidateEnv — a name is required. */
export function envVar(v: string): string {
  if (v === '' || v.startsWith('=')) throw new Error(`invalid environment variable: ${v}`);
  return v;
}

/** `-l`: a label needs a name. */
export function label(v: string): string {
  if (v === '' || v.startsWith('=')) throw new Error(`invalid label '${v}': empty name`);
  return v;
}

/** docker's ulimit: `name=soft[:hard]`. */
export function ulimit(v: string): { Name: string; Soft: number; Hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v);
  if (!m) throw new Error(`invalid ulimit argument: ${v}`);
  const soft = Number(m[2]),
    hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: m[1], Soft: soft, Hard: hard };
}

/** `key=value` (--sysctl, --annotation, --storage-opt): the reason when it is not. */
export function keyValue(v: string, reason: string): [string, string] {
  const i = v.indexOf('=');
  if (i < 1) throw new Error(reason);
  return [v.slice(0, i), v.slice(i + 1)];
}

/** `--device /dev/x[:/dev/y][:rwm]`: the API's DeviceMapping. */
export function device(v: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = v.split(':');
  const perms = (s: string | undefined) => s !== undefined && /^[rwm]{1,3}$/.test(s);
  let host = parts[0],
    dest = parts[0],
    mode = 'rwm';
  if (parts.length === 2) {
    if (perms(parts[1])) mode = parts[1];
    else dest = parts[1];
  } else if (parts.length === 3) {
    if (!perms(parts[2])) throw new Error(`bad mode specified: ${parts[2]}`);
    dest = parts[1];
    mode = parts[2];
  } else if (parts.length > 3) throw new Error(`invalid device specification: ${v}`);
  if (!host.startsWith('/')) throw new Error(`${v} is not an absolute path`);
  if (!dest.startsWith('/')) throw new Error(`bad format for path: ${dest}`);
  host = host.replace(/\/+$/, '') || '/';
  return { PathOnHost: host, PathInContainer: dest, CgroupPermissions: mode };
}

/** `--device-cgroup-rule 'c 1:3 mr'`. */
export function deviceCgroupRule(v: string): string {
  if (!/^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.test(v)) throw new Error(`invalid device cgroup format '${v}'`);
  return v;
}

/** `--blkio-weight-device /dev/sda:200`. */
export function weightDevice(v: string): { Path: string; Weight: number } {
  const i = v.lastIndexOf(':');
  if (i < 1 || !v.startsWith('/dev/')) throw new Error(`bad format: ${v}`);
  const w = Number(v.slice(i + 1));
  if (!/^\d+$/.test(v.slice(i + 1)) || (w !== 0 && (w < 10 || w > 1000))) throw new Error(`invalid weight for device: ${v}`);
  return { Path: v.slice(0, i), Weight: w };
}

/** `--device-read-bps /dev/sda:1mb` (bytes) or `--device-read-iops /dev/sda:1000`. */
export function throttleDevice(v: string, iops: boolean): { Path: string; Rate: number } {
  const i = v.lastIndexOf(':');
  if (i < 1 || !v.startsWith('/dev/')) throw new Error(`bad format: ${v}`);
  const rate = v.slice(i + 1);
  if (iops) {
    if (!/^\d+$/.test(rate))
      throw new Error(`invalid rate for device: ${v}. The correct format is <device-path>:<number>. Number must be a positive integer`);
    return { Path: v.slice(0, i), Rate: Number(rate) };
  }
  try {
    return { Path: v.slice(0, i), Rate: ramBytes(rate) };
  } catch {
    throw new Error(
      `invalid rate for device: ${v}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`,
    );
  }
}

/** `--mac-address`. */
export function macAddress(v: string): string {
  if (!/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(v)) throw new Error(`${v} is not a valid mac address`);
  return v;
}

/** docker's ValidateSysctl: `key=value` for a namespaced sysctl (IPC's kernel.*, fs.mqueue.*, net.*). */
export function sysctl(v: string): [string, string] {
  const i = v.indexOf('=');
  const key = v.slice(0, i);
  if (i < 1 || !(IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.') || key.startsWith('net.')))
    throw new Error(`sysctl '${v}' is not allowed`);
  return [key, v.slice(i + 1)];
}

/** `--link name[:alias]`, as the docker CLI checks it (an empty name or alias is the daemon's to refuse). */
export function link(v: string): string {
  if (!v) throw new Error('empty string specified for links');
  if (v.split(':').length > 2) throw new Error(`bad format for links: ${v}`);
  return v;
}

/** `--gpus all|N|device=0,1|count=N,capabilities=…,driver=…`: the API's DeviceRequests entry. */
export function gpus(v: string): {
  Driver: string;
  Count: number;
  DeviceIDs: string[] | null;
  Capabilities: string[][];
  Options: Record<string, string>;
} {
  const req = { Driver: '', Count: 0, DeviceIDs: null as string[] | null, Capabilities: [['gpu']], Options: {} as Record<string, string> };
  const count = (c: string) => {
    if (c === 'all') return -1;
    if (!/^\d+$/.test(c)) throw new Error(`invalid count (${c}): value must be either "all" or an integer: invalid syntax`);
    return Number(c);
  };
  for (const field of v.match(/("[^"]*"|[^,])+/g) ?? []) {
    const f = field.replace(/^"|"$/g, '');
    const eq = f.indexOf('=');
    if (eq < 0) {
      req.Count = count(f);
      continue;
    }
    const [k, val] = [f.slice(0, eq), f.slice(eq + 1)];
    if (k === 'count') req.Count = count(val);
    else if (k === 'device') req.DeviceIDs = val.split(',');
    else if (k === 'driver') req.Driver = val;
    else if (k === 'capabilities') req.Capabilities = [val.split(',')];
    else if (k === 'options') {
      const [ok, ov = ''] = val.split('=');
      req.Options[ok] = ov;
    } else throw new Error(`unexpected key '${k}' in '${f}'`);
  }
  return req;
}

/** `--stop-signal`, `--pid`, `--uts`, `--ipc`, `--userns`, `--cgroupns` modes the docker CLI checks itself. */
export const MODES = {
  pid: (v: string) => {
    if (v && v !== 'host' && !v.startsWith('container:')) throw new Error('--pid: invalid PID mode');
  },
  uts: (v: string) => {
    if (v && v !== 'host') throw new Error('--uts: invalid UTS mode');
  },
  userns: (v: string) => {
    // `auto` is podman's (a range of its own under --userns-remap); the docker CLI has only host.
    if (v && v !== 'host' && v !== 'auto') throw new Error('--userns: invalid USER mode');
  },
  cgroupns: (v: string) => {
    if (v && v !== 'host' && v !== 'private') throw new Error('--cgroupns: invalid CGROUP mode');
  },
};

/** Whether `v` is an IP address. */
export const ipAddressOk = (v: string) => isIP(v) !== 0;

/**
 * `--platform os[/arch[/variant]]` as the JSON OCI platform the API takes from 1.46 on (the docker
 * CLI's encoding); a lone part is an architecture of linux, as containerd's platforms.Parse reads
 * it. berthd normalizes the names (`x86_64`, `aarch64`).
 */
export function platformJSON(v: string): string {
  const parts = v.split('/');
  if (parts.length > 3 || parts.some((p) => !p)) throw new Error(`"${v}": unknown operating system or architecture: invalid argument`);
  const [os, architecture, variant] = parts.length === 1 ? ['linux', parts[0]] : parts;
  return JSON.stringify({ os, architecture, ...(variant ? { variant } : {}) });
}
