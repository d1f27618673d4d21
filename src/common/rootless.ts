// Where a rootless berthd lives, shared by the CLI (which finds or starts it) and berthd (which
// listens there), and whether this process runs in a user namespace (a rootless berthd's, where
// overlayfs keeps its metadata in user.* xattrs and cgroups are the host's, not ours).
//
// An ordinary user's berthd: socket and runtime state under `$XDG_RUNTIME_DIR/berth` (as rootless
// Docker's `$XDG_RUNTIME_DIR/docker.sock`), or, where no login manager set that variable (`su -`),
// under `/tmp/berth-<uid>`, a folder of the user's own, mode 0700; data under
// `$XDG_DATA_HOME/berth` (default `~/.local/share/berth`).

import { lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { systemError } from '../errors.js';
import { isErrno } from './errno.js';

/** True for root on the host; an ordinary user runs a rootless berthd. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The runtime directory: $XDG_RUNTIME_DIR, else /tmp/berth-<uid> (not made here). */
export function rootlessRuntimeDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid!()): string {
  return env.XDG_RUNTIME_DIR || `/tmp/berth-${uid}`;
}

/** A rootless berthd's exec root (its socket is `berth.sock` there). */
export function rootlessExecRoot(env: NodeJS.ProcessEnv = process.env, uid = process.getuid!()): string {
  return join(rootlessRuntimeDir(env, uid), 'berth');
}

/** A rootless berthd's data root: $XDG_DATA_HOME/berth, else ~/.local/share/berth. */
export function rootlessDataRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local/share'), 'berth');
}

export function rootlessHost(env: NodeJS.ProcessEnv = process.env, uid = process.getuid!()): string {
  return `unix://${join(rootlessExecRoot(env, uid), 'berth.sock')}`;
}

/**
 * Makes the runtime directory when it is /tmp/berth-<uid> (mode 0700), and refuses one that is
 * not a folder of this user's, mode 0700: in a world-writable /tmp another user could have made
 * it first, or a symlink, and would then reach the socket.
 */
export function ensurePrivateRuntimeDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid!()): string {
  const dir = rootlessRuntimeDir(env, uid);
  if (!env.XDG_RUNTIME_DIR) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
    }
  }
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0)
    throw systemError(
      `${dir}: not a private folder of uid ${uid} (want a directory owned by it, mode 0700); remove it or set XDG_RUNTIME_DIR`,
    );
  return dir;
}

let userns: boolean | undefined;

/** Whether this process runs in a user namespace other than the host's (a rootless berthd's). */
export function inUserNamespace(): boolean {
  if (userns === undefined) {
    try {
      userns = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/).join(' ') !== '0 0 4294967295';
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
      userns = false; // no user namespaces in this kernel
    }
  }
  return userns;
}

/** The host uid this process's uid 0 is (a rootless berthd's user); the process's own uid outside a user namespace. */
export function hostUid(uidMap?: string): number {
  if (uidMap === undefined) {
    if (!inUserNamespace()) return process.getuid!();
    uidMap = readFileSync('/proc/self/uid_map', 'utf8');
  }
  for (const line of uidMap.trim().split('\n')) {
    const [inside, outside] = line.trim().split(/\s+/).map(Number);
    if (inside === 0) return outside;
  }
  return process.getuid!();
}
