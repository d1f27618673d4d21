// Paths inside a root file system seen from the host (a step's mounted snapshot, the build
// context): every symlink met on the way is resolved as the root's own processes would see it,
// `/` being the root, so nothing reached through one lands outside. Also the user lookup of
// COPY --chown and USER in the root's /etc/passwd and /etc/group.

import { lstat, readFile, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { invalid } from '../errors.js';
import { errno } from '../common/errno.js';

/**
 * The host path of `path` inside `root`, every symlink of its parents resolved within the root
 * (and of its last component too with `followLast`); components that do not exist are kept as
 * written. `escape`: what to do with a symlink that leaves the root — clamp it to the root (a
 * root file system, as the kernel's RESOLVE_IN_ROOT) or refuse it (the build context).
 */
export async function resolveInRoot(
  root: string,
  path: string,
  opts: { followLast?: boolean; escape?: 'clamp' | 'refuse'; what?: string } = {},
): Promise<string> {
  const parts = posix.normalize(`/${path}`).split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (parts.length) {
    const name = parts.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      done.pop();
      continue;
    }
    const host = posix.join(root, ...done, name);
    const last = parts.length === 0;
    let target: string | undefined;
    try {
      const st = await lstat(host);
      if (st.isSymbolicLink() && (!last || opts.followLast)) target = await readlink(host);
    } catch (e) {
      if (errno(e) !== 'ENOENT' && errno(e) !== 'ENOTDIR') throw e;
    }
    if (target === undefined) {
      done.push(name);
      continue;
    }
    if (++hops > 40) throw invalid(`${opts.what ?? path}: too many levels of symbolic links`);
    const abs = target.startsWith('/') ? posix.normalize(target) : posix.normalize(`/${done.join('/')}/${target}`);
    if (opts.escape === 'refuse' && (target.startsWith('/') || escapes(done.length, target))) {
      throw invalid(`${opts.what ?? path}: the symbolic link ${posix.join(...done, name)} -> ${target} points outside the build context`);
    }
    done.length = 0;
    parts.unshift(...abs.split('/').filter(Boolean));
  }
  return posix.join(root, ...done);
}

/** True when a relative link target at `depth` components below the root climbs above it. */
function escapes(depth: number, target: string): boolean {
  let d = depth;
  for (const p of target.split('/')) {
    if (p === '..') d--;
    else if (p && p !== '.') d++;
    if (d < 0) return true;
  }
  return false;
}

async function readTable(root: string, file: string): Promise<string[][]> {
  try {
    const text = await readFile(await resolveInRoot(root, file, { followLast: true }), 'utf8');
    return text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return [];
    throw e;
  }
}

/**
 * `user[:group]` (names or numbers) → ids from the root's tables, as COPY --chown resolves
 * them: a group not given is the user's own number (Docker's chown takes the uid as gid).
 */
export async function lookupOwner(root: string, spec: string): Promise<{ uid: number; gid: number }> {
  const [user, group] = spec.split(':', 2);
  const num = (s: string) => (/^\d+$/.test(s) ? Number(s) : undefined);
  let uid = num(user);
  if (uid === undefined) {
    const row = (await readTable(root, '/etc/passwd')).find((r) => r[0] === user);
    if (!row)
      throw invalid(`unable to convert uid/gid chown string to host mapping: can't find uid for user ${user}: no such user: ${user}`);
    uid = Number(row[2]);
  }
  if (group === undefined || group === '') return { uid, gid: uid };
  let gid = num(group);
  if (gid === undefined) {
    const row = (await readTable(root, '/etc/group')).find((r) => r[0] === group);
    if (!row)
      throw invalid(`unable to convert uid/gid chown string to host mapping: can't find gid for group ${group}: no such group: ${group}`);
    gid = Number(row[2]);
  }
  return { uid, gid };
}
