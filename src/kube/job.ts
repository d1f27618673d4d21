// A Job run to its end, as the Job controller runs one with completions and parallelism 1: with
// restartPolicy Never, a failed pod is left (for its logs) and a new one tried, until one
// succeeds or more than backoffLimit have failed; with OnFailure, the one pod's containers are
// restarted in place by berthd (restart policy on-failure, backoffLimit retries). A pod
// succeeds when every container exits 0.

import type { ApiClient } from '../api/client.js';
import * as berthd from './berthd.js';
import type { Dict, KubeObject, Manifest } from './manifest.js';
import { planPod, type PodPlan } from './pod-plan.js';

export interface JobResult {
  name: string;
  succeeded: boolean;
  /** The pods tried, in order. */
  pods: string[];
  /** Why it failed: the last failed container and its exit code. */
  reason?: string;
}

const POLL_MS = 250;

/** Waits until each container of the pod has ended for good; the first that failed, if any. */
async function podEnd(client: ApiClient, plan: PodPlan, retries: number, onFailure: boolean): Promise<string | undefined> {
  for (;;) {
    const states = await Promise.all(plan.containers.map(async (c) => ({ c, s: await berthd.inspectContainer(client, c.name) })));
    const over = (s: Dict) =>
      ['exited', 'dead'].includes(s.State.Status) && (s.State.ExitCode === 0 || !onFailure || s.RestartCount >= retries);
    if (states.every(({ s }) => over(s))) {
      const bad = states.find(({ s }) => s.State.ExitCode !== 0);
      return bad ? `container ${bad.c.name} exited with code ${bad.s.State.ExitCode}` : undefined;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export async function runJob(
  client: ApiClient,
  m: Manifest,
  o: KubeObject,
  opts: { make: (plan: PodPlan) => Promise<void>; log: (line: string) => void },
): Promise<JobResult> {
  const backoffLimit: number = o.value.spec.backoffLimit;
  const onFailure = o.value.spec.template.spec.restartPolicy === 'OnFailure';
  const result: JobResult = { name: o.name, succeeded: false, pods: [] };
  for (let attempt = 1, failed = 0; ; attempt++) {
    const plan = planPod(m, o, `${o.name}-${attempt}`);
    await opts.make(plan);
    result.pods.push(plan.name);
    const why = await podEnd(client, plan, backoffLimit, onFailure);
    if (!why) {
      result.succeeded = true;
      opts.log(`Job ${o.name}: succeeded (pod ${plan.name})`);
      return result;
    }
    failed++;
    result.reason = why;
    if (onFailure || failed > backoffLimit) {
      opts.log(`Job ${o.name}: failed: BackoffLimitExceeded: ${why} (pods ${result.pods.join(', ')})`);
      return result;
    }
    opts.log(`Job ${o.name}: pod ${plan.name} failed (${why}); trying again`);
  }
}
