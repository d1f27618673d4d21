// Restart policies as dockerd applies them (its restartmanager): `no`, `on-failure[:N]`,
// `always`, `unless-stopped`; a delay starting at 100 ms that doubles on each restart up to a
// minute, back to 100 ms once a run lasted 10 s. Pure: the engine keeps the timers.

import { invalid } from '../../errors.js';
import type { RestartPolicy } from '../types.js';

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
/** A run this long resets the delay. */
const RESET_AFTER_MS = 10_000;

const NAMES = ['', 'no', 'always', 'on-failure', 'unless-stopped'];

/** Docker's checks of a policy given at create or update. */
export function checkRestartPolicy(p: RestartPolicy | undefined, autoRemove: boolean): RestartPolicy {
  // No policy is recorded as 'no', as dockerd does.
  const policy: RestartPolicy = { Name: p?.Name || 'no', MaximumRetryCount: p?.MaximumRetryCount ?? 0 };
  if (!NAMES.includes(policy.Name)) {
    throw invalid(`invalid restart policy: unknown policy '${policy.Name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  const max = policy.MaximumRetryCount ?? 0;
  if (!Number.isInteger(max)) throw invalid('invalid restart policy: maximum retry count must be an integer');
  if (max < 0) throw invalid('invalid restart policy: maximum retry count cannot be negative');
  if (max > 0 && policy.Name !== 'on-failure')
    throw invalid(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  if (autoRemove && !isNone(policy)) throw invalid(`can't create 'AutoRemove' container with restart policy`);
  return policy;
}

export const isNone = (p: RestartPolicy | undefined) => !p || p.Name === '' || p.Name === 'no';

/**
 * One container's restart state between user starts: the current delay, the restarts counted
 * against on-failure's maximum, and whether a user's stop or kill has cancelled the next.
 */
export class RestartManager {
  private delay = 0;
  canceled = false;

  constructor(public restartCount = 0) {}

  /**
   * The delay before restarting a container that exited with `exitCode` after running `ranMs`,
   * or undefined when it stays down. Counts the restart when there is one.
   */
  next(policy: RestartPolicy | undefined, exitCode: number, manuallyStopped: boolean, ranMs: number): number | undefined {
    if (isNone(policy) || this.canceled) return undefined;
    if (ranMs >= RESET_AFTER_MS) this.delay = 0;
    this.delay = this.delay === 0 ? FIRST_DELAY_MS : Math.min(this.delay * 2, MAX_DELAY_MS);
    const max = policy!.MaximumRetryCount ?? 0;
    const restart =
      policy!.Name === 'always' ||
      (policy!.Name === 'unless-stopped' && !manuallyStopped) ||
      (policy!.Name === 'on-failure' && (max === 0 || this.restartCount < max) && exitCode !== 0);
    if (!restart) return undefined;
    this.restartCount++;
    return this.delay;
  }
}
