// `User` (`name`, `uid`, `name:group`, `uid:gid`) → numeric ids, from the container's own
// /etc/passwd and /etc/group, as Docker resolves it. Supplementary groups come from /etc/group.

import { closeSync, readFileSync } from 'node:fs';
import { openInRoot } from '../native/binding.js';
import { invalid } from '../errors.js';
import type { User } from '../oci/runtime-spec.js';

/** A table of the container's, resolved inside its root: a symlink in the image never reads a host file. */
function readTable(rootfs: string, file: string): string[][] {
  let fd: number;
  try {
    fd = openInRoot(rootfs, file);
  } catch {
    return [];
  }
  try {
    return readFileSync(fd, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  } finally {
    closeSync(fd);
  }
}

export function resolveUser(rootfs: string, spec: string | undefined): User {
  const [userPart, groupPart] = (spec || '0').split(':', 2);
  const passwd = readTable(rootfs, 'etc/passwd');
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
  const groups = readTable(rootfs, 'etc/group');
  if (groupPart !== undefined) {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const row = groups.find((r) => r[0] === groupPart);
      if (!row) throw invalid(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = Number(row[2]);
    }
  }
  const extra = name ? groups.filter((r) => (r[3] ?? '').split(',').includes(name!)).map((r) => Number(r[2])).filter((g) => g !== gid) : [];
  return { uid, gid, ...(extra.length ? { additionalGids: extra } : {}) };
}
