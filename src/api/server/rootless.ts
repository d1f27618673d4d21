// A rootless berthd's start. berthd started by an ordinary user runs itself again in a user
// namespace, with a mount namespace of its own, whose uid 0 is that user and whose uids 1..N are
// the user's /etc/subuid ranges (gids likewise from /etc/subgid), written by the setuid
// newuidmap and newgidmap (Debian's uidmap), as rootlesskit does for rootless dockerd. Node
// cannot unshare a user namespace (it is multithreaded), so util-linux's unshare makes the
// namespaces and a shell in them waits on fd 3 until the maps are written, then execs berthd,
// which is uid 0 there with every capability of the namespace. This process stays outside as its
// parent (the pid `berth` prints): it passes SIGTERM, SIGINT and SIGHUP on and exits with its code.
//
// The namespaces outlive a berthd that stops while containers run: their monitors hold them. A
// berthd started then joins them (util-linux's nsenter, as their owner) rather than making new
// ones, so it sees the containers' mounts and may enter them, and adopts them as root's berthd
// does. berthd records its namespaces in `<exec-root>/rootless-ns.json` when it starts.

import { execFile, spawn } from 'node:child_process';
import { readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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

const NS_FILE = 'rootless-ns.json';

interface Namespaces {
  user: string;
  mnt: string;
}

const nsOf = async (pid: number | 'self'): Promise<Namespaces | undefined> => {
  try {
    return { user: await readlink(`/proc/${pid}/ns/user`), mnt: await readlink(`/proc/${pid}/ns/mnt`) };
  } catch {
    return undefined; // gone, or not this user's
  }
};

/** Inside: records this berthd's namespaces for the next berthd of its exec root to join. */
export async function recordNamespaces(execRoot: string): Promise<void> {
  await writeFile(join(execRoot, NS_FILE), `${JSON.stringify(await nsOf('self'))}\n`);
}

/** A process of this user's still in the namespaces the last berthd recorded (a container's monitor), if any. */
export async function namespaceHolder(execRoot: string, uid = process.getuid!()): Promise<number | undefined> {
  let want: Namespaces;
  try {
    want = JSON.parse(await readFile(join(execRoot, NS_FILE), 'utf8')) as Namespaces;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    try {
      if ((await stat(`/proc/${pid}`)).uid !== uid) continue;
    } catch {
      continue; // exited meanwhile
    }
    const ns = await nsOf(pid);
    if (ns && ns.user === want.user && ns.mnt === want.mnt) return pid;
  }
  return undefined;
}

/** Waits for a child berthd, passing SIGTERM, SIGINT and SIGHUP on; its exit code. */
function exitOf(child: import('node:child_process').ChildProcess, what: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    child.once('error', (e) => reject(new RootlessError(`${what}: ${e.message}`)));
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

function forwardSignals(child: import('node:child_process').ChildProcess): void {
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, () => child.kill(s));
}

/**
 * Runs berthd (this script, with `argv`) as uid 0 of the user namespace of the calling user's
 * last berthd of `execRoot` where its containers still hold it, else of a new one (and a mount
 * namespace with it), and returns its exit code once it ends.
 */
export async function runInUserNamespace(argv: string[], execRoot: string, log: (msg: string) => void): Promise<number> {
  const berthd = [process.execPath, ...process.execArgv, process.argv[1], ...argv];
  const holder = await namespaceHolder(execRoot);
  if (holder !== undefined) {
    // nsenter enters the user namespace first (its owner may), then the mount namespace, as uid and gid 0.
    const child = spawn('nsenter', ['--user', '--mount', '--target', String(holder), '--', ...berthd], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const exited = exitOf(child, 'nsenter (util-linux) into the user namespace');
    log(`rootless: berthd (pid ${child.pid}) joins the user and mount namespaces its containers hold (pid ${holder})`);
    forwardSignals(child);
    return exited;
  }
  const uid = process.getuid!();
  const gid = process.getgid!();
  const { user, uids, gids } = await subordinateIds(uid);
  const script = 'echo >&3 && read _ <&3 && exec 3<&- && exec "$@"';
  const child = spawn('unshare', ['--user', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'berthd', ...berthd], {
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
  });
  const exited = exitOf(child, 'unshare (util-linux) for the user namespace');
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
  forwardSignals(child);
  return exited;
}
