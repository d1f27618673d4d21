// `User` (`name`, `uid`, `name:group`, `uid:gid`) → numeric ids and home, from the container's
// own /etc/passwd and /etc/group, as Docker (runc) resolves it: read inside the container's root
// with its mounts applied, so a bind-mounted /etc/passwd is the one used. Supplementary groups
// come from /etc/group.

import { closeSync, openSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { openInRoot } from '../native/binding.js';
import { invalid } from '../errors.js';
import type { User } from '../oci/runtime-spec.js';

/** Reads a file of the container by its path inside it; undefined when there is none. */
export interface RootFiles {
  read(path: string): string | undefined;
}

/** A mount's place in the container and, for a bind or volume, its folder or file on the host. */
export interface RootMount {
  destination: string;
  source?: string;
  type?: string;
}

function readIn(root: string, rel: string): string | undefined {
  let fd: number;
  try {
    fd = rel ? openInRoot(root, rel) : openSync(root, 'r');
  } catch {
    return undefined;
  }
  try {
    return readFileSync(fd, 'utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The files of a container's root with `mounts` over it: a path under a bind mount is read
 * from the mount's source, the rest from the root; each resolved inside its own root, so a
 * symlink in the image never reads a host file. (A running container: its `/proc/PID/root`.)
 */
export function rootFiles(rootfs: string, mounts: RootMount[] = []): RootFiles {
  return {
    read(path: string) {
      const p = posix.normalize('/' + path);
      const m = mounts
        .filter(
          (x) =>
            x.source &&
            (x.type === undefined || x.type === 'bind') &&
            (p === x.destination || p.startsWith(x.destination.replace(/\/$/, '') + '/')),
        )
        .sort((a, b) => b.destination.length - a.destination.length)[0];
      if (m) return readIn(m.source!, posix.relative(m.destination, p));
      return readIn(rootfs, p.slice(1));
    },
  };
}

const asFiles = (f: string | RootFiles): RootFiles => (typeof f === 'string' ? rootFiles(f) : f);

function readTable(files: RootFiles, file: string): string[][] {
  return (files.read(file) ?? '')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/** A group's id by name from the container's /etc/group (GroupAdd), with runc's words when there is none. */
function lookupGroup(files: RootFiles, name: string): number {
  const row = readTable(files, '/etc/group').find((r) => r[0] === name);
  if (!row) throw invalid(`Unable to find group ${name}: no matching entries in group file`);
  return Number(row[2]);
}

/** The user's home from /etc/passwd (what runc sets HOME to), `/` when it has no entry. */
export function homeOf(files: string | RootFiles, uid: number): string {
  return readTable(asFiles(files), '/etc/passwd').find((r) => Number(r[2]) === uid)?.[5] || '/';
}

/** `--group-add`'s ids: names looked up in the container's /etc/group, numbers as they are, each once. */
function addedGroups(files: RootFiles, names: readonly string[] = []): number[] {
  return [...new Set(names.map((g) => (/^\d+$/.test(g) ? Number(g) : lookupGroup(files, g))))];
}

/** The process's user for a `User` spec (`name`, `uid`, `name:group`, `uid:gid`), with `GroupAdd`'s groups, as dockerd builds it. */
export function resolveUser(root: string | RootFiles, spec: string | undefined, groupAdd?: readonly string[] | null): User {
  const files = asFiles(root);
  const [userPart, groupPart] = (spec || '0').split(':', 2);
  const passwd = readTable(files, '/etc/passwd');
  let uid: number, gid: number, name: string | undefined;
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    const row = passwd.find((r) => Number(r[2]) === uid);
    gid = row ? Number(row[3]) : 0;
    name = row?.[0];
  } else {
    const row = passwd.find((r) => r[0] === userPart);
    if (!row) throw invalid(`unable to find user ${userPart}: no matching entries in passwd file`);
    uid = Number(row[2]);
    gid = Number(row[3]);
    name = userPart;
  }
  const groups = readTable(files, '/etc/group');
  if (groupPart !== undefined) {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const row = groups.find((r) => r[0] === groupPart);
      if (!row) throw invalid(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = Number(row[2]);
    }
  }
  // The groups that list the user count only when no group was asked (runc's user package).
  const extra =
    name && groupPart === undefined ? groups.filter((r) => (r[3] ?? '').split(',').includes(name!)).map((r) => Number(r[2])) : [];
  // dockerd (since the fix of GHSA-rc4r-wh2q-q6c4) puts the primary group first among the
  // supplementary ones, so a process that drops to its gid keeps no group the image never gave it.
  return { uid, gid, additionalGids: [gid, ...extra, ...addedGroups(files, groupAdd ?? [])] };
}
