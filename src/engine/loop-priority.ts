// berthd's one event loop answers the API, the embedded DNS and health probes. Under load the
// CPUs are taken by what it starts (containers, CNI plugins, iptables, runtimes), and each
// answer waited its turn behind them: /_ping's p99 was 50–120 ms while containers started
// (bench/latency.ts). The loop's thread gets a lower nice value; SCHED_RESET_ON_FORK makes every
// thread and process created from it afterwards start at nice 0, so no container, monitor or
// helper inherits the priority (binding.c, prioritizeThread).

import { isErrno } from '../common/errno.js';
import { prioritizeThread } from '../native/binding.js';

/** The loop thread's nice value: ahead of nice-0 work (~10× its CPU weight), behind nothing else. */
export const LOOP_NICE = -10;

/** Call from the loop's thread; a berthd without CAP_SYS_NICE runs on at its priority, saying so. */
export function prioritizeEventLoop(log: (level: 'debug' | 'info', msg: string) => void): void {
  try {
    if (!prioritizeThread(LOOP_NICE)) log('info', 'event loop priority: the native binding predates prioritizeThread; rebuild it');
    else log('debug', `event loop thread at nice ${LOOP_NICE}; what it starts runs at nice 0`);
  } catch (e) {
    if (!isErrno(e, 'EPERM', 'EACCES')) throw e;
    log('info', `event loop priority left as it is: ${(e as Error).message}`);
  }
}
