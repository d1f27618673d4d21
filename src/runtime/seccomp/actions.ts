// OCI seccomp actions (SCMP_ACT_*) → the 32-bit SECCOMP_RET_* value a filter returns, with
// errnoRet folded into the data bits. SCMP_ACT_NOTIFY is refused: berth has no notify agent.

import { invalid, unsupported } from '../../errors.js';

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

const EPERM = 1;

/**
 * The SECCOMP_RET_* value of `action`. `errnoRet` is the errno of SCMP_ACT_ERRNO and the
 * data handed to the tracer by SCMP_ACT_TRACE (EPERM when absent, as runc does); it is an
 * error on any other action. The kernel caps an ERRNO value at 4095 (MAX_ERRNO).
 * `what` names the rule in error messages.
 */
export function actionValue(action: unknown, errnoRet: unknown, what: string): number {
  const data = (): number => {
    if (errnoRet === undefined || errnoRet === null) return EPERM;
    if (typeof errnoRet !== 'number' || !Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > SECCOMP_RET_DATA) {
      throw invalid(`seccomp: ${what}: errnoRet ${JSON.stringify(errnoRet)} must be an integer from 0 to ${SECCOMP_RET_DATA}`);
    }
    return errnoRet;
  };
  const noData = (): void => {
    if (errnoRet !== undefined && errnoRet !== null) {
      throw invalid(`seccomp: ${what}: errnoRet is only allowed with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not ${String(action)}`);
    }
  };
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      noData();
      return SECCOMP_RET_KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      noData();
      return SECCOMP_RET_KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      noData();
      return SECCOMP_RET_TRAP;
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET_ERRNO | data()) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET_TRACE | data()) >>> 0;
    case 'SCMP_ACT_LOG':
      noData();
      return SECCOMP_RET_LOG;
    case 'SCMP_ACT_ALLOW':
      noData();
      return SECCOMP_RET_ALLOW;
    case 'SCMP_ACT_NOTIFY':
      throw unsupported(
        `seccomp: ${what}: SCMP_ACT_NOTIFY is not supported by berth (no seccomp user-notification agent); use another action`,
      );
    default:
      throw invalid(`seccomp: ${what}: unknown action ${JSON.stringify(action)}`);
  }
}
