// A container's security settings from its HostConfig, as Docker decides them: the capability
// set (default, --cap-add/--cap-drop, --privileged), the seccomp profile (Docker's default,
// unconfined, or the profile the client sent), no_new_privs, the masked and read-only /proc
// paths, a read-only root, and --init (tmpfs mounts are engine/mounts.ts's). Pure: it edits
// the OCI spec that spec.ts built and never touches the kernel; a setting berth cannot honour
// is an `invalid` error.

import { existsSync, lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { invalid } from '../errors.js';
import type { LinuxDevice, Spec } from '../oci/runtime-spec.js';
import { CAPABILITIES, kernelLastCap } from '../runtime/capabilities.js';
import { defaultSeccomp, resolveProfile, type DockerSeccompProfile } from './seccomp-default.js';
import type { HostConfig } from './types.js';

/** Docker's default capability set (moby's oci/caps/defaults.go). */
export const DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

let bounding: bigint | undefined;
/** berthd's own bounding set: a container can get no capability the daemon lacks. */
function ownBounding(): bigint {
  if (bounding === undefined) {
    try {
      bounding = BigInt('0x' + /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    } catch {
      bounding = -1n;
    }
  }
  return bounding;
}

/**
 * Every capability this kernel knows and berthd holds (what --privileged and --cap-add ALL
 * give; dockerd, which holds all, gives all the kernel knows).
 */
export function allCaps(last = kernelLastCap(), held = ownBounding()): string[] {
  return CAPABILITIES.slice(0, last + 1).filter((_, bit) => (held >> BigInt(bit)) & 1n);
}

/** `net_raw`, `NET_RAW`, `CAP_NET_RAW` → `CAP_NET_RAW`; `ALL` stays; an unknown name is an error. */
export function normalizeCap(name: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const cap = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!(CAPABILITIES as readonly string[]).includes(cap)) throw invalid(`unknown capability: ${JSON.stringify(cap)}`);
  return cap;
}

/** The container's capabilities as moby's TweakCapabilities works them out. */
export function resolveCaps(hc: Pick<HostConfig, 'Privileged' | 'CapAdd' | 'CapDrop'>, all = allCaps()): string[] {
  if (hc.Privileged) return all;
  const adds = (hc.CapAdd ?? []).map(normalizeCap);
  const drops = (hc.CapDrop ?? []).map(normalizeCap);
  if (!adds.length && !drops.length) return [...DEFAULT_CAPS];
  const known = (c: string) => all.includes(c);
  let caps: string[];
  if (adds.includes('ALL')) caps = all.filter((c) => !drops.includes(c));
  else if (drops.includes('ALL')) caps = adds;
  else caps = [...DEFAULT_CAPS.filter((c) => !drops.includes(c)), ...adds];
  // A cap this kernel lacks is dropped, as the runtime would.
  return [...new Set(caps)].filter(known);
}

/** What `SecurityOpt` asks for. */
export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** 'default' (Docker's profile), 'unconfined', or the profile the client sent. */
  seccomp: 'default' | 'unconfined' | DockerSeccompProfile;
}

/**
 * Parses `SecurityOpt` as dockerd does: `no-new-privileges[=|:bool]`, `seccomp=unconfined|builtin|<JSON>`,
 * `apparmor=…`, `label=…` (`key:value` still accepted). berth has no LSM: only
 * `apparmor=unconfined` and `label=disable` pass; other apparmor/label options are refused.
 */
export function parseSecurityOpt(opts: string[] | null | undefined): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, seccomp: 'default' };
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') continue; // label=disable, in its oldest spelling
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : '';
    if (!sep) throw invalid(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const k = opt.slice(0, opt.indexOf(sep)),
      v = opt.slice(opt.indexOf(sep) + 1);
    switch (k) {
      case 'no-new-privileges': {
        const b = parseBool(v);
        if (b === undefined) throw invalid(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        out.noNewPrivileges = b;
        break;
      }
      case 'seccomp':
        if (v === 'unconfined' || v === 'builtin' || v === '') out.seccomp = v === 'unconfined' ? 'unconfined' : 'default';
        else {
          try {
            out.seccomp = JSON.parse(v) as DockerSeccompProfile;
          } catch (e) {
            throw invalid(
              `Decoding seccomp profile failed: ${(e as Error).message} (the docker CLI sends the file's JSON; berth takes no profile path)`,
            );
          }
          if (typeof out.seccomp !== 'object' || out.seccomp === null || Array.isArray(out.seccomp))
            throw invalid('Decoding seccomp profile failed: the profile must be a JSON object');
        }
        break;
      case 'apparmor':
        if (v !== 'unconfined')
          throw invalid(
            `apparmor profile ${JSON.stringify(v)}: berth runs no LSM (AppArmor is not supported); only apparmor=unconfined is accepted`,
          );
        break;
      case 'label':
        if (v !== 'disable')
          throw invalid(
            `label option ${JSON.stringify(v)}: berth runs no LSM (SELinux labels are not supported); only label=disable is accepted`,
          );
        break;
      default:
        throw invalid(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
  }
  return out;
}

function parseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) return false;
  return undefined;
}

/** /dev folders that are not devices of the host's own (each container gets its own). */
const SKIP_DEV = new Set(['/dev/pts', '/dev/shm', '/dev/fd', '/dev/mqueue', '/dev/.lxc', '/dev/.lxd-mounts', '/dev/.udev']);

/**
 * The host's device nodes under /dev, as --privileged gives them (runc's HostDevices): not
 * /dev/console, and not /dev/ptmx, which must stay the container's own devpts' ptmx.
 */
export function hostDevices(dir = '/dev'): LinuxDevice[] {
  const out: LinuxDevice[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const path = posix.join(dir, name);
    if (SKIP_DEV.has(path) || path === '/dev/console' || path === '/dev/ptmx') continue;
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      out.push(...hostDevices(path));
      continue;
    }
    const d = deviceNode(path, st);
    if (d) out.push(d);
  }
  return out;
}

/** The OCI device for a host node's stat, or undefined when it is no character or block device. */
export function deviceNode(path: string, st: Stats): LinuxDevice | undefined {
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return undefined;
  // glibc's major() and minor() of the 64-bit dev_t.
  const dev = BigInt(st.rdev);
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { path, type: st.isCharacterDevice() ? 'c' : 'b', major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** Where dockerd finds the init it binds at /sbin/docker-init (`--init`). */
const INIT_PATHS = [
  '/usr/libexec/docker/docker-init',
  '/usr/local/bin/docker-init',
  '/usr/bin/docker-init',
  '/usr/bin/tini-static',
  '/usr/bin/tini',
];
export const INIT_DEST = '/sbin/docker-init';

export function findInit(): string | undefined {
  return INIT_PATHS.find((p) => existsSync(p));
}

/**
 * What every container gets unless its HostConfig says otherwise, in `docker info`'s
 * `SecurityOptions` words (moby's fillSecurityOptions): Docker's seccomp profile, named
 * `builtin` as dockerd names it since 23.0, where the kernel has seccomp filters; `name=userns`
 * under `--userns-remap`; `name=rootless` for an ordinary user's berthd; and a private cgroup
 * namespace, spec.ts's default on cgroup v1 and v2 alike (dockerd's only on v2). berth applies no
 * AppArmor or SELinux profile and does not force no_new_privs, so it lists none of those.
 */
export function daemonSecurityOptions(
  daemon: { remapping?: boolean; rootless?: boolean } = {},
  seccompFilters = existsSync('/proc/sys/kernel/seccomp/actions_avail'),
): string[] {
  return [
    ...(seccompFilters ? ['name=seccomp,profile=builtin'] : []),
    ...(daemon.remapping ? ['name=userns'] : []),
    ...(daemon.rootless ? ['name=rootless'] : []),
    'name=cgroupns',
  ];
}

/** Checks what can be checked before the spec is built; throws `invalid` as dockerd would. */
export function checkSecurity(hc: HostConfig): void {
  resolveCaps(hc);
  parseSecurityOpt(hc.SecurityOpt);
  if (hc.Init && !findInit()) throw invalid('--init: no docker-init (tini) found on the host (looked in ' + INIT_PATHS.join(', ') + ')');
}

/**
 * Applies the HostConfig's security settings to a spec built with Docker's defaults (default
 * caps, masked and read-only paths, no seccomp yet) and returns it. `arch` is for tests.
 */
export function applySecurity(spec: Spec, hc: HostConfig, arch: string = process.arch): Spec {
  checkSecurity(hc);
  const caps = resolveCaps(hc);
  const sec = parseSecurityOpt(hc.SecurityOpt);
  const proc = spec.process!;
  const linux = (spec.linux ??= {});
  proc.capabilities = { bounding: [...caps], effective: [...caps], permitted: [...caps] };
  if (sec.noNewPrivileges) proc.noNewPrivileges = true;
  if (hc.Privileged) {
    linux.maskedPaths = [];
    linux.readonlyPaths = [];
    // /sys and the cgroup tree writable; every device allowed in the devices cgroup.
    for (const m of spec.mounts ?? [])
      if (m.destination === '/sys' || m.type === 'cgroup') m.options = (m.options ?? []).filter((o) => o !== 'ro');
    if (linux.resources) linux.resources.devices = [{ allow: true, access: 'rwm' }];
    linux.devices = [...(linux.devices ?? []), ...hostDevices().filter((d) => !linux.devices?.some((x) => x.path === d.path))];
  } else if (sec.seccomp !== 'unconfined') {
    const profile = sec.seccomp === 'default' ? defaultSeccomp(caps, arch) : resolveProfile(sec.seccomp, caps, { arch });
    if (profile) linux.seccomp = profile;
  }
  if (hc.ReadonlyRootfs && spec.root) spec.root.readonly = true;
  if (hc.Init) {
    const init = findInit()!;
    spec.mounts = [...(spec.mounts ?? []), { destination: INIT_DEST, type: 'bind', source: init, options: ['bind', 'ro'] }];
    proc.args = [INIT_DEST, '--', ...(proc.args ?? [])];
  }
  return spec;
}

/** The security fields of a create request's HostConfig, typed (Docker's null/absent → unset). */
export function securityHostConfig(hc: Record<string, any>): Partial<HostConfig> {
  const list = (v: unknown, what: string): string[] | undefined => {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw invalid(`HostConfig.${what} must be a list of strings`);
    return v.length ? v : undefined;
  };
  const out: Partial<HostConfig> = {};
  if (hc.Privileged) out.Privileged = true;
  if (hc.ReadonlyRootfs) out.ReadonlyRootfs = true;
  if (typeof hc.Init === 'boolean') out.Init = hc.Init; // false given shows as false, not given as null (dockerd's *bool)
  const add = list(hc.CapAdd, 'CapAdd'),
    drop = list(hc.CapDrop, 'CapDrop'),
    sec = list(hc.SecurityOpt, 'SecurityOpt');
  if (add) out.CapAdd = add;
  if (drop) out.CapDrop = drop;
  if (sec) out.SecurityOpt = sec;
  return out;
}
