// Services as berth serves them: a Service's name (and `name.namespace`, `name.namespace.svc`,
// `name.namespace.svc.cluster.local`) is an alias of each pod it selects on the pods' network,
// so the embedded DNS answers it with every such pod's address (the pods' own addresses: no
// cluster IP); each NodePort is a balancer of berthd, a host port spread across those pods.

import type { BalancerCreate } from './berthd.js';
import { KL, ownerOf } from './labels.js';
import type { Dict, KubeObject, Manifest } from './manifest.js';
import type { PodPlan } from './pod-plan.js';

const selects = (svc: KubeObject, plan: PodPlan) =>
  svc.namespace === plan.owner.namespace &&
  Object.entries(svc.value.spec.selector as Record<string, string>).every(([k, v]) => plan.labels[k] === v);

const services = (m: Manifest) => m.objects.filter((o) => o.kind === 'Service');

/** The names the pod answers to: those of the Services selecting it. */
export function serviceAliases(m: Manifest, plan: PodPlan): string[] {
  return services(m)
    .filter((s) => selects(s, plan))
    .flatMap((s) => [s.name, `${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}.svc.cluster.local`]);
}

/** The container of the pod that declares `port` (by number or name), else its first: all share the pod's address. */
function backendOf(plan: PodPlan, port: number | string): { container: string; port: number } | undefined {
  for (const c of plan.containers) {
    const declared = Object.keys((c.body.ExposedPorts as Dict) ?? {});
    if (typeof port === 'number' && declared.some((k) => k.startsWith(`${port}/`))) return { container: c.name, port };
  }
  if (typeof port === 'number') return { container: plan.containers[0].name, port };
  const spec = plan.owner.kind === 'Pod' ? plan.owner.value.spec : plan.owner.value.spec.template.spec;
  for (const [i, c] of (spec.containers as Dict[]).entries()) {
    const named = ((c.ports as Dict[]) ?? []).find((p) => p.name === port);
    if (named) return { container: plan.containers[i].name, port: named.containerPort };
  }
  return undefined;
}

/** As a balancer's backend: a pod with a readinessProbe takes connections only while it passes (Kubernetes' endpoints). */
function balancerBackend(plan: PodPlan, b: { container: string; port: number }): BalancerCreate['Backends'][number] {
  const ready = plan.containers.find((c) => c.name === b.container)?.readiness;
  return { Container: b.container, Port: b.port, ...(ready ? { Healthy: true } : {}) };
}

/** A NodePort the Service did not fix: drawn from Kubernetes' default range, 30000-32767. */
const drawNodePort = () => 30000 + Math.floor(Math.random() * 2768);

/** One balancer per NodePort port of each Service, with the pods it selects as backends. */
export function serviceBalancers(m: Manifest, plans: PodPlan[]): { create: BalancerCreate; describe: string }[] {
  const out: { create: BalancerCreate; describe: string }[] = [];
  for (const svc of services(m)) {
    const pods = plans.filter((p) => selects(svc, p));
    if (svc.value.spec.type !== 'NodePort') continue;
    for (const [i, p] of (svc.value.spec.ports as Dict[]).entries()) {
      const nodePort: number = p.nodePort ?? drawNodePort();
      const backends = pods.flatMap((plan) => {
        const b = backendOf(plan, p.targetPort);
        return b ? [balancerBackend(plan, b)] : [];
      });
      if (pods.length && !backends.length)
        throw svc.doc.error(['spec', 'ports', i, 'targetPort'], `no selected pod has a container port named "${p.targetPort}"`);
      out.push({
        create: {
          Name: `${svc.namespace}-${svc.name}-${nodePort}-${p.protocol.toLowerCase()}`,
          Labels: { [KL.owner]: ownerOf(svc.kind, svc.name), [KL.namespace]: svc.namespace },
          Protocol: p.protocol.toLowerCase(),
          HostPort: nodePort,
          Backends: backends,
        },
        describe: `Service ${svc.name}: NodePort ${nodePort}/${p.protocol.toLowerCase()} to ${backends.length} pod(s) (${pods.map((x) => x.name).join(', ') || 'none'})`,
      });
    }
  }
  return out;
}
