// How a failed start of a process reaches the caller, as dockerd 20.10 reports it (its
// translateContainerdStartErr): a command that is missing or cannot be run is the caller's
// mistake (400), anything else the engine's (500). A container's start records the exit code
// (127 missing, 126 not runnable, 128 other); an exec instance always records 126.

import { BerthError, errorMessage } from '../errors.js';

const MISSING = /executable file not found|no such file or directory/i;
const NOT_RUNNABLE = /permission denied|exec format error/i;

/** A container start's error, with the exit code inspect shows. */
export function startError(e: unknown): BerthError & { exitCode: number } {
  const msg = errorMessage(e);
  const code = MISSING.test(msg) ? 127 : NOT_RUNNABLE.test(msg) ? 126 : 128;
  const err = (
    code === 128 && e instanceof BerthError ? e : new BerthError(code === 128 ? 'system' : 'invalid', msg, { cause: e })
  ) as BerthError & { exitCode: number };
  err.exitCode = code;
  return err;
}

/** Exec instances record 126 whatever the cause (dockerd sets it after the translation). */
export const EXEC_START_FAILED = 126;

/**
 * An exec start's error in dockerd's words, which clients match on ("OCI runtime exec failed"):
 * the runtime's message wrapped as containerd and runc wrap it.
 */
export function execStartError(e: unknown): BerthError {
  const msg = errorMessage(e);
  const kind = MISSING.test(msg) || NOT_RUNNABLE.test(msg) ? 'invalid' : 'system';
  return new BerthError(kind, `OCI runtime exec failed: exec failed: unable to start container process: ${msg}: unknown`, {
    cause: e,
  });
}
