// A git repository as a build context, as dockerd's builder takes a `remote` that names one:
// `URL#REF:SUBDIR`, fetched (shallow where the server allows it) with the git on berthd's PATH,
// checked out, its submodules with it, and the context being SUBDIR of the checkout, which must
// stay inside it (a symlink out is refused). With no REF the remote's HEAD is taken, its default
// branch (dockerd 20.10 took `master`). Transports a user did not name are off: no `file://` or
// `ext::` through a submodule (GIT_PROTOCOL_FROM_USER=0), and git never prompts for a password.

import { mkdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { invalid, systemError } from '../errors.js';
import { runChild } from '../native/child.js';

export interface GitRemote {
  /** What git fetches from. */
  url: string;
  /** A branch, tag or commit; HEAD when the remote named none. */
  ref: string;
  /** The context's folder in the checkout ('' for its root). */
  subdir: string;
}

/** Whether `remote` names a git repository, by dockerd's rules (urlutil.IsGitURL). */
export function isGitRemote(remote: string): boolean {
  return /^(git:\/\/|git@|github\.com\/)/.test(remote) || /^https?:\/\/[^#]*\.git(#.*)?$/.test(remote);
}

/** `URL#REF:SUBDIR` split as dockerd splits it; `github.com/…` is fetched over https. */
export function parseGitRemote(remote: string): GitRemote {
  const full = remote.startsWith('github.com/') ? `https://${remote}` : remote;
  const hash = full.indexOf('#');
  const url = hash < 0 ? full : full.slice(0, hash);
  const fragment = hash < 0 ? '' : full.slice(hash + 1);
  const colon = fragment.indexOf(':');
  const ref = (colon < 0 ? fragment : fragment.slice(0, colon)) || 'HEAD';
  const subdir = colon < 0 ? '' : fragment.slice(colon + 1);
  if (ref.startsWith('-')) throw invalid(`invalid refspec: ${ref}`);
  return { url, ref, subdir };
}

/** Clones `remote` into `root` (an empty or absent folder); resolves with the context's folder in it. */
export async function cloneGitContext(remote: string, root: string): Promise<string> {
  const repo = parseGitRemote(remote);
  const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PROTOCOL_FROM_USER: '0' };
  const git = async (what: string, ...args: string[]) => {
    let r;
    try {
      r = await runChild('git', ['-C', root, ...args], { env });
    } catch (e) {
      throw systemError(`${what} ${repo.url}: cannot run git (is it installed?)`, e);
    }
    return r;
  };
  const must = async (what: string, ...args: string[]) => {
    const r = await git(what, ...args);
    if (r.code !== 0) throw invalid(`${what} ${repo.url}: ${(r.stderr || r.stdout).trim() || `git exit status ${r.code}`}`);
  };
  await mkdir(root, { recursive: true, mode: 0o700 });
  await must('error initializing a repository for', 'init', '-q');
  await must('error adding the remote', 'remote', 'add', 'origin', repo.url);
  // Shallow first; a "dumb" HTTP server cannot serve that, and gets a full fetch.
  const shallow = await git('error fetching', 'fetch', '-q', '--depth', '1', 'origin', '--', repo.ref);
  if (shallow.code !== 0) await must('error fetching', 'fetch', '-q', 'origin', '--', repo.ref);
  // By name first (a branch checks out as itself), else what the fetch brought.
  const byName = repo.ref === 'HEAD' ? { code: 1 } : await git('error checking out', 'checkout', '-q', repo.ref);
  if (byName.code !== 0) await must(`error checking out ${repo.ref} of`, 'checkout', '-q', 'FETCH_HEAD');
  await must('error updating the submodules of', 'submodule', 'update', '-q', '--init', '--recursive', '--depth=1');
  if (!repo.subdir) return root;
  const top = await realpath(root);
  let dir: string;
  try {
    dir = await realpath(join(top, repo.subdir));
  } catch {
    throw invalid(`error setting git context, ${JSON.stringify(repo.subdir)} not found in ${repo.url}`);
  }
  if (dir !== top && !dir.startsWith(top + sep))
    throw invalid(`error setting git context, ${JSON.stringify(repo.subdir)} not within git root`);
  if (!(await stat(dir)).isDirectory()) throw invalid(`error setting git context, not a directory: ${repo.subdir}`);
  return dir;
}
