// RunPodSandbox, StopPodSandbox, RemovePodSandbox, PodSandboxStatus and ListPodSandbox over the
// engine's pods: a sandbox is a pod whose infra container holds its namespaces. Only pods the CRI
// made (with CRI metadata, labels.ts) are sandboxes; `berth pod ls` shows them all.

import type { Engine, PodInfo } from '../engine/index.js';
import { BerthError, invalid, withCleanup } from '../errors.js';
import { refuseUnapplied } from './fields.js';
import { CRI_LABEL, keptJSON, kubeletLabels } from './labels.js';
import { NamespaceMode, onPodNetwork, podOptions, type PodSandboxConfig, type PodSandboxMetadata } from './sandbox-config.js';
import { nanos } from './time.js';

/** runtime.v1 PodSandboxState. */
const SANDBOX_READY = 0,
  SANDBOX_NOTREADY = 1;

const isNotFound = (e: unknown) => e instanceof BerthError && e.kind === 'not-found';

/** The CRI's pods: those with CRI metadata. */
export function criPods(engine: Engine): PodInfo[] {
  return engine.pods.list().filter((i) => i.pod.Labels[CRI_LABEL.metadata] !== undefined);
}

export function sandboxState(i: PodInfo): number {
  return i.infra?.State.Status === 'running' ? SANDBOX_READY : SANDBOX_NOTREADY;
}

function namespaces(i: PodInfo) {
  const shared = new Set(i.pod.SharedNamespaces);
  const mode = (ns: 'net' | 'ipc' | 'pid', node: boolean) =>
    shared.has(ns) ? NamespaceMode.POD : node ? NamespaceMode.NODE : NamespaceMode.CONTAINER;
  return { network: mode('net', true), pid: mode('pid', false), ipc: mode('ipc', true) };
}

/** The sandbox as ListPodSandbox and PodSandboxStatus share it. */
export function sandboxBase(i: PodInfo) {
  return {
    id: i.pod.Id,
    metadata: keptJSON<PodSandboxMetadata>(i.pod.Labels, 'metadata'),
    state: sandboxState(i),
    created_at: nanos(i.pod.Created),
    labels: kubeletLabels(i.pod.Labels),
    annotations: keptJSON<Record<string, string>>(i.pod.Labels, 'annotations') ?? {},
  };
}

interface SandboxFilter {
  id?: string;
  state?: { state?: number };
  label_selector?: Record<string, string>;
}

export function matchesLabels(labels: Record<string, string>, selector: Record<string, string> | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

export function sandboxService(engine: Engine, opts: { cniConfDir: string }) {
  return {
    async RunPodSandbox(req: { config?: PodSandboxConfig; runtime_handler?: string }) {
      if (req.runtime_handler)
        throw invalid(`RunPodSandbox: berthd has no runtime handler ${JSON.stringify(req.runtime_handler)} (runtime_handler)`);
      const o = podOptions(req.config);
      // The node's network add-on's config, read for each sandbox as containerd does (it may change).
      if (o.Share?.includes('net'))
        onPodNetwork(o, req.config!.metadata!, (await engine.containers.networks.useCniConfig(opts.cniConfDir)).Name);
      const pod = await engine.pods.create(o);
      try {
        await engine.pods.start(pod.Id);
      } catch (e) {
        // A sandbox that cannot run is not left behind: kubelet makes a new one on its next try.
        const cleanup: Error[] = [];
        await engine.pods.remove(pod.Id, { force: true }).catch((c: Error) => cleanup.push(c));
        throw withCleanup(e, cleanup);
      }
      return { pod_sandbox_id: pod.Id };
    },

    async StopPodSandbox(req: { pod_sandbox_id?: string }) {
      // Kubelet has stopped the containers with their grace periods; what is left is killed now.
      await engine.pods.stop(sandboxId(engine, req.pod_sandbox_id), { timeout: 0 });
      return {};
    },

    async RemovePodSandbox(req: { pod_sandbox_id?: string }) {
      try {
        await engine.pods.remove(sandboxId(engine, req.pod_sandbox_id), { force: true });
      } catch (e) {
        // Removing what is gone succeeds, as the CRI asks.
        if (!isNotFound(e)) throw e;
      }
      return {};
    },

    async PodSandboxStatus(req: { pod_sandbox_id?: string; verbose?: boolean }) {
      refuseUnapplied('PodSandboxStatus', req, { pod_sandbox_id: true, verbose: true });
      const i = engine.pods.inspect(sandboxId(engine, req.pod_sandbox_id));
      const ip = Object.values(i.infra?.NetworkSettings?.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress ?? '';
      return {
        status: {
          ...sandboxBase(i),
          network: { ip },
          linux: { namespaces: { options: namespaces(i) } },
        },
        info: req.verbose ? { pod: JSON.stringify(i.pod), infra: i.infra?.Id ?? '' } : {},
      };
    },

    async ListPodSandbox(req: { filter?: SandboxFilter }) {
      refuseUnapplied('ListPodSandbox', req, { filter: { id: true, state: true, label_selector: true } });
      const f = req.filter ?? {};
      const items = criPods(engine)
        .filter((i) => !f.id || i.pod.Id.startsWith(f.id))
        .map(sandboxBase)
        .filter((s) => (!f.state || s.state === (f.state.state ?? 0)) && matchesLabels(s.labels, f.label_selector));
      return { items };
    },
  };
}

/** The ID kubelet names, which must be a CRI sandbox's. */
export function sandboxId(engine: Engine, id: string | undefined): string {
  if (!id) throw invalid('pod_sandbox_id is required');
  const pod = engine.pods.get(id);
  if (pod.Labels[CRI_LABEL.metadata] === undefined) throw new BerthError('not-found', `pod ${id} is berth's, not a CRI sandbox`);
  return pod.Id;
}
