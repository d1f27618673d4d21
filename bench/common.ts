// What every bench needs around the peers it times: running commands, finding them, the
// percentile it reports, and taking down what it started (daemons by PID, mounts under its
// temp dir).
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function sh(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
}

export function which(cmd: string): string | undefined {
  const r = sh('sh', ['-c', `command -v ${cmd}`]);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The q-quantile (nearest rank) of `xs`: 0.5 is the median. */
export function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** Mount points at or under `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const p = mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (p === dir || p.startsWith(dir + '/')) out.push(p);
  }
  return out.sort((a, b) => b.length - a.length);
}

export function unmountAll(dir: string): void {
  for (let round = 0; round < 5; round++) {
    const ms = mountsUnder(dir);
    if (ms.length === 0) return;
    for (const m of ms) sh('umount', [m]).status === 0 || sh('umount', ['-l', m]);
  }
}

/** SIGTERM to each daemon the bench started, last started first (dockerd before its containerd); SIGKILL after 15 s. */
export async function stopChildren(children: { name: string; child: ChildProcess }[]): Promise<void> {
  for (const { name, child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(child.pid!, 'SIGTERM');
    const t = setTimeout(() => { try { process.kill(child.pid!, 'SIGKILL'); console.log(`${name} killed`); } catch { /* gone */ } }, 15_000);
    await gone;
    clearTimeout(t);
  }
}
