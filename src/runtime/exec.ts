// `exec`: a new process in a running container — its namespaces joined through /proc/PID/ns,
// its cgroups joined, the container's seccomp filter applied.
import type { StdioOptions } from 'node:child_process';
import { resolve } from 'node:path';
import { writeFileAtomicSync } from '../common/atomic.js';
import { conflict } from '../errors.js';
import type { Namespace, Process } from '../oci/runtime-spec.js';
import { openContainer } from './container.js';
import { launch, type Launched } from './native/helper.js';
import { PROC_NS_NAMES } from './namespaces.js';
import { buildPlan } from './plan.js';
import { ociState } from './state.js';
import type { RuntimeLogger } from './log.js';

export interface ExecOptions {
  root: string;
  id: string;
  process: Process;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  /** The process's fds 0-2 (see launch()): the caller's by default; 'pipe' for a daemon's streams. */
  stdio?: StdioOptions;
  /** A terminal relayed in the foreground takes window sizes from the caller (Launched.resize). */
  resizable?: boolean;
  /** Called once the process has started, with the helper (its stdio pipes) and the pid. */
  onLaunched?: (launched: Launched) => void;
  /** Where warnings go (a capability the kernel lacks, left out as runc leaves it). */
  log?: RuntimeLogger;
}

/** Returns the process's exit code, or 0 once it started when detached. */
export async function exec(opts: ExecOptions): Promise<number> {
  const c = openContainer(opts.root, opts.id);
  if (c.status === 'paused') throw conflict('cannot exec in a paused container');
  if (c.status !== 'running' && c.status !== 'created') throw conflict(`cannot exec in a stopped container`);
  const spec = c.rec.config;
  const join: Namespace[] = (spec.linux?.namespaces ?? []).map((n) => ({
    type: n.type,
    path: `/proc/${c.rec.pid}/ns/${PROC_NS_NAMES[n.type]}`,
  }));
  const seccomp = spec.linux?.seccomp ? (await import('./seccomp/compile.js')).compileSeccompCached(spec.linux.seccomp) : undefined;
  const plan = buildPlan({
    mode: 'exec',
    foreground: !opts.detach,
    spec: { ...spec, process: opts.process },
    rootfs: c.rec.rootfs,
    join,
    seccomp,
    consoleSocket: opts.consoleSocket,
    preserveFds: opts.preserveFds,
    warn: (m) => opts.log?.('warn', m),
  });
  const launched = await launch({
    plan,
    preserveFds: opts.preserveFds,
    stdio: opts.stdio,
    resizable: opts.resizable && opts.process.terminal && !opts.detach,
    onPid: async (pid) => {
      await c.cgroups.addProcess(pid);
      return JSON.stringify(ociState(c.rec, c.status));
    },
  });
  opts.onLaunched?.(launched);
  await launched.done;
  if (opts.pidFile) writeFileAtomicSync(resolve(opts.pidFile), String(launched.pid), { durable: false });
  if (opts.detach) return 0;
  return await launched.exit;
}
