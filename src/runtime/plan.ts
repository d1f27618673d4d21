// Turns a validated spec into the plan that native/berth-nsexec carries out: every decision
// (mount flags, devices, capability masks, seccomp bytes, hooks) is made here, in pure code
// that unit tests can read. Nothing here touches the system.
import { isAbsolute, join, posix } from 'node:path';
import { sysctlNamespace } from '../common/sysctl.js';
import { invalid, unsupported } from '../errors.js';
import type { Hook, Mount, Namespace, Spec } from '../oci/runtime-spec.js';
import { capSets } from './capabilities.js';
import { MS, parseMountOptions } from './mount-options.js';
import { CLONE_FLAGS } from './namespaces.js';
import { Op, rec, type Record_ } from './native/protocol.js';
import { RLIMITS } from './rlimits.js';

export interface PlanInput {
  mode: 'create' | 'run' | 'exec';
  /** The helper stays the process's parent and exits with its status. */
  foreground: boolean;
  spec: Spec;
  rootfs: string;
  consoleSocket?: string;
  execFifo?: string;
  preserveFds?: number;
  noPivot?: boolean;
  /** exec: the namespaces of the container's init, joined by path. */
  join?: Namespace[];
  /** Records for a `cgroup` mount: they depend on the machine's cgroup layout. */
  cgroupMount?: (m: Mount) => Record_[];
  seccomp?: { program: Buffer; flags: number };
  /** Told what the runtime accepts but ignores, as runc warns (an unknown capability). */
  warn?: (message: string) => void;
}

const DEFAULT_DEVICES: [string, number, number][] = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
];

const PERSONALITY_DOMAINS: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

function idMap(maps: { containerID: number; hostID: number; size: number }[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

function hookRecord(kind: 1 | 2, h: Hook): Record_ {
  if (!isAbsolute(h.path)) throw invalid(`hook path ${JSON.stringify(h.path)} is not absolute`);
  return rec(Op.Hook, kind, h.path, h.timeout ?? 0, ...(h.args ?? []).map((a) => `a:${a}`), ...(h.env ?? []).map((e) => `e:${e}`));
}

function newNamespaces(spec: Spec): Set<string> {
  return new Set((spec.linux?.namespaces ?? []).filter((n) => !n.path).map((n) => n.type));
}

function mountRecords(m: Mount, input: PlanInput): Record_[] {
  if (!isAbsolute(m.destination)) throw invalid(`mount destination ${JSON.stringify(m.destination)} is not absolute`);
  const dest = posix.normalize(m.destination);
  const o = parseMountOptions(m.options);
  if (m.uidMappings || m.gidMappings) throw unsupported(`idmapped mount of ${dest} is not supported by berth-runtime`);
  if (m.type === 'cgroup' && !o.bind) {
    if (!input.cgroupMount) throw unsupported('cgroup mounts need the cgroup layout');
    return input.cgroupMount({ ...m, destination: dest });
  }
  const bind = o.bind || m.type === 'bind';
  const source = m.source ?? '';
  if (bind && !isAbsolute(source)) throw invalid(`bind mount source ${JSON.stringify(source)} of ${dest} is not absolute`);
  const flags = bind ? o.flags | MS.BIND : o.flags;
  return [
    rec(Op.Mount, source, dest, bind ? '' : (m.type ?? ''), flags, o.propagation, o.data, bind ? 1 : 0, o.recursiveSet, o.recursiveClear),
  ];
}

function processRecords(input: PlanInput): Record_[] {
  const p = input.spec.process;
  if (!p) throw invalid('config has no process');
  if (!p.args?.length) throw invalid('process.args must not be empty');
  if (!p.cwd || !isAbsolute(p.cwd)) throw invalid(`process.cwd ${JSON.stringify(p.cwd)} must be an absolute path`);
  if (p.apparmorProfile) throw unsupported('apparmor is not enabled on this system');
  if (p.selinuxLabel) throw unsupported('selinux is not enabled on this system');
  if (p.commandLine) throw unsupported('process.commandLine is for Windows');
  if (p.ioPriority) throw unsupported('process.ioPriority is not supported by berth-runtime yet');
  if (p.scheduler) throw unsupported('process.scheduler is not supported by berth-runtime yet');
  if (p.execCPUAffinity) throw unsupported('process.execCPUAffinity is not supported by berth-runtime yet');
  const out: Record_[] = [];
  if (p.terminal) out.push(rec(Op.Terminal, p.consoleSize?.height ?? 0, p.consoleSize?.width ?? 0));
  else if (input.consoleSocket) throw invalid('cannot use a console socket when process.terminal is false (no terminal is allocated)');
  const rlimits: unknown = p.rlimits ?? [];
  if (!Array.isArray(rlimits)) throw invalid('process.rlimits must be an array');
  for (const r of rlimits as NonNullable<typeof p.rlimits>) {
    if (typeof r !== 'object' || r === null || typeof r.type !== 'string')
      throw invalid(`process.rlimits: ${JSON.stringify(r)} needs a type that is a string`);
    const n = RLIMITS[r.type];
    if (n === undefined) throw invalid(`wrong rlimit value: ${r.type}`); // runc's words
    if (!Number.isInteger(r.soft) || !Number.isInteger(r.hard)) throw invalid(`${r.type}: soft and hard must be integers`);
    out.push(rec(Op.Rlimit, n, BigInt.asUintN(64, BigInt(r.soft)), BigInt.asUintN(64, BigInt(r.hard))));
  }
  if (p.oomScoreAdj !== undefined) out.push(rec(Op.OomScoreAdj, p.oomScoreAdj));
  if (p.capabilities) {
    const { masks, ignored } = capSets(p.capabilities);
    // runc goes on without them, and says so.
    if (ignored.length) input.warn?.(`ignoring unknown or unavailable capabilities: [${ignored.join(' ')}]`);
    out.push(rec(Op.Caps, ...masks));
  }
  const u = p.user ?? { uid: 0, gid: 0 };
  out.push(rec(Op.User, u.uid, u.gid, (u.additionalGids ?? []).join(',')));
  // Unset, the umask is runc's 0022, not whatever the caller of the runtime had.
  out.push(rec(Op.Umask, (u.umask ?? 0o022).toString(8)));
  if (p.noNewPrivileges) out.push(rec(Op.NoNewPrivs));
  if (input.seccomp) out.push(rec(Op.Seccomp, input.seccomp.flags, input.seccomp.program.toString('hex')));
  out.push(rec(Op.Cwd, p.cwd));
  for (const e of p.env ?? []) out.push(rec(Op.Env, e));
  for (const a of p.args) out.push(rec(Op.Arg, a));
  return out;
}

function containerRecords(input: PlanInput): Record_[] {
  const { spec } = input;
  const linux = spec.linux ?? {};
  const out: Record_[] = [];
  const created = newNamespaces(spec);
  let flags = 0;
  const seen = new Set<string>();
  for (const ns of linux.namespaces ?? []) {
    if (!(ns.type in CLONE_FLAGS)) throw invalid(`unknown namespace type ${JSON.stringify(ns.type)}`);
    if (seen.has(ns.type)) throw invalid(`namespace ${ns.type} is given twice`);
    seen.add(ns.type);
    if (ns.path) out.push(rec(Op.NsJoin, CLONE_FLAGS[ns.type], ns.path));
    else flags |= CLONE_FLAGS[ns.type];
  }
  out.push(rec(Op.NsClone, flags));

  if (created.has('user')) {
    if (!linux.uidMappings?.length || !linux.gidMappings?.length) throw invalid('a new user namespace needs uidMappings and gidMappings');
    out.push(rec(Op.UidMap, idMap(linux.uidMappings)), rec(Op.GidMap, idMap(linux.gidMappings)));
  } else if (linux.uidMappings?.length || linux.gidMappings?.length) {
    if (!seen.has('user')) throw invalid('uidMappings and gidMappings need a user namespace');
  }
  if (linux.timeOffsets && Object.keys(linux.timeOffsets).length) {
    if (!created.has('time')) throw invalid('timeOffsets need a new time namespace');
    for (const [clock, o] of Object.entries(linux.timeOffsets)) out.push(rec(Op.TimeOffset, clock, o.secs ?? 0, o.nanosecs ?? 0));
  }
  // A uts namespace joined by path takes the names too (as runc sets them).
  if (spec.hostname && !seen.has('uts')) throw invalid('unable to set hostname without a private UTS namespace');
  if (spec.domainname && !seen.has('uts')) throw invalid('unable to set domainname without a private UTS namespace');
  if (!seen.has('mount')) {
    // The container shares the caller's mount namespace: its mounts are made there, under its
    // root, which it chroots into (as runc). What would change mounts outside the root is refused.
    if (linux.maskedPaths?.length || linux.readonlyPaths?.length)
      throw invalid('unable to restrict sys entries without a private MNT namespace');
    if (spec.root?.readonly) throw invalid('a read-only root needs a mount namespace of its own');
    if (linux.rootfsPropagation) throw invalid('rootfsPropagation needs a mount namespace of its own');
    if (input.noPivot) throw invalid('--no-pivot needs a mount namespace of its own');
  }

  out.push(rec(Op.Rootfs, input.rootfs));
  if (input.noPivot) out.push(rec(Op.NoPivot));
  if (spec.root?.readonly) out.push(rec(Op.RootReadonly));
  if (linux.rootfsPropagation) {
    const o = parseMountOptions([linux.rootfsPropagation]);
    if (!o.propagation) throw invalid(`rootfsPropagation ${JSON.stringify(linux.rootfsPropagation)} is not a propagation type`);
    out.push(rec(Op.RootfsPropagation, o.propagation));
  }
  const mounts = spec.mounts ?? [];
  for (const m of mounts) out.push(...mountRecords(m, input));

  const devBind = mounts.some((m) => posix.normalize(m.destination) === '/dev' && parseMountOptions(m.options).bind);
  if (!devBind) {
    const devices = new Map<string, Record_>();
    for (const [path, major, minor] of DEFAULT_DEVICES) devices.set(path, rec(Op.Device, path, 'c', major, minor, 0o666, 0, 0));
    for (const d of linux.devices ?? []) {
      if (!isAbsolute(d.path)) throw invalid(`device path ${JSON.stringify(d.path)} is not absolute`);
      const type = d.type === 'u' ? 'c' : d.type;
      if (!['c', 'b', 'p'].includes(type)) throw invalid(`device ${d.path} has unknown type ${JSON.stringify(d.type)}`);
      if (type !== 'p' && (d.major === undefined || d.minor === undefined)) throw invalid(`device ${d.path} needs major and minor numbers`);
      devices.set(d.path, rec(Op.Device, d.path, type, d.major ?? 0, d.minor ?? 0, d.fileMode ?? 0o666, d.uid ?? 0, d.gid ?? 0));
    }
    out.push(...devices.values());
    const links: [string, string][] = [
      ['/proc/self/fd', '/dev/fd'],
      ['/proc/self/fd/0', '/dev/stdin'],
      ['/proc/self/fd/1', '/dev/stdout'],
      ['/proc/self/fd/2', '/dev/stderr'],
      ['/proc/kcore', '/dev/core'],
    ];
    if (mounts.some((m) => posix.normalize(m.destination) === '/dev/pts')) links.push(['pts/ptmx', '/dev/ptmx']);
    for (const [target, link] of links) out.push(rec(Op.Symlink, target, link));
  }
  for (const p of linux.maskedPaths ?? []) out.push(rec(Op.Mask, p));
  for (const p of linux.readonlyPaths ?? []) out.push(rec(Op.Readonly, p));
  if (spec.hostname) out.push(rec(Op.Hostname, spec.hostname));
  if (spec.domainname) out.push(rec(Op.Domainname, spec.domainname));
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    const ns = sysctlNamespace(key);
    if (!ns) throw invalid(`sysctl ${JSON.stringify(key)} is not in a separate kernel namespace`);
    if (!created.has(ns) && !seen.has(ns)) throw invalid(`sysctl ${JSON.stringify(key)} is not allowed without a ${ns} namespace`);
    out.push(rec(Op.Sysctl, key, value));
  }
  if (linux.personality) {
    const domain = PERSONALITY_DOMAINS[linux.personality.domain];
    if (domain === undefined) throw invalid(`unknown personality domain ${JSON.stringify(linux.personality.domain)}`);
    if (linux.personality.flags?.length) throw unsupported('personality flags are not supported by berth-runtime');
    out.push(rec(Op.Personality, domain));
  }
  if (linux.intelRdt) throw unsupported('intelRdt is not supported by berth-runtime');
  if (linux.mountLabel) throw unsupported('selinux is not enabled on this system');
  for (const h of spec.hooks?.createContainer ?? []) out.push(hookRecord(1, h));
  for (const h of spec.hooks?.startContainer ?? []) out.push(hookRecord(2, h));
  return out;
}

export function buildPlan(input: PlanInput): Record_[] {
  const out: Record_[] = [rec(Op.Mode, input.mode, input.foreground ? 1 : 0)];
  if (input.mode === 'exec') {
    for (const ns of input.join ?? []) out.push(rec(Op.NsJoin, CLONE_FLAGS[ns.type], ns.path!));
    out.push(rec(Op.NsClone, 0));
  } else {
    out.push(...containerRecords(input));
  }
  if (input.consoleSocket) out.push(rec(Op.ConsoleSocket, input.consoleSocket));
  if (input.execFifo) out.push(rec(Op.ExecFifo, input.execFifo));
  if (input.preserveFds) out.push(rec(Op.PreserveFds, input.preserveFds));
  out.push(...processRecords(input));
  out.push(rec(Op.End));
  return out;
}

/** The root file system's absolute path, from the bundle and `root.path`. */
export function rootfsPath(bundle: string, spec: Spec): string {
  if (!spec.root?.path) throw invalid('config has no root.path');
  return isAbsolute(spec.root.path) ? spec.root.path : join(bundle, spec.root.path);
}
