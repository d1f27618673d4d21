// The one in-process native binding (native/binding/binding.c, built at `npm install`): system
// calls that are safe from a multithreaded process and that Node.js lacks. Loaded on first use,
// so a command that calls none of them never loads it. Thin and synchronous: no policy here;
// errors are Node-style (`code` 'ENOENT', `errno`, `syscall`, `path`, message
// `lsetxattr /x user.a: operation not supported`).

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemError } from '../errors.js';

interface Binding {
  lsetxattr(path: string, name: string, value: Uint8Array, flags: number): void;
  lgetxattr(path: string, name: string): Buffer;
  llistxattr(path: string): string[];
  lremovexattr(path: string, name: string): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null, cwd: string | null): void;
  umount2(target: string, flags: number): void;
  openInRoot(root: string, path: string, flags: number, beneath?: boolean): number;
  /** Missing from bindings built before it: callers fall back to child_process. */
  spawnDetached?(path: string, argv: string[], env: string[]): Promise<[number, number]>;
  reap?(pid: number): boolean;
  sealedCopy?(path: string, name: string): number;
  writeAtomic?(tmp: string, path: string, data: Uint8Array, mode: number, durable: boolean): Promise<void>;
  mountAsync?(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
    cwd: string | null,
  ): Promise<void>;
  umount2Async?(target: string, flags: number): Promise<void>;
  loopbackUp?(netns: string): Promise<void>;
  /** Missing from bindings built before them: see netlink(). */
  bridgeAttach?(
    netns: string,
    bridge: string,
    bridgeMac: string,
    host: string,
    ifName: string,
    mac: string,
    mtu: number,
    gateways: string[],
    addresses: string[],
    routes: string[],
    sysctls: string[],
  ): Promise<void>;
  setDefaultRoutes?(netns: string, routes: string[]): Promise<void>;
  linkDelete?(name: string, netns?: string | null): Promise<boolean>;
  subLinkAttach?(
    netns: string,
    kind: string,
    parent: string,
    mode: number,
    flags: number,
    ifName: string,
    mac: string | null,
    mtu: number,
    addresses: string[],
    routes: string[],
    sysctls: string[],
  ): Promise<void>;
  linkAdd?(kind: string, name: string, parent: string | null, vlanId: number): Promise<void>;
  conntrackDeleteUdp?(family: 4 | 6, ports: number[]): Promise<number>;
  dnsSockets?(netns: string, address: string, port: number): Promise<[number, number]>;
  idmappedOverlayAsync?(
    target: string,
    lowers: string[],
    upper: string | null,
    work: string | null,
    uidMap: string,
    gidMap: string,
  ): Promise<void>;
  prioritizeThread?(nice: number): void;
  runProgram?(path: string, argv: string[], env: string[], input: Uint8Array, maxBuffer: number): Promise<[number, number, Buffer, Buffer]>;
}

const BUILT = 'native/binding/build/Release/berth.node';

/** The addon of this package, found upwards from this module (or its bundle); BERTH_BINDING overrides. */
export function bindingPath(): string {
  if (process.env.BERTH_BINDING) return process.env.BERTH_BINDING;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, BUILT);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) return candidate;
    dir = up;
  }
}

let loaded: Binding | undefined;

function binding(): Binding {
  if (loaded) return loaded;
  const path = bindingPath();
  try {
    loaded = createRequire(import.meta.url)(path) as Binding;
  } catch (e) {
    throw systemError(
      `native binding ${path}: ${String((e as Error).message).split('\n')[0]} (build it with \`npm rebuild\` or \`npm ci\` in the berth package)`,
      e,
    );
  }
  return loaded;
}

/** lsetxattr(2) flags. */
export const XATTR_CREATE = 0x1;
export const XATTR_REPLACE = 0x2;

/** mknod(2) file types, or'ed into `mode`. */
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

/** umount2(2) flags. */
export const MNT_FORCE = 0x1;
export const MNT_DETACH = 0x2;
export const UMOUNT_NOFOLLOW = 0x8;

/** Sets xattr `name` of `path`, not following a symlink. */
export function lsetxattr(path: string, name: string, value: Uint8Array | string, flags = 0): void {
  binding().lsetxattr(path, name, typeof value === 'string' ? Buffer.from(value) : value, flags);
}

/** The value of xattr `name` of `path`, not following a symlink (ENODATA when it has none). */
export function lgetxattr(path: string, name: string): Buffer {
  return binding().lgetxattr(path, name);
}

/** Names of the xattrs of `path` the caller may see, not following a symlink. */
export function llistxattr(path: string): string[] {
  return binding().llistxattr(path);
}

/** Removes xattr `name` of `path`, not following a symlink (ENODATA when it has none). */
export function lremovexattr(path: string, name: string): void {
  binding().lremovexattr(path, name);
}

/** Makes a node: `mode` is a type (S_IFCHR, S_IFBLK, S_IFIFO) or'ed with permission bits; the umask applies. */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  binding().mknod(path, mode, major, minor);
}

/**
 * mount(2). With `cwd`, relative paths (also in `data`, such as overlayfs' lowerdir list, which
 * the kernel limits to one page) resolve against `cwd`, without changing this process's
 * working directory.
 */
export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags = 0,
  data: string | null = null,
  cwd: string | null = null,
): void {
  binding().mount(source, target, fstype, flags, data, cwd);
}

/**
 * An fd for `path` resolved inside `root` as if `root` were "/" (openat2 RESOLVE_IN_ROOT): a
 * symlink or ".." in a container's file system never leads out of it. The caller closes it.
 */
export function openInRoot(root: string, path: string, flags = 0): number {
  return binding().openInRoot(root, path, flags);
}

/**
 * An fd for `path` resolved beneath `root` (openat2 RESOLVE_BENEATH): symlinks that stay inside
 * are followed, a way out (an absolute symlink, `..` past `root`) fails with EXDEV.
 */
export function openBeneath(root: string, path: string, flags = 0): number {
  return binding().openInRoot(root, path, flags, true);
}

/** umount2(2). */
export function umount2(target: string, flags = 0): void {
  binding().umount2(target, flags);
}

/**
 * mount() made on a thread of its own: the caller's thread goes on while the kernel holds the
 * mount lock (an overlay mount while other containers start and stop: milliseconds). A binding
 * built before it mounts on the calling thread.
 */
export async function mountAsync(
  source: string | null,
  target: string,
  fstype: string | null,
  flags = 0,
  data: string | null = null,
  cwd: string | null = null,
): Promise<void> {
  const b = binding();
  if (!b.mountAsync) return b.mount(source, target, fstype, flags, data, cwd);
  await b.mountAsync(source, target, fstype, flags, data, cwd);
}

/** umount2() made on a thread of its own, as mountAsync. */
export async function umount2Async(target: string, flags = 0): Promise<void> {
  const b = binding();
  if (!b.umount2Async) return b.umount2(target, flags);
  await b.umount2Async(target, flags);
}

/**
 * An overlay at `target` whose lower dirs (absolute, top first) are seen through idmapped
 * mounts of a user namespace with these maps (uid_map's text): their files stay as they are on
 * disk and show as the mapped ids (root's as the mapped root's). The upper and work dirs are
 * used as they are; without them (null) the overlay is read-only. Made on a thread of its own,
 * as mountAsync.
 */
export async function idmappedOverlayAsync(
  target: string,
  lowers: string[],
  upper: string | null,
  work: string | null,
  uidMap: string,
  gidMap: string,
): Promise<void> {
  const b = binding();
  if (!b.idmappedOverlayAsync) throw systemError(`the native binding ${bindingPath()} predates idmapped mounts: rebuild it (npm rebuild)`);
  await b.idmappedOverlayAsync(target, lowers, upper, work, uidMap, gidMap);
}

/**
 * Sets `lo` up in the network namespace pinned at `netns`, on a thread of its own that joins
 * it; false where the binding was built before it (the caller falls back).
 */
export async function loopbackUp(netns: string): Promise<boolean> {
  const b = binding();
  if (!b.loopbackUp) return false;
  await b.loopbackUp(netns);
  return true;
}

/** What `bridgeAttach` makes: a container's interface on a host bridge (network/bridge.ts chooses every value). */
export interface BridgeAttach {
  /** The container's pinned network namespace. */
  netns: string;
  bridge: string;
  /** The MAC the bridge gets if it is made now (it keeps it: a bridge otherwise follows its ports'). */
  bridgeMac: string;
  /** The host end of the veth pair. */
  host: string;
  ifName: string;
  mac: string;
  /** 0: the kernel's default. */
  mtu: number;
  /** `ip/prefix` on the bridge. */
  gateways: string[];
  /** `ip/prefix` on the container's interface. */
  addresses: string[];
  /** `dst/prefix gw` in the container. */
  routes: string[];
  /** `/proc/sys/…=value`, written in the container's namespace before the interface is up. */
  sysctls: string[];
}

/**
 * Makes the bridge if missing and a veth pair on it, its peer named `ifName` in the container's
 * namespace with its addresses, up, with its routes; through rtnetlink on a thread of its own.
 * What it made stays on failure: the caller deletes `host` (linkDelete), which takes the peer too.
 */
export async function bridgeAttach(a: BridgeAttach): Promise<void> {
  await netlink().bridgeAttach(
    a.netns,
    a.bridge,
    a.bridgeMac,
    a.host,
    a.ifName,
    a.mac,
    a.mtu,
    a.gateways,
    a.addresses,
    a.routes,
    a.sysctls,
  );
}

/** Replaces every default route (IPv4 and IPv6) of the namespace at `netns` with `routes` (`dst/prefix gw dev`). */
export async function setDefaultRoutes(netns: string, routes: string[]): Promise<void> {
  await netlink().setDefaultRoutes(netns, routes);
}

/** Deletes the host's link `name` (a veth: its peer goes too), or the link of the namespace at `netns`; false when there was none (or no namespace). */
export function linkDelete(name: string, netns?: string): Promise<boolean> {
  return netlink().linkDelete(name, netns ?? null);
}

/** What `subLinkAttach` makes: a container's macvlan or ipvlan interface on a host link (network/sublink.ts chooses every value). */
export interface SubLinkAttach {
  netns: string;
  kind: 'macvlan' | 'ipvlan';
  /** The host's link the interface is made on. */
  parent: string;
  /** The kernel's IFLA_MACVLAN_MODE or IFLA_IPVLAN_MODE value. */
  mode: number;
  /** The kernel's IFLA_IPVLAN_FLAGS value (0 for macvlan). */
  flags: number;
  ifName: string;
  /** A macvlan's MAC; an ipvlan has its parent's (undefined). */
  mac?: string;
  /** 0: the parent's. */
  mtu: number;
  addresses: string[];
  /** `dst/prefix gw`, or `dst/prefix` on the link. */
  routes: string[];
  sysctls: string[];
}

/**
 * Makes the macvlan or ipvlan interface `ifName` on `parent` directly in the container's
 * namespace, with its addresses, up, with its routes; through rtnetlink on a thread of its own.
 * What it made stays on failure: the caller deletes it (linkDelete in the namespace).
 */
export async function subLinkAttach(a: SubLinkAttach): Promise<void> {
  await sublinks().subLinkAttach(
    a.netns,
    a.kind,
    a.parent,
    a.mode,
    a.flags,
    a.ifName,
    a.mac ?? null,
    a.mtu,
    a.addresses,
    a.routes,
    a.sysctls,
  );
}

/** Makes the host's link `name`, up: a `dummy`, or a `vlan` of `parent` with `vlanId`. */
export async function linkAdd(kind: 'dummy' | 'vlan', name: string, parent?: string, vlanId = 0): Promise<void> {
  await sublinks().linkAdd(kind, name, parent ?? null, vlanId);
}

/** The binding's calls for macvlan and ipvlan networks; a binding built before them fails with what to do. */
function sublinks(): Required<Pick<Binding, 'subLinkAttach' | 'linkAdd'>> {
  const b = binding();
  if (!b.subLinkAttach || !b.linkAdd)
    throw systemError(
      `native binding ${bindingPath()} was built before berth's macvlan and ipvlan networks: build it again (npm run install)`,
    );
  return b as Required<Pick<Binding, 'subLinkAttach' | 'linkAdd'>>;
}

/**
 * Deletes the host's conntrack entries of UDP flows of `family` to any of `ports` (destination
 * ports), through NETLINK_NETFILTER on a thread of its own; how many it deleted. (A binding
 * built before the family argument refuses the call with a TypeError: ports must be an array.)
 */
export async function conntrackDeleteUdp(family: 4 | 6, ports: number[]): Promise<number> {
  const b = binding();
  if (!b.conntrackDeleteUdp)
    throw systemError(`native binding ${bindingPath()} was built before its conntrack deletion: build it again (npm run install)`);
  return b.conntrackDeleteUdp(family, ports);
}

/**
 * A UDP socket and a listening TCP socket bound to `address:port` (IPv4) in the network
 * namespace pinned at `netns`, made on a thread of its own (a socket stays in the namespace it
 * was made in); their fds, close-on-exec and non-blocking, are the caller's to serve and close.
 */
export async function dnsSockets(netns: string, address: string, port: number): Promise<{ udp: number; tcp: number }> {
  const b = binding();
  if (!b.dnsSockets)
    throw systemError(
      `native binding ${bindingPath()} was built before berth's embedded DNS in containers: build it again (npm run install)`,
    );
  const [udp, tcp] = await b.dnsSockets(netns, address, port);
  return { udp, tcp };
}

/** The binding's netlink calls; a binding built before them fails with what to do (bridges have no other way now). */
function netlink(): Required<Pick<Binding, 'bridgeAttach' | 'linkDelete' | 'setDefaultRoutes'>> {
  const b = binding();
  // setDefaultRoutes came with bridgeAttach's sysctls: a binding without it takes fewer arguments.
  if (!b.bridgeAttach || !b.linkDelete || !b.setDefaultRoutes)
    throw systemError(
      `native binding ${bindingPath()} was built before berth's bridge endpoints as they are now made (sysctls, default routes): build it again (npm run install)`,
    );
  return b as Required<Pick<Binding, 'bridgeAttach' | 'linkDelete' | 'setDefaultRoutes'>>;
}

/**
 * Gives the calling thread (berthd's event loop) the nice value `nice`, with SCHED_RESET_ON_FORK
 * so that threads and processes it creates afterwards start at nice 0 (none inherits it); false
 * where the binding was built before it.
 */
export function prioritizeThread(nice: number): boolean {
  const b = binding();
  if (!b.prioritizeThread) return false;
  b.prioritizeThread(nice);
  return true;
}

/**
 * posix_spawn of `path` (argv[0] included in `argv`) in a session of its own, stdio on
 * /dev/null, fd 3 one end of a new unix socketpair: its pid and the other end. Done on libuv's
 * thread pool, with no fork of the caller (see binding.c). undefined where the binding was
 * built without it. The caller reaps the pid (reap()).
 */
export async function spawnDetached(
  path: string,
  argv: string[],
  env: Record<string, string>,
): Promise<{ pid: number; fd: number } | undefined> {
  const b = binding();
  if (!b.spawnDetached) return undefined;
  const [pid, fd] = await b.spawnDetached(
    path,
    argv,
    Object.entries(env).map(([k, v]) => `${k}=${v}`),
  );
  return { pid, fd };
}

/**
 * A memfd called `name` holding a copy of `path`, sealed against every write, close-on-exec:
 * its fd (see binding.c). undefined where the binding was built without it.
 */
export function sealedCopy(path: string, name: string): number | undefined {
  return binding().sealedCopy?.(path, name);
}

/**
 * common/atomic.ts's replace-by-rename in one job on libuv's pool (see binding.c): `tmp` made
 * with `mode`, written, fsync'ed if `durable`, renamed over `path`, then its folder fsync'ed if
 * `durable`. undefined where the binding was built without it.
 */
export function writeAtomic():
  ((tmp: string, path: string, data: Uint8Array, mode: number, durable: boolean) => Promise<void>) | undefined {
  const b = binding();
  return b.writeAtomic && ((tmp, path, data, mode, durable) => b.writeAtomic!(tmp, path, data, mode, durable));
}

/** waitpid(pid, WNOHANG): true once the child has ended and is reaped (or is not ours). */
export function reap(pid: number): boolean {
  return binding().reap!(pid);
}

/**
 * Runs `path` (looked up on the PATH of `env` when it has no slash; argv[0] included in `argv`)
 * to completion with posix_spawn on a thread of its own: `input` on its stdin, then its exit
 * status (-1 when a signal ended it), the signal's number (0 when none), stdout and stderr.
 * Rejects with the errno when it cannot start, with ERR_CHILD_PROCESS_STDIO_MAXBUFFER when
 * either output passes `maxBuffer` bytes (the child then gets SIGTERM). undefined where the
 * binding was built without it.
 */
export async function runProgram(
  path: string,
  argv: string[],
  env: string[],
  input: Uint8Array,
  maxBuffer: number,
): Promise<[status: number, signal: number, stdout: Buffer, stderr: Buffer] | undefined> {
  const b = binding();
  if (!b.runProgram) return undefined;
  return b.runProgram(path, argv, env, input, maxBuffer);
}
