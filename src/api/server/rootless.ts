// A rootless berthd's start. berthd started by an ordinary user runs itself again in a user
// namespace, with a mount namespace of its own, whose uid 0 is that user and whose uids 1..N are
// the user's /etc/subuid ranges (gids likewise from /etc/subgid), written by the setuid
// newuidmap and newgidmap (Debian's uidmap), as rootlesskit does for rootless dockerd. Node
// cannot unshare a user namespace (it is multithreaded), so util-linux's unshare makes the
// namespaces and a shell in them waits on fd 3 until the maps are written, then execs berthd,
// which is uid 0 there with every capability of the namespace. This process stays outside as its
// parent (the pid `berth` prints): it passes SIGTERM, SIGINT and SIGHUP on and exits with its code.

import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { promisify } from 'node:util';
import { errorMessage } from '../../errors.js';
import { mappingsOf, parseIdDatabase, parseSubIds, type IdRange } from '../../engine/index.js';

const run = promisify(execFile);

export class RootlessError extends Error {}

/** newuidmap's arguments: uid 0 is the user, 1.. the subordinate ranges in order. */
export function mapArgs(id: number, ranges: IdRange[]): string[] {
  const out = ['0', String(id), '1'];
  for (const m of mappingsOf(ranges)) out.push(String(m.containerID + 1), String(m.hostID), String(m.size));
  return out;
}

/** The user's name and its subordinate ranges; none is an error that says how to add one. */
export async function subordinateIds(
  uid: number,
  files = { passwd: '/etc/passwd', subuid: '/etc/subuid', subgid: '/etc/subgid' },
): Promise<{ user: string; uids: IdRange[]; gids: IdRange[] }> {
  const read = (p: string) =>
    readFile(p, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return '';
      throw e;
    });
  const user = parseIdDatabase(await read(files.passwd)).find((u) => u.id === uid)?.name ?? String(uid);
  const uids = parseSubIds(await read(files.subuid), user, uid);
  const gids = parseSubIds(await read(files.subgid), user, uid);
  const hint = `a rootless berthd maps its containers' ids to them: as root, usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}`;
  if (!uids.length) throw new RootlessError(`no subordinate uid range for ${user} in ${files.subuid}; ${hint}`);
  if (!gids.length) throw new RootlessError(`no subordinate gid range for ${user} in ${files.subgid}; ${hint}`);
  return { user, uids, gids };
}

/**
 * Runs berthd (this script, with `argv`) as uid 0 of a new user and mount namespace of the
 * calling user's, and returns its exit code once it ends.
 */
export async function runInUserNamespace(argv: string[], log: (msg: string) => void): Promise<number> {
  const uid = process.getuid!();
  const gid = process.getgid!();
  const { user, uids, gids } = await subordinateIds(uid);
  const script = 'echo >&3 && read _ <&3 && exec 3<&- && exec "$@"';
  const child = spawn(
    'unshare',
    [
      '--user',
      '--mount',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      script,
      'berthd',
      process.execPath,
      ...process.execArgv,
      process.argv[1],
      ...argv,
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] },
  );
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (e) => reject(new RootlessError(`unshare (util-linux) for the user namespace: ${e.message}`)));
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
  const sync = child.stdio[3] as import('node:stream').Duplex;
  // The shell's first line: the namespaces are made and wait for their maps.
  const ready = await Promise.race([new Promise<boolean>((resolve) => sync.once('data', () => resolve(true))), exited.then(() => false)]);
  if (!ready) throw new RootlessError(`unshare --user --mount failed (exit ${await exited}); unprivileged user namespaces must be allowed`);
  try {
    for (const [tool, id, ranges] of [
      ['newuidmap', uid, uids],
      ['newgidmap', gid, gids],
    ] as const) {
      try {
        await run(tool, [String(child.pid), ...mapArgs(id, ranges)]);
      } catch (e) {
        const why = (e as { stderr?: string }).stderr?.trim() || errorMessage(e);
        throw new RootlessError(`${tool} for ${user}: ${why}${(e as NodeJS.ErrnoException).code === 'ENOENT' ? ' (install uidmap)' : ''}`);
      }
    }
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw e;
  }
  log(
    `rootless: berthd (pid ${child.pid}) runs as root of a user namespace of ${user}: uids 0=${uid} 1..=${uids.map((r) => `${r.start}+${r.length}`).join(',')}, gids 0=${gid} 1..=${gids.map((r) => `${r.start}+${r.length}`).join(',')}`,
  );
  sync.end('\n');
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, () => child.kill(s));
  return exited;
}
