// A peer dockerd (Debian's docker.io, 20.10) for side-by-side tests: roots of its own in a temp
// dir, no bridge and no iptables rules of its own (so it touches no shared network state), vfs
// storage, and a teardown that leaves nothing (containers, its managed containerd and shims,
// mounts, cgroup parents, the host folders it makes). Also the host-cleanup helpers the runtime
// peer tests share.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliResult } from '../engine-fixture.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why a test cannot run without these commands, or false. */
export function missing(...cmds: string[]): string | false {
  for (const c of cmds)
    if (spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0) return `${c} is not installed (apt-get install podman docker.io)`;
  return false;
}

/** Every cgroup hierarchy's root: /sys/fs/cgroup itself on a pure v2 machine, else its subdirs. */
function hierarchies(): string[] {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return ['/sys/fs/cgroup'];
  return readdirSync('/sys/fs/cgroup', { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join('/sys/fs/cgroup', e.name, 'cgroup.procs')))
    .map((e) => join('/sys/fs/cgroup', e.name));
}

/** The cgroup parents an engine makes (docker, libpod_parent) that exist now. */
export function cgroupParents(names: string[]): Set<string> {
  const s = new Set<string>();
  for (const h of hierarchies()) for (const n of names) if (existsSync(join(h, n))) s.add(join(h, n));
  return s;
}

function rmdirTree(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) rmdirTree(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    /* busy: the leak check will name it */
  }
}

/** Removes the engine's cgroup parents that were not there before the test. */
export async function removeNewCgroups(before: Set<string>, names: string[]): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const left = [...cgroupParents(names)].filter((p) => !before.has(p));
    if (!left.length) return;
    for (const p of left) rmdirTree(p);
    await sleep(100);
  }
}

/** Mount points under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => unescape(l.split(' ')[4]))
    .filter((p) => p === dir || p.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

export function unmountUnder(dir: string): void {
  for (const p of mountsUnder(dir)) if (spawnSync('umount', [p]).status !== 0) spawnSync('umount', ['-l', p]);
}

/** Pids of processes whose command line names `dir` (the engine's own roots are in it). */
export function pidsNaming(dir: string): number[] {
  const pids: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(dir)) pids.push(Number(n));
    } catch {
      /* gone */
    }
  }
  return pids;
}

export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Waits for `pids` to exit; after `ms`, kills what is left. Only pids this test's engines started. */
export async function endProcesses(pids: number[], ms: number): Promise<void> {
  for (let t = 0; t < ms && pids.some(alive); t += 100) await sleep(100);
  for (const p of pids.filter(alive))
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  for (let t = 0; t < 5000 && pids.some(alive); t += 50) await sleep(50);
}

/** Host folders the engine makes outside its roots (hard-coded in it): the ones not there yet. */
export function newDirs(paths: string[]): string[] {
  return paths.filter((p) => !existsSync(p));
}
export function removeIfEmpty(paths: string[]): void {
  for (const p of paths)
    try {
      rmdirSync(p);
    } catch {
      /* not ours to empty, or in use */
    }
}

export interface Dockerd {
  dir: string;
  execRoot: string;
  /** The docker 28 CLI (or `bin`) against this dockerd. */
  docker(args: string[], opts?: { bin?: string; input?: string }): CliResult;
  log(): string;
  stop(): Promise<void>;
}

/** Starts a dockerd with `args` added (`--add-runtime …`, `--insecure-registry …`); waits for it to answer. */
export async function startDockerd(args: string[] = [], docker = '/usr/local/bin/docker'): Promise<Dockerd> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-dockerd-'));
  const cgBefore = cgroupParents(['docker']);
  // Paths dockerd 20.10 and containerd 1.6 make whatever their roots: the shim's socket folder
  // and the plugin socket folder.
  const made = newDirs(['/run/containerd', '/run/containerd/s', '/run/docker', '/run/docker/plugins']).reverse();
  const sock = join(dir, 'docker.sock');
  const execRoot = join(dir, 'exec');
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir, 'cli') };
  // deprecated-key-path: else dockerd 20.10 writes /etc/docker/key.json.
  writeFileSync(join(dir, 'daemon.json'), JSON.stringify({ 'deprecated-key-path': join(dir, 'key.json') }));
  const logFd = openSync(join(dir, 'dockerd.log'), 'a');
  const child = spawn(
    'dockerd',
    [
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      execRoot,
      '-H',
      `unix://${sock}`,
      '--pidfile',
      join(dir, 'dockerd.pid'),
      '--config-file',
      join(dir, 'daemon.json'),
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--storage-driver',
      'vfs',
      ...args,
    ],
    { env, stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  const run: Dockerd['docker'] = (a, o = {}) => {
    const r = spawnSync(o.bin ?? docker, a, { env, encoding: 'utf8', timeout: 60_000, input: o.input });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const stop = async () => {
    if (alive(child.pid!)) {
      const ps = run(['ps', '-aq']);
      for (const id of ps.stdout.split('\n').filter(Boolean)) run(['rm', '-f', id]);
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(20000)]);
    }
    // dockerd's managed containerd and any shim left: every one names our exec root.
    await endProcesses(pidsNaming(dir), 5000);
    unmountUnder(dir);
    await removeNewCgroups(cgBefore, ['docker']);
    rmSync(dir, { recursive: true, force: true });
    removeIfEmpty(made);
  };
  for (let i = 0; ; i++) {
    if (run(['version', '--format', '{{.Server.Version}}']).status === 0) break;
    if (i >= 300 || child.exitCode !== null) {
      const log = readFileSync(join(dir, 'dockerd.log'), 'utf8').slice(-3000);
      await stop();
      throw new Error(`dockerd did not start:\n${log}`);
    }
    await sleep(100);
  }
  return { dir, execRoot, docker: run, log: () => readFileSync(join(dir, 'dockerd.log'), 'utf8'), stop };
}
