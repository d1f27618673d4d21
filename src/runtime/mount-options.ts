// The spec's mount options turned into mount(2) flags, propagation flags and the data string
// passed to the file system, as runc reads them.
import { unsupported } from '../errors.js';

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  I_VERSION: 0x800000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

const SET: Record<string, number> = {
  ro: MS.RDONLY,
  nosuid: MS.NOSUID,
  nodev: MS.NODEV,
  noexec: MS.NOEXEC,
  sync: MS.SYNCHRONOUS,
  remount: MS.REMOUNT,
  mand: MS.MANDLOCK,
  dirsync: MS.DIRSYNC,
  nosymfollow: MS.NOSYMFOLLOW,
  noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME,
  bind: MS.BIND,
  rbind: MS.BIND | MS.REC,
  relatime: MS.RELATIME,
  strictatime: MS.STRICTATIME,
  lazytime: MS.LAZYTIME,
  silent: MS.SILENT,
  iversion: MS.I_VERSION,
};
const CLEAR: Record<string, number> = {
  rw: MS.RDONLY,
  suid: MS.NOSUID,
  dev: MS.NODEV,
  exec: MS.NOEXEC,
  async: MS.SYNCHRONOUS,
  nomand: MS.MANDLOCK,
  symfollow: MS.NOSYMFOLLOW,
  atime: MS.NOATIME,
  diratime: MS.NODIRATIME,
  norelatime: MS.RELATIME,
  nostrictatime: MS.STRICTATIME,
  nolazytime: MS.LAZYTIME,
  loud: MS.SILENT,
  noiversion: MS.I_VERSION,
  defaults: 0,
};
const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};
/** mount_setattr(2)'s MOUNT_ATTR_* bits, for the recursive options. */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;
// The spec's recursive options: the attribute set (or cleared) on the mount and every mount
// below it, with mount_setattr(2) and AT_RECURSIVE (Linux 5.12), as runc does.
const RECURSIVE: Record<string, { attr: number; clear: boolean }> = {
  rro: { attr: MOUNT_ATTR.RDONLY, clear: false },
  rrw: { attr: MOUNT_ATTR.RDONLY, clear: true },
  rnosuid: { attr: MOUNT_ATTR.NOSUID, clear: false },
  rsuid: { attr: MOUNT_ATTR.NOSUID, clear: true },
  rnodev: { attr: MOUNT_ATTR.NODEV, clear: false },
  rdev: { attr: MOUNT_ATTR.NODEV, clear: true },
  rnoexec: { attr: MOUNT_ATTR.NOEXEC, clear: false },
  rexec: { attr: MOUNT_ATTR.NOEXEC, clear: true },
  rnodiratime: { attr: MOUNT_ATTR.NODIRATIME, clear: false },
  rdiratime: { attr: MOUNT_ATTR.NODIRATIME, clear: true },
  rnosymfollow: { attr: MOUNT_ATTR.NOSYMFOLLOW, clear: false },
  rsymfollow: { attr: MOUNT_ATTR.NOSYMFOLLOW, clear: true },
};
/** The recursive options berth-runtime applies (`features` lists them). */
export const RECURSIVE_OPTIONS = Object.keys(RECURSIVE);
// Options that need more than mount(2) and the attribute bits above (the recursive atime
// modes, idmapped mounts) or that runc handles outside mount(2). berth refuses them rather
// than ignore them.
const REFUSED = new Set([
  'rrelatime',
  'rnorelatime',
  'rnoatime',
  'ratime',
  'rstrictatime',
  'rnostrictatime',
  'rnosymfollow',
  'rsymfollow',
  'idmap',
  'ridmap',
  'tmpcopyup',
]);

export interface ParsedOptions {
  flags: number;
  propagation: number;
  data: string;
  bind: boolean;
  /** MOUNT_ATTR_* bits to set, and to clear, on the mount and every mount below it. */
  recursiveSet: number;
  recursiveClear: number;
}

export function parseMountOptions(options: string[] = []): ParsedOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  let recursiveSet = 0;
  let recursiveClear = 0;
  for (const opt of options) {
    if (opt in RECURSIVE) {
      // A later option wins, as for the flags.
      const { attr, clear } = RECURSIVE[opt];
      recursiveSet = clear ? recursiveSet & ~attr : recursiveSet | attr;
      recursiveClear = clear ? recursiveClear | attr : recursiveClear & ~attr;
    } else if (opt in SET) flags |= SET[opt];
    else if (opt in CLEAR) flags &= ~CLEAR[opt];
    else if (opt in PROPAGATION) propagation |= PROPAGATION[opt];
    else if (REFUSED.has(opt)) throw unsupported(`mount option ${JSON.stringify(opt)} is not supported by berth-runtime`);
    else data.push(opt);
  }
  return { flags, propagation, data: data.join(','), bind: (flags & MS.BIND) !== 0, recursiveSet, recursiveClear };
}
