// What watches a running container for its user: the restart policy's pending restart
// (engine/containers/restart.ts decides when) and the health probes (health.ts runs them). Both
// act on a container of the table; a restart is a start of the lifecycle's.

import { constants } from 'node:os';
import { errorMessage } from '../../errors.js';
import { HealthMonitor, probeCommand, recordResult } from './health.js';
import type { ContainerTable, Live } from './table.js';

export function scheduleRestart(t: ContainerTable, live: Live, delay: number): void {
  clearTimeout(live.restartTimer);
  live.restartTimer = setTimeout(() => {
    live.restartTimer = undefined;
    // A failed restart leaves it exited, as dockerd.
    void t.lifecycle
      .start(live.rec.Id, { auto: true })
      .catch((e) => t.log('warn', `restart ${live.rec.Id.slice(0, 12)}: ${errorMessage(e)}`));
  }, delay);
}

/** Ends a pending restart: the container stays exited with its last exit code. */
export function cancelRestart(t: ContainerTable, live: Live): void {
  clearTimeout(live.restartTimer);
  live.restartTimer = undefined;
  if (live.rec.State.Status !== 'restarting') return;
  live.rec.State.Status = 'exited';
  t.saveLater(live);
  t.exitedNow(live);
}

/** A user's stop or kill: `unless-stopped` leaves it down; with `exitNext` its coming exit restarts nothing. */
export function stoppedByUser(t: ContainerTable, live: Live, exitNext: boolean): void {
  live.rec.HasBeenManuallyStopped = true;
  if (exitNext) live.restart.canceled = true;
  t.saveLater(live);
}

/** Ends the probes; as dockerd, a container whose checks have stopped reads as unhealthy. */
export function stopHealth(live: Live): void {
  if (!live.health) return;
  live.health.stop();
  live.health = undefined;
  if (live.rec.State.Health) live.rec.State.Health.Status = 'unhealthy';
}

/**
 * Runs the container's health check, if it has one: from 'starting' at a start, from the
 * recorded state when adopted or unpaused (never while paused). Results are saved; a change of
 * status is an event.
 */
export function startHealth(t: ContainerTable, live: Live, fresh: boolean): void {
  const rec = live.rec;
  const h = rec.Config.Healthcheck ?? undefined;
  live.health?.stop();
  live.health = undefined;
  if (!probeCommand(h) || !t.prober || live.rec.State.Status === 'paused') return;
  if (fresh || !rec.State.Health) {
    rec.State.Health = { Status: 'starting', FailingStreak: 0, Log: rec.State.Health?.Log ?? [] };
    t.saveLater(live);
  }
  const prober = t.prober;
  live.health = new HealthMonitor(
    h!,
    rec.State.StartedAt,
    () => rec.State.Health!.Status,
    (cmd, timeoutMs) => prober(rec.Id, cmd, timeoutMs),
    (r) => {
      if (!rec.State.Health || !t.byId.has(rec.Id)) return;
      const changed = recordResult(rec.State.Health, r, h!, rec.State.StartedAt);
      t.saveLater(live);
      if (changed) t.emitFor(rec, `health_status: ${changed}`);
      if (changed === 'unhealthy' && rec.Config.HealthOnFailure === 'kill') killUnhealthy(t, live);
    },
  );
}

/**
 * HealthOnFailure `kill`, Kubernetes' liveness: every process SIGKILLed, as podman's kill
 * action; not a user's stop, so the exit goes to the restart policy (`always` and `on-failure`
 * start it again).
 */
function killUnhealthy(t: ContainerTable, live: Live): void {
  const rec = live.rec;
  t.log('info', `container ${rec.Id.slice(0, 12)} is unhealthy: killing it (HealthOnFailure kill)`);
  stopHealth(live);
  t.runtime.kill(rec.Id, constants.signals.SIGKILL, { all: true }).then(
    () => t.emitFor(rec, 'kill', { signal: String(constants.signals.SIGKILL) }),
    (e: unknown) => t.log('warn', `killing unhealthy container ${rec.Id.slice(0, 12)}: ${errorMessage(e)}`),
  );
}
