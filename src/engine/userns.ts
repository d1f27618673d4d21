// User-namespace remapping (berthd's `--userns-remap`, dockerd's flag and daemon.json key): the
// user and group whose /etc/subuid and /etc/subgid ranges container ids map to, in dockerd's
// forms (`default`, `USER`, `USER:GROUP`, `UID`, `UID:GID`) and with dockerd's words for a bad
// one. Pure parsing and range arithmetic, unit-tested; reading the id files and making the
// default user (`loadRemap`) are the only effects, and run once, when berthd starts.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { IDMapping, Spec } from '../oci/runtime-spec.js';
import { isErrno } from '../common/errno.js';
import { invalid } from '../errors.js';
import { hostId, type IdMaps } from '../common/id-map.js';
import type { HostConfig } from './types.js';

/** The user `default` names (dockerd's is `dockremap`), made with its ranges when missing. */
export const DEFAULT_REMAP_USER = 'berthremap';
/** A default range's length, and where free ranges start (as shadow's useradd and dockerd pick them). */
export const RANGE_SIZE = 65536;
const FIRST_SUBID = 100000;

export class RemapError extends Error {}

export interface IdRange {
  start: number;
  length: number;
}

/**
 * A remapping daemon's ids: a container's ids from 0 map to the first 65536 of the user's first
 * subuid range (and of the group's subgid range), or all of it when it is shorter; the rest of
 * the ranges is where `--userns=auto` picks.
 */
export interface Remap {
  user: string;
  group: string;
  uidMappings: IDMapping[];
  gidMappings: IDMapping[];
  /** Every subordinate range of the user and of the group, lowest first. */
  uidRanges: IdRange[];
  gidRanges: IdRange[];
}

/** `USER[:GROUP]` of `--userns-remap`; `default` is DEFAULT_REMAP_USER. */
export function parseRemapValue(value: string): { user: string; group?: string } {
  const parts = value.split(':');
  if (parts.length > 2 || parts.some((p) => p === ''))
    throw new RemapError(`Invalid user/group specification in --userns-remap: "${value}"`);
  if (parts[0] === 'default') return { user: DEFAULT_REMAP_USER, group: parts[1] };
  return { user: parts[0], group: parts[1] };
}

interface Entry {
  name: string;
  id: number;
  gid?: number;
}

/** passwd(5) or group(5) lines as name, id (and a user's primary gid). */
export function parseIdDatabase(text: string): Entry[] {
  const out: Entry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !/^\d+$/.test(f[2])) continue;
    out.push({ name: f[0], id: Number(f[2]), ...(f[3] && /^\d+$/.test(f[3]) ? { gid: Number(f[3]) } : {}) });
  }
  return out;
}

/** subuid(5)/subgid(5): the ranges of the entries for `name` or its numeric `id`, lowest first. */
export function parseSubIds(text: string, name: string, id: number): IdRange[] {
  const out: IdRange[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length !== 3 || !/^\d+$/.test(f[1]) || !/^\d+$/.test(f[2])) continue;
    if (f[0] !== name && f[0] !== String(id)) continue;
    if (Number(f[2]) > 0) out.push({ start: Number(f[1]), length: Number(f[2]) });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Every range in a subuid/subgid file, whoever holds it. */
export function allSubIds(text: string): IdRange[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(':'))
    .filter((f) => f.length === 3 && /^\d+$/.test(f[1]) && /^\d+$/.test(f[2]))
    .map((f) => ({ start: Number(f[1]), length: Number(f[2]) }));
}

/** Container ids from 0, laid over the ranges in order. */
export function mappingsOf(ranges: IdRange[]): IDMapping[] {
  let next = 0;
  return ranges.map((r) => {
    const m = { containerID: next, hostID: r.start, size: r.length };
    next += r.length;
    return m;
  });
}

/** The lowest start ≥ `min` of `size` ids that overlaps none of `taken`, within [min, limit). */
export function freeRange(taken: IdRange[], size: number, min = FIRST_SUBID, limit = 2 ** 32 - 1): number | undefined {
  let start = min;
  for (const r of [...taken].sort((a, b) => a.start - b.start)) {
    if (r.start + r.length <= start) continue;
    if (r.start >= start + size) break;
    start = r.start + r.length;
  }
  return start + size <= limit ? start : undefined;
}

export interface IdFiles {
  passwd: string;
  group: string;
  subuid: string;
  subgid: string;
}
const HOST_FILES: IdFiles = { passwd: '/etc/passwd', group: '/etc/group', subuid: '/etc/subuid', subgid: '/etc/subgid' };

const readOrEmpty = async (path: string) => {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return '';
    throw e;
  }
};

/**
 * The remapping `--userns-remap VALUE` asks for, from the host's id files. `default` makes
 * DEFAULT_REMAP_USER (useradd, a system user with no shell) and its ranges (usermod, the next
 * free 65536 ids from 100000 in both files) when missing, as dockerd makes `dockremap`.
 */
export async function loadRemap(value: string, files: IdFiles = HOST_FILES): Promise<Remap> {
  const want = parseRemapValue(value);
  if (want.user === DEFAULT_REMAP_USER && value.startsWith('default')) await ensureDefaultUser(files);
  const users = parseIdDatabase(await readOrEmpty(files.passwd));
  const groups = parseIdDatabase(await readOrEmpty(files.group));
  const numericUser = /^\d+$/.test(want.user);
  const user = users.find((u) => (numericUser ? u.id === Number(want.user) : u.name === want.user));
  if (!user)
    throw new RemapError(
      numericUser
        ? `Uid ${want.user} has no entry in /etc/passwd`
        : `Error during uid lookup for "${want.user}": user: unknown user ${want.user}`,
    );
  let group: Entry | undefined;
  if (want.group === undefined) {
    // As dockerd: a uid alone takes the gid of its number, a name the group of that name.
    group = groups.find((g) => (numericUser ? g.id === user.id : g.name === user.name));
    if (!group)
      throw new RemapError(
        numericUser
          ? `Gid ${user.id} has no entry in /etc/group`
          : `Error during gid lookup for "${user.name}": group: unknown group ${user.name}`,
      );
  } else {
    const numeric = /^\d+$/.test(want.group);
    group = groups.find((g) => (numeric ? g.id === Number(want.group) : g.name === want.group));
    if (!group)
      throw new RemapError(
        numeric
          ? `Gid ${want.group} has no entry in /etc/group`
          : `Error during groupname lookup for "${want.group}": group: unknown group ${want.group}`,
      );
  }
  // dockerd warns and runs without user namespaces; berth refuses rather than run unremapped.
  if (user.id === 0) throw new RemapError('User namespaces: root cannot be remapped with itself; give --userns-remap another user');
  const uids = parseSubIds(await readOrEmpty(files.subuid), user.name, user.id);
  if (!uids.length) throw new RemapError(`Can't create ID mappings: No subuid ranges found for user "${user.name}"`);
  const gids = parseSubIds(await readOrEmpty(files.subgid), group.name, group.id);
  if (!gids.length) throw new RemapError(`Can't create ID mappings: No subgid ranges found for group "${group.name}"`);
  const first = (r: IdRange[]) => mappingsOf([{ start: r[0].start, length: Math.min(r[0].length, RANGE_SIZE) }]);
  return { user: user.name, group: group.name, uidMappings: first(uids), gidMappings: first(gids), uidRanges: uids, gidRanges: gids };
}

const run = promisify(execFile);

async function ensureDefaultUser(files: IdFiles): Promise<void> {
  const name = DEFAULT_REMAP_USER;
  const users = parseIdDatabase(await readOrEmpty(files.passwd));
  try {
    if (!users.some((u) => u.name === name)) await run('useradd', ['-r', '-U', '-s', '/bin/false', '-M', name]);
    const uid = parseIdDatabase(await readOrEmpty(files.passwd)).find((u) => u.name === name)?.id ?? -1;
    const gid = parseIdDatabase(await readOrEmpty(files.group)).find((g) => g.name === name)?.id ?? -1;
    const subuid = await readOrEmpty(files.subuid);
    const subgid = await readOrEmpty(files.subgid);
    const args: string[] = [];
    if (!parseSubIds(subuid, name, uid).length) {
      const start = freeRange(allSubIds(subuid), RANGE_SIZE);
      if (start === undefined) throw new RemapError('no free subuid range of 65536 ids');
      args.push('--add-subuids', `${start}-${start + RANGE_SIZE - 1}`);
    }
    if (!parseSubIds(subgid, name, gid).length) {
      const start = freeRange(allSubIds(subgid), RANGE_SIZE);
      if (start === undefined) throw new RemapError('no free subgid range of 65536 ids');
      args.push('--add-subgids', `${start}-${start + RANGE_SIZE - 1}`);
    }
    if (args.length) await run('usermod', [...args, name]);
  } catch (e) {
    const why = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
    throw new RemapError(`Can't create ID mappings: making the remap user ${name} and its subordinate ranges: ${why}`);
  }
}

/**
 * A container's user namespace: the daemon's remapping unless its UsernsMode is `host` (no user
 * namespace, as dockerd) or `auto` (65536 ids of its own from the remap user's ranges, apart
 * from the daemon's and from `taken`, every other container's); undefined for none. What a
 * user namespace cannot share with the host is refused in dockerd's words.
 */
export function containerIdMaps(hc: HostConfig, remap: Remap | undefined, taken: IdMaps[] = []): IdMaps | undefined {
  const mode = hc.UsernsMode ?? '';
  if (mode !== '' && mode !== 'host' && mode !== 'auto')
    throw invalid(`invalid USER mode: ${mode}: berthd takes "host", "auto" or "" (the daemon's remapping)`);
  if (mode === 'auto' && !remap)
    throw invalid('UsernsMode "auto" needs a berthd started with --userns-remap: its user\'s subordinate ranges are where auto picks');
  if (!remap || mode === 'host') return undefined;
  if (hc.Privileged)
    throw invalid(
      'privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode',
    );
  if (hc.NetworkMode === 'host') throw invalid("cannot share the host's network namespace when user namespaces are enabled");
  if (hc.PidMode === 'host') throw invalid('cannot share the host PID namespace when user namespaces are enabled');
  if (mode !== 'auto') return { uidMappings: remap.uidMappings, gidMappings: remap.gidMappings };
  const pick = (ranges: IdRange[], own: IDMapping[], others: IDMapping[][], what: string) => {
    const used = [...own, ...others.flat()].map((m) => ({ start: m.hostID, length: m.size }));
    const start = pickRange(ranges, used, RANGE_SIZE);
    if (start === undefined)
      throw invalid(`no free range of ${RANGE_SIZE} ids left in the ${what} ranges of ${remap.user} for UsernsMode "auto"`);
    return [{ containerID: 0, hostID: start, size: RANGE_SIZE }];
  };
  return {
    uidMappings: pick(
      remap.uidRanges,
      remap.uidMappings,
      taken.map((t) => t.uidMappings),
      'subuid',
    ),
    gidMappings: pick(
      remap.gidRanges,
      remap.gidMappings,
      taken.map((t) => t.gidMappings),
      'subgid',
    ),
  };
}

/** The lowest start of `size` ids inside one of `ranges` that overlaps none of `used`. */
export function pickRange(ranges: IdRange[], used: IdRange[], size: number): number | undefined {
  for (const r of ranges) {
    const start = freeRange(used, size, r.start, r.start + r.length);
    if (start !== undefined) return start;
  }
  return undefined;
}

/** The spec's user namespace with the maps (berth-runtime writes them before the container's mounts). */
export function applyUserns(spec: Spec, maps: IdMaps): void {
  const linux = (spec.linux ??= {});
  linux.namespaces = [...(linux.namespaces ?? []).filter((n) => n.type !== 'user'), { type: 'user' }];
  linux.uidMappings = maps.uidMappings;
  linux.gidMappings = maps.gidMappings;
}

/** The host ids of the container's root: what its init files, new volumes and upper dir are owned by. */
export function rootOwner(maps: IdMaps): { uid: number; gid: number } {
  const uid = hostId(maps.uidMappings, 0);
  const gid = hostId(maps.gidMappings, 0);
  if (uid === undefined || gid === undefined) throw invalid('a user namespace without a mapping of root');
  return { uid, gid };
}
