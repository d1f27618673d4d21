// The health probe through the engine's exec: the health monitor (engine/containers/health.ts)
// asks, this runs the probe's process in the container and collects what dockerd keeps of it.
// Apart from the monitor so that the containers' rooms need nothing of exec.

import { errorMessage } from '../errors.js';
import { goDuration, MAX_OUTPUT } from './containers/health.js';
import type { Execs } from './exec.js';
import { settled } from '../common/promises.js';
import { isErrno } from '../common/errno.js';

/**
 * Runs a probe through the engine's exec, as dockerd's: stdout and stderr together (the first
 * 4 KiB), the exit code; past `timeoutMs` the process is killed and the result is -1.
 */
export async function execProbe(
  execs: Execs,
  containerId: string,
  cmd: string[],
  timeoutMs: number,
): Promise<{ ExitCode: number; Output: string }> {
  const inst = execs.create(containerId, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
  try {
    let out = '';
    const keep = (d: Buffer) => {
      if (out.length < MAX_OUTPUT) out = (out + d.toString('utf8')).slice(0, MAX_OUTPUT);
    };
    let s;
    try {
      s = await execs.start(inst.ID);
    } catch (e) {
      return { ExitCode: inst.ExitCode ?? -1, Output: errorMessage(e) };
    }
    s.stdout?.on('data', keep);
    s.stderr?.on('data', keep);
    const ended = Promise.all(
      [s.stdout, s.stderr].map((r) =>
        r
          ? new Promise<void>((res) => {
              r.on('close', res);
              r.on('error', () => res());
            })
          : undefined,
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((res) => {
      timer = setTimeout(() => res('timeout'), timeoutMs);
    });
    const code = await Promise.race([s.exit.catch(() => -1), timedOut]);
    clearTimeout(timer);
    if (code === 'timeout') {
      try {
        process.kill(inst.Pid, 'SIGKILL');
      } catch (e) {
        if (!isErrno(e, 'ESRCH')) throw e; // ended meanwhile
      }
      void settled(s.exit); // killed: the probe's result is the timeout, whatever its exit
      return { ExitCode: -1, Output: `Health check exceeded timeout (${goDuration(timeoutMs)})` };
    }
    await Promise.race([ended, new Promise((r) => setTimeout(r, 1000))]);
    return { ExitCode: code, Output: out };
  } finally {
    execs.forget(inst.ID);
  }
}
