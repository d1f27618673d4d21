// Health checks as dockerd runs them: the probe (`Config.Healthcheck.Test`, merged with the
// image's) runs inside the container through the engine's exec every Interval (StartInterval
// while starting within StartPeriod), a probe past its Timeout is a failure (exit -1), Retries
// failures in a row make the container unhealthy, one success healthy. The last 5 results are
// kept in `State.Health`. The monitor holds only timers; the container's state is its caller's.

import { errorMessage, invalid } from '../../errors.js';
import type { HealthConfig, HealthLogEntry, HealthState } from '../types.js';

const MS = 1_000_000;
const DEFAULTS = { Interval: 30_000, Timeout: 30_000, StartPeriod: 0, StartInterval: 5_000, Retries: 3 };
const MAX_LOG = 5;
/** Docker keeps this much of a probe's output. */
export const MAX_OUTPUT = 4096;

/** The user's health check over the image's, field by field, as dockerd merges them. */
export function mergeHealthcheck(user?: HealthConfig | null, image?: HealthConfig | null): HealthConfig | undefined {
  if (!user) return image ?? undefined;
  if (!image) return user;
  return {
    Test: user.Test?.length ? user.Test : image.Test,
    Interval: user.Interval || image.Interval,
    Timeout: user.Timeout || image.Timeout,
    StartPeriod: user.StartPeriod || image.StartPeriod,
    StartInterval: user.StartInterval || image.StartInterval,
    Retries: user.Retries || image.Retries,
  };
}

/** dockerd's checks of a create body's Healthcheck. */
export function checkHealthcheck(h: HealthConfig | null | undefined): void {
  if (!h) return;
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const) {
    const v = h[k] ?? 0;
    if (v !== 0 && v < MS) throw invalid(`${k} in Healthcheck cannot be less than 1ms`);
  }
  if ((h.Retries ?? 0) < 0) throw invalid('Retries in Healthcheck cannot be negative');
  // dockerd takes such a check and never probes it (a warning in its log alone): berth refuses
  // rather than accept a health check that would do nothing (README, "Where berth differs").
  const kind = h.Test?.[0];
  if (kind && !['NONE', 'CMD', 'CMD-SHELL'].includes(kind)) throw invalid(`unknown type of healthcheck: ${kind}`);
}

/** An unhealthy container's fate: `none` (Docker's: it runs on), or `kill` (Kubernetes' liveness: ended, then its restart policy). */
export function checkHealthOnFailure(action: string | undefined, h: HealthConfig | null | undefined): void {
  if (action === undefined || action === 'none') return;
  if (action !== 'kill') throw invalid(`invalid HealthOnFailure ${JSON.stringify(action)}: berth has none and kill`);
  if (!probeCommand(h ?? undefined)) throw invalid('HealthOnFailure kill needs a health check');
}

/** The command a probe runs, or undefined when the container has no health check. */
export function probeCommand(h: HealthConfig | undefined): string[] | undefined {
  const t = h?.Test;
  if (!t?.length || t[0] === 'NONE') return undefined;
  if (t[0] === 'CMD-SHELL') return ['/bin/sh', '-c', t.slice(1).join(' ')];
  return t[0] === 'CMD' && t.length > 1 ? t.slice(1) : undefined;
}

const ms = (ns: number | undefined, dflt: number) => (ns ? ns / MS : dflt);

/** Go's Duration text for whole milliseconds or seconds (`500ms`, `1s`, `1.5s`). */
export function goDuration(msec: number): string {
  return msec < 1000 ? `${msec}ms` : `${msec / 1000}s`;
}

/**
 * Records a probe's result as dockerd does: a success is healthy; a failure counts towards
 * Retries unless the container is still starting within its StartPeriod. Returns the new
 * status when it changed.
 */
export function recordResult(state: HealthState, r: HealthLogEntry, h: HealthConfig, startedAt: string): HealthState['Status'] | undefined {
  const before = state.Status;
  state.Log = [...state.Log, r].slice(-MAX_LOG);
  if (r.ExitCode === 0) {
    state.FailingStreak = 0;
    state.Status = 'healthy';
  } else if (!(state.Status === 'starting' && Date.parse(r.Start) - Date.parse(startedAt) < ms(h.StartPeriod, DEFAULTS.StartPeriod))) {
    state.FailingStreak++;
    if (state.FailingStreak >= (h.Retries || DEFAULTS.Retries)) state.Status = 'unhealthy';
  }
  return state.Status === before ? undefined : state.Status;
}

export type Prober = (cmd: string[], timeoutMs: number) => Promise<{ ExitCode: number; Output: string }>;

/**
 * One running (not paused) container's probes; `onResult` records each. stop() ends the loop;
 * a probe under way is ignored.
 */
export class HealthMonitor {
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly h: HealthConfig,
    private readonly startedAt: string,
    private readonly status: () => HealthState['Status'],
    private readonly probe: Prober,
    private readonly onResult: (r: HealthLogEntry) => void,
  ) {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private interval(): number {
    const starting = Date.now() - Date.parse(this.startedAt) < ms(this.h.StartPeriod, DEFAULTS.StartPeriod) && this.status() === 'starting';
    return starting ? ms(this.h.StartInterval, DEFAULTS.StartInterval) : ms(this.h.Interval, DEFAULTS.Interval);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.run();
    }, this.interval());
  }

  private async run(): Promise<void> {
    const cmd = probeCommand(this.h)!;
    const start = new Date().toISOString();
    let r: { ExitCode: number; Output: string };
    try {
      r = await this.probe(cmd, ms(this.h.Timeout, DEFAULTS.Timeout));
    } catch (e) {
      r = { ExitCode: -1, Output: errorMessage(e) };
    }
    if (this.stopped) return;
    this.onResult({ Start: start, End: new Date().toISOString(), ...r });
    this.schedule();
  }
}
