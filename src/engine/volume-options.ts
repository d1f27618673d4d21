// The local volume driver's options (`volume create -o type=… -o device=… -o o=…`), as
// dockerd's local driver (moby's volume/local) checks and mounts them: which keys it takes and
// which need which, the mount(2) flags and data an `o` string becomes (moby/sys/mount's table),
// the addresses of nfs and cifs resolved before the mount, and its error words. Pure but for
// the mount itself and the name lookups, which never block the event loop.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { invalid, systemError } from '../errors.js';
import { parseSize } from '../common/size.js';
import { mountAsync } from '../native/binding.js';
import { MS } from '../runtime/mount-options.js';

/** The keys the driver takes; `size` is a quota, which berth (like dockerd without one) cannot set. */
const KEYS = new Set(['type', 'o', 'device', 'size']);
/** A key present needs these too (moby's mandatoryOpts). */
const NEEDS: [string, string[]][] = [
  ['device', ['type']],
  ['type', ['device']],
  ['o', ['device', 'type']],
];

/** Refuses what dockerd's local driver refuses at create, in its words (400). */
export function validateVolumeOptions(opts: Record<string, string> | null | undefined): void {
  if (!opts || !Object.keys(opts).length) return;
  for (const k of Object.keys(opts)) if (!KEYS.has(k)) throw invalid(`invalid option: ${JSON.stringify(k)}`);
  if (opts.type === 'cifs' && opts.device && cifsPort(opts.device))
    throw invalid("port not allowed in CIFS device URL, include 'port' in 'o='");
  if ('size' in opts && parseSize(opts.size) > 0) throw invalid('quota size requested but no quota support');
  for (const [k, needs] of NEEDS) {
    if (!(k in opts)) continue;
    for (const n of needs) if (!(n in opts)) throw invalid(`missing required option: ${JSON.stringify(n)}`);
  }
}

/** Whether the volume is a mount of its own (a `device` or a `type`), made at first use. */
export function needsMount(opts: Record<string, string> | null | undefined): boolean {
  return !!(opts?.device || opts?.type);
}

/** The port of a cifs device URL (`//host:445/share`), as Go's url.Parse finds it; '' for none. */
function cifsPort(device: string): string {
  const auth = /^(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?\/\/([^/?#]*)/.exec(device)?.[1];
  if (!auth) return '';
  const host = auth.slice(auth.lastIndexOf('@') + 1);
  return /\]?:(\d*)$/.exec(host.startsWith('[') ? host.slice(host.indexOf(']')) : host)?.[1] ?? '';
}

/** moby/sys/mount's option words: those that set (or clear) a flag; any other goes to the data. ("defaults" has no flag: data.) */
const FLAGS: Record<string, [clear: boolean, flag: number]> = {
  ro: [false, MS.RDONLY],
  rw: [true, MS.RDONLY],
  suid: [true, MS.NOSUID],
  nosuid: [false, MS.NOSUID],
  dev: [true, MS.NODEV],
  nodev: [false, MS.NODEV],
  exec: [true, MS.NOEXEC],
  noexec: [false, MS.NOEXEC],
  sync: [false, MS.SYNCHRONOUS],
  async: [true, MS.SYNCHRONOUS],
  dirsync: [false, MS.DIRSYNC],
  remount: [false, MS.REMOUNT],
  mand: [false, MS.MANDLOCK],
  nomand: [true, MS.MANDLOCK],
  atime: [true, MS.NOATIME],
  noatime: [false, MS.NOATIME],
  diratime: [true, MS.NODIRATIME],
  nodiratime: [false, MS.NODIRATIME],
  bind: [false, MS.BIND],
  rbind: [false, MS.BIND | MS.REC],
  unbindable: [false, MS.UNBINDABLE],
  runbindable: [false, MS.UNBINDABLE | MS.REC],
  private: [false, MS.PRIVATE],
  rprivate: [false, MS.PRIVATE | MS.REC],
  shared: [false, MS.SHARED],
  rshared: [false, MS.SHARED | MS.REC],
  slave: [false, MS.SLAVE],
  rslave: [false, MS.SLAVE | MS.REC],
  relatime: [false, MS.RELATIME],
  norelatime: [true, MS.RELATIME],
  strictatime: [false, MS.STRICTATIME],
  nostrictatime: [true, MS.STRICTATIME],
};
const PTYPES = MS.SHARED | MS.PRIVATE | MS.SLAVE | MS.UNBINDABLE;

/** `o` as mount(2) flags and the file system's data string. */
export function parseMountOptions(o: string): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const w of o.split(',')) {
    const f = FLAGS[w];
    if (f) flags = f[0] ? flags & ~f[1] : flags | f[1];
    else data.push(w);
  }
  return { flags, data: data.join(',') };
}

export type Resolve = (host: string) => Promise<string>;

/** Go's net.ResolveIPAddr("ip", host): its first IPv4 address, else its first; Go's words when there is none. */
export const resolveHost: Resolve = async (host) => {
  try {
    const all = await lookup(host, { all: true });
    return (all.find((a) => a.family === 4) ?? all[0]).address;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`lookup ${host}: ${code === 'ENOTFOUND' || code === 'ENODATA' ? 'no such host' : (e as Error).message}`);
  }
};

/**
 * The device and `o` the mount gets: for nfs and cifs an `addr=` that is no IPv4 address is
 * resolved, or else a cifs device's host name (`//server/share`), as dockerd does.
 */
export async function mountSource(opts: Record<string, string>, resolve: Resolve = resolveHost): Promise<{ device: string; o: string }> {
  if (!opts.device) throw new Error('missing device in volume options');
  const o = opts.o ?? '';
  let device = opts.device;
  if (opts.type !== 'nfs' && opts.type !== 'cifs') return { device, o };
  const addr = o
    .split(',')
    .find((w) => w.startsWith('addr='))
    ?.slice(5);
  if (addr && isIP(addr) !== 4) {
    const ip = await resolve(addr).catch((e: Error) => {
      throw new Error(`error resolving passed in network volume address: ${e.message}`);
    });
    return { device, o: o.replace(`addr=${addr}`, `addr=${ip}`) };
  }
  if (opts.type === 'cifs') {
    const m = /^((?:[a-zA-Z][a-zA-Z0-9+.-]*:)?\/\/(?:[^@/?#]*@)?)([^/?#:]*)(.*)$/s.exec(device);
    if (m && m[2] && !isIP(m[2].replace(/^\[|\]$/g, ''))) {
      const ip = await resolve(m[2]).catch((e: Error) => {
        throw new Error(`error resolving passed in network volume address: ${e.message}`);
      });
      device = decodeURIComponent(`${m[1]}${isIP(ip) === 6 ? `[${ip}]` : ip}${m[3]}`);
    }
  }
  return { device, o };
}

/** Go's texts of the errnos a mount meets (syscall.Errno.Error()); libuv's differ for some. */
const GO_ERRNO: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENXIO: 'no such device or address',
  EACCES: 'permission denied',
  ENOTBLK: 'block device required',
  ENODEV: 'no such device',
  ENOTDIR: 'not a directory',
  EINVAL: 'invalid argument',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  EBUSY: 'device or resource busy',
  ENOMEM: 'cannot allocate memory',
  EIO: 'input/output error',
  EEXIST: 'file exists',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  EAGAIN: 'resource temporarily unavailable',
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENOTSUP: 'operation not supported',
  EOPNOTSUPP: 'operation not supported',
  ENOSPC: 'no space left on device',
};

/** The errno's text as Go writes it (dockerd's messages end with it). */
export function goErrnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code && GO_ERRNO[err.code]) return GO_ERRNO[err.code];
  // The binding's message is `<syscall> <what>: <text>`.
  const msg = String(err.message);
  return msg.slice(msg.lastIndexOf(': ') + 2);
}

/** moby/sys/mount's error words: `<op> <source>:<target>, flags: 0x…, data: …: <errno>`. */
export function mountErrorText(op: string, source: string, target: string, flags: number, data: string, e: unknown): string {
  return `${op} ${source ? `${source}:${target}` : target}${flags ? `, flags: 0x${flags.toString(16)}` : ''}${data ? `, data: ${data}` : ''}: ${goErrnoText(e)}`;
}

/**
 * Mounts the volume's `device` of `type` with `o` at `target` (its `_data`), as moby/sys's
 * Mount: the flags and data first (not for a remount with no data), then a propagation, then a
 * read-only bind made so. Throws dockerd's "failed to mount local volume: …" (500), a password masked.
 */
export async function mountVolume(opts: Record<string, string>, target: string, resolve: Resolve = resolveHost): Promise<void> {
  try {
    const { device, o } = await mountSource(opts, resolve);
    const { flags, data } = parseMountOptions(o);
    const oflags = flags & ~PTYPES;
    const remount = !!(flags & MS.REMOUNT) || device === '' || device === 'none';
    const call = async (op: string, src: string, type: string, f: number, d: string) => {
      try {
        await mountAsync(src || null, target, type || null, f, d || null);
      } catch (e) {
        throw new Error(mountErrorText(op, src, target, f, d, e), { cause: e });
      }
    };
    if (!remount || data) await call('mount', device, opts.type ?? '', oflags, data);
    if (flags & PTYPES) await call('remount', '', '', flags & (PTYPES | MS.REC | MS.SILENT), '');
    if ((oflags & (MS.BIND | MS.RDONLY)) === (MS.BIND | MS.RDONLY)) await call('remount-ro', '', '', oflags | MS.REMOUNT, '');
  } catch (e) {
    let msg = (e as Error).message;
    const password = (opts.o ?? '')
      .split(',')
      .find((w) => w.startsWith('password='))
      ?.slice(9);
    if (password) msg = msg.replace(`password=${password}`, 'password=********');
    throw systemError(`failed to mount local volume: ${msg}`, e);
  }
}
