// `kube play`: a manifest's objects made on berthd, in the order a cluster would settle them —
// the network, the images (as imagePullPolicy says), the claims' volumes, every workload's pods
// (each pod named on its network by the Services that select it), the NodePorts' balancers,
// then each Job run to its end. Refused before anything is made: a manifest an object of which
// already runs here (`kube down` or --replace first). When a step fails, what this play made
// is taken down again and both errors are told.

import type { ApiClient } from '../api/client.js';
import { putFiles } from '../api/container-files.js';
import { errorMessage } from '../errors.js';
import * as berthd from './berthd.js';
import { teardown } from './down.js';
import { runJob, type JobResult } from './job.js';
import { KL, ownerOf } from './labels.js';
import { find, isWorkload, type KubeObject, type Manifest } from './manifest.js';
import { planPod, podNames, type PodPlan } from './pod-plan.js';
import { serviceAliases, serviceBalancers } from './services.js';

export interface PlayOptions {
  /** The network the pods join: made (and removed with its last pod) when it is the default and missing. */
  network: string;
  log: (line: string) => void;
}

/** What a play made and how its Jobs ended. */
export interface PlayResult {
  pods: string[];
  jobs: JobResult[];
}

/** Creates and starts one planned pod: its volumes, the pod, its containers and their files. */
export async function makePod(client: ApiClient, m: Manifest, plan: PodPlan, network: string): Promise<void> {
  for (const v of plan.podVolumes)
    await berthd.ensureVolume(client, v, {
      [KL.owner]: plan.labels[KL.owner],
      [KL.namespace]: plan.labels[KL.namespace],
      [KL.pod]: plan.name,
    });
  await berthd.createPod(client, {
    name: plan.name,
    hostname: plan.hostname,
    labels: plan.labels,
    network,
    aliases: serviceAliases(m, plan),
    portBindings: plan.portBindings,
  });
  for (const c of plan.containers) {
    const id = await berthd.createContainer(client, c.name, plan.name, c.body);
    await putFiles(client, id, c.files);
  }
  await berthd.startPod(client, plan.name);
}

async function pullImages(client: ApiClient, plans: PodPlan[], log: PlayOptions['log']): Promise<void> {
  const policy = new Map<string, string>();
  for (const c of plans.flatMap((p) => p.containers)) {
    // Always wins over IfNotPresent, which wins over Never, for an image two containers name.
    const had = policy.get(c.image);
    if (had !== 'Always' && !(had === 'IfNotPresent' && c.pullPolicy === 'Never')) policy.set(c.image, c.pullPolicy);
  }
  for (const [image, p] of policy) {
    if (p !== 'Always' && (await berthd.imageExists(client, image))) continue;
    if (p === 'Never') throw new Error(`image ${image} is not present and its imagePullPolicy is Never`);
    log(`Pulling ${image}`);
    await berthd.pull(client, image);
  }
}

/** The claims the pods mount: made from the manifest's PersistentVolumeClaims when missing; one neither here nor in the manifest is an error. */
async function ensureClaims(client: ApiClient, m: Manifest, plans: PodPlan[]): Promise<void> {
  for (const plan of plans) {
    for (const claim of plan.claims) {
      const o = find(m, 'PersistentVolumeClaim', plan.owner.namespace, claim);
      if (o) await berthd.ensureVolume(client, claim, { [KL.owner]: ownerOf(o.kind, o.name), [KL.namespace]: o.namespace });
      else if (!(await berthd.volumeExists(client, claim)))
        throw new Error(
          `${plan.owner.kind} "${plan.owner.name}": persistentvolumeclaim "${claim}" not found (neither in ${m.file} nor a volume of berthd)`,
        );
    }
  }
}

/** Refuses to play over what an earlier play of these objects left. */
async function refuseRunning(client: ApiClient, objects: KubeObject[]): Promise<void> {
  for (const o of objects) {
    const owner = ownerOf(o.kind, o.name);
    const [pods, balancers] = await Promise.all([
      berthd.podsLabelled(client, [`${KL.owner}=${owner}`]),
      berthd.balancersLabelled(client, [`${KL.owner}=${owner}`]),
    ]);
    if (pods.length || balancers.length)
      throw new Error(
        `${o.kind} "${o.name}" is already played here (${[...pods.map((p) => `pod ${p.Name}`), ...balancers.map((b) => `balancer ${b.Name}`)].join(', ')}): run berth kube down first, or play with --replace`,
      );
  }
}

export async function play(client: ApiClient, m: Manifest, opts: PlayOptions): Promise<PlayResult> {
  const workloads = m.objects.filter(isWorkload);
  // Every pod is planned first, so that a mistake anywhere is told before anything is made.
  const plans = workloads.filter((o) => o.kind !== 'Job').flatMap((o) => podNames(o).map((n) => planPod(m, o, n)));
  const jobs = workloads.filter((o) => o.kind === 'Job');
  const jobPlans = jobs.map((o) => planPod(m, o, podNames(o)[0]));
  const balancers = serviceBalancers(m, plans);
  await refuseRunning(client, m.objects);
  const made: PlayResult = { pods: [], jobs: [] };
  try {
    await berthd.ensureNetwork(client, opts.network);
    await pullImages(client, [...plans, ...jobPlans], opts.log);
    await ensureClaims(client, m, [...plans, ...jobPlans]);
    for (const plan of plans) {
      await makePod(client, m, plan, opts.network);
      made.pods.push(plan.name);
      opts.log(`Pod ${plan.name} (${plan.owner.kind} "${plan.owner.name}"): started`);
    }
    for (const b of balancers) {
      await berthd.createBalancer(client, b.create);
      opts.log(b.describe);
    }
  } catch (e) {
    try {
      await teardown(client, m, { network: opts.network, log: () => undefined });
    } catch (e2) {
      throw new Error(`${errorMessage(e)}; and taking down what was made failed too: ${errorMessage(e2)}`);
    }
    throw e;
  }
  made.jobs = await Promise.all(
    jobs.map((o) =>
      runJob(client, m, o, {
        make: (plan) => makePod(client, m, plan, opts.network),
        log: opts.log,
      }),
    ),
  );
  return made;
}
