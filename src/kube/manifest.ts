// A manifest file as berth kube plays it: its documents validated (validate.ts), Kubernetes'
// defaults applied as the API server applies them (replicas 1, restartPolicy Always, protocol
// TCP, imagePullPolicy by the image's tag, a Service's targetPort its port, requests from
// limits), and the checks the API server makes across fields (a selector that matches its
// template, a Job's restartPolicy, names unique per kind) and those berth makes across objects
// (a volume's ConfigMap or claim, a Service's ports). Pure: no I/O beyond reading the file.

import { parseQuantity } from './quantity.js';
import { readManifest, type ManifestDoc, type PathSeg } from './source.js';
import { validateDoc } from './validate.js';

/** A plain mapping of the document (its shape checked by the schema). */
export type Dict = Record<string, any>;

/** An object of the manifest, defaulted, with its document for errors. */
export interface KubeObject {
  kind: string;
  name: string;
  namespace: string;
  doc: ManifestDoc;
  /** The whole object (defaults applied). */
  value: Dict;
}

/** A pod template as a workload gives it, and where it is in the document. */
export interface PodTemplate {
  owner: KubeObject;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: Dict;
  /** The path of `spec` (the PodSpec) in the document. */
  at: PathSeg[];
}

export interface Manifest {
  file: string;
  objects: KubeObject[];
}

const WORKLOADS = new Set(['Pod', 'Deployment', 'ReplicaSet', 'Job']);

/** The pod template of a workload (a Pod is its own). */
export function podTemplate(o: KubeObject): PodTemplate {
  if (o.kind === 'Pod') {
    return {
      owner: o,
      labels: o.value.metadata.labels ?? {},
      annotations: o.value.metadata.annotations ?? {},
      spec: o.value.spec,
      at: ['spec'],
    };
  }
  const t = o.value.spec.template;
  return {
    owner: o,
    labels: t.metadata?.labels ?? {},
    annotations: t.metadata?.annotations ?? {},
    spec: t.spec,
    at: ['spec', 'template', 'spec'],
  };
}

export const isWorkload = (o: KubeObject) => WORKLOADS.has(o.kind);

/** `imagePullPolicy`'s default: Always for `:latest` or no tag, IfNotPresent otherwise (a digest counts as a tag). */
export function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultPodSpec(spec: Dict, restartPolicy: string): void {
  spec.restartPolicy ??= restartPolicy;
  spec.terminationGracePeriodSeconds ??= 30;
  for (const c of spec.containers as Dict[]) {
    c.imagePullPolicy ??= defaultPullPolicy(c.image);
    for (const p of (c.ports as Dict[]) ?? []) p.protocol ??= 'TCP';
    const r = c.resources;
    // The API server copies a limit to a missing request of the same resource.
    if (r?.limits) {
      r.requests ??= {};
      for (const [k, v] of Object.entries(r.limits)) r.requests[k] ??= v;
    }
    for (const probe of [c.livenessProbe, c.readinessProbe]) {
      if (!probe) continue;
      probe.periodSeconds ??= 10;
      probe.timeoutSeconds ??= 1;
      probe.failureThreshold ??= 3;
      probe.successThreshold ??= 1;
      if (probe.httpGet) {
        probe.httpGet.path ??= '/';
        probe.httpGet.scheme ??= 'HTTP';
      }
    }
  }
  for (const v of (spec.volumes as Dict[]) ?? []) {
    if (v.configMap) v.configMap.defaultMode ??= 0o644;
    if (v.secret) v.secret.defaultMode ??= 0o644;
  }
}

function defaults(o: KubeObject): void {
  const v = o.value;
  switch (o.kind) {
    case 'Pod':
      defaultPodSpec(v.spec, 'Always');
      break;
    case 'Deployment':
    case 'ReplicaSet':
      v.spec.replicas ??= 1;
      defaultPodSpec(v.spec.template.spec, 'Always');
      break;
    case 'Job':
      v.spec.backoffLimit ??= 6;
      v.spec.completions ??= 1;
      v.spec.parallelism ??= 1;
      defaultPodSpec(v.spec.template.spec, 'Always');
      break;
    case 'Service':
      v.spec.type ??= 'ClusterIP';
      for (const p of v.spec.ports as Dict[]) {
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      break;
    case 'Secret':
      v.type ??= 'Opaque';
      break;
  }
}

/** The API server's checks across fields of one object, and berth's of what it cannot map. */
function check(o: KubeObject): void {
  const v = o.value;
  const err = (path: PathSeg[], what: string) => o.doc.error(path, what);
  if (o.kind === 'Deployment' || o.kind === 'ReplicaSet') {
    const want = v.spec.selector.matchLabels ?? {};
    if (!Object.keys(want).length) throw err(['spec', 'selector'], 'Invalid value: empty selector is invalid for deployment');
    const labels = v.spec.template.metadata?.labels ?? {};
    if (!Object.entries(want).every(([k, x]) => labels[k] === x))
      throw err(
        ['spec', 'template', 'metadata', 'labels'],
        `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
      );
    if (v.spec.template.spec.restartPolicy !== 'Always')
      throw err(
        ['spec', 'template', 'spec', 'restartPolicy'],
        `Unsupported value: "${v.spec.template.spec.restartPolicy}": supported values: "Always"`,
      );
    if (v.spec.replicas < 0) throw err(['spec', 'replicas'], 'Invalid value: must be greater than or equal to 0');
  }
  if (o.kind === 'Job') {
    const rp = v.spec.template.spec.restartPolicy;
    if (rp !== 'Never' && rp !== 'OnFailure')
      throw err(['spec', 'template', 'spec', 'restartPolicy'], `Unsupported value: "${rp}": supported values: "OnFailure", "Never"`);
    if (v.spec.backoffLimit < 0) throw err(['spec', 'backoffLimit'], 'Invalid value: must be greater than or equal to 0');
  }
  if (isWorkload(o)) checkPodSpec(podTemplate(o), err);
  if (o.kind === 'Service') {
    for (const [i, p] of (v.spec.ports as Dict[]).entries()) {
      if (p.nodePort !== undefined && v.spec.type !== 'NodePort')
        throw err(['spec', 'ports', i, 'nodePort'], `Forbidden: may not be used when \`type\` is '${v.spec.type}'`);
      if (p.nodePort !== undefined && (p.nodePort < 1 || p.nodePort > 65535))
        throw err(['spec', 'ports', i, 'nodePort'], 'Invalid value: must be between 1 and 65535');
      if (typeof p.targetPort === 'number' && p.targetPort !== p.port)
        throw err(
          ['spec', 'ports', i, 'targetPort'],
          "berth kube resolves a Service's name to its pods' own addresses (no cluster IP), so targetPort must equal port",
        );
    }
    if (!v.spec.selector || !Object.keys(v.spec.selector).length)
      throw err(['spec', 'selector'], 'a Service without a selector (endpoints managed by hand) is not supported by berth kube');
  }
  if (o.kind === 'Secret') {
    for (const [k, x] of Object.entries((v.data as Record<string, string>) ?? {})) {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(x.replace(/\s/g, ''))) throw err(['data', k], 'Invalid value: not base64');
    }
  }
  if (o.kind === 'PersistentVolumeClaim') {
    const s = v.spec?.resources?.requests?.storage;
    if (s !== undefined && parseQuantity(s) === undefined)
      throw err(['spec', 'resources', 'requests', 'storage'], `Invalid value: ${JSON.stringify(s)}: not a quantity`);
  }
}

function checkPodSpec(t: PodTemplate, err: (path: PathSeg[], what: string) => Error): void {
  const at = (...p: PathSeg[]) => [...t.at, ...p];
  const names = new Set<string>();
  const volumes = new Map<string, Dict>();
  for (const [i, vol] of ((t.spec.volumes as Dict[]) ?? []).entries()) {
    if (volumes.has(vol.name)) throw err(at('volumes', i, 'name'), `Duplicate value: "${vol.name}"`);
    const sources = ['configMap', 'secret', 'persistentVolumeClaim', 'emptyDir', 'hostPath'].filter((k) => vol[k] !== undefined);
    if (sources.length !== 1)
      throw err(
        at('volumes', i),
        sources.length ? `may not specify more than 1 volume type (${sources.join(', ')})` : 'must specify a volume type',
      );
    volumes.set(vol.name, vol);
  }
  for (const [i, c] of (t.spec.containers as Dict[]).entries()) {
    if (names.has(c.name)) throw err(at('containers', i, 'name'), `Duplicate value: "${c.name}"`);
    names.add(c.name);
    for (const [j, m] of ((c.volumeMounts as Dict[]) ?? []).entries()) {
      const vol = volumes.get(m.name);
      if (!vol) throw err(at('containers', i, 'volumeMounts', j, 'name'), `Not found: "${m.name}"`);
      if (m.subPath !== undefined && !vol.configMap && !vol.secret)
        throw err(at('containers', i, 'volumeMounts', j, 'subPath'), 'berth kube applies subPath to configMap and secret volumes only');
    }
    for (const [j, e] of ((c.env as Dict[]) ?? []).entries()) {
      if (e.value !== undefined && e.valueFrom)
        throw err(at('containers', i, 'env', j, 'valueFrom'), 'Invalid value: may not be specified when `value` is not empty');
      const refs = Object.keys(e.valueFrom ?? {});
      if (e.valueFrom && refs.length !== 1)
        throw err(at('containers', i, 'env', j, 'valueFrom'), 'Invalid value: must specify one of: `configMapKeyRef` or `secretKeyRef`');
    }
    for (const [j, e] of ((c.envFrom as Dict[]) ?? []).entries()) {
      if (!!e.configMapRef === !!e.secretRef)
        throw err(at('containers', i, 'envFrom', j), 'Invalid value: must specify one of: `configMapRef` or `secretRef`');
    }
    for (const probe of ['livenessProbe', 'readinessProbe']) {
      const p = c[probe];
      if (!p) continue;
      const handlers = ['exec', 'httpGet', 'tcpSocket'].filter((k) => p[k]);
      if (handlers.length !== 1) throw err(at('containers', i, probe), 'must specify exactly one handler: exec, httpGet or tcpSocket');
      if (p.successThreshold !== 1)
        throw err(at('containers', i, probe, 'successThreshold'), 'berth health checks pass on one success: successThreshold must be 1');
    }
    if (c.livenessProbe && c.readinessProbe && JSON.stringify(c.livenessProbe) !== JSON.stringify(c.readinessProbe))
      throw err(
        at('containers', i, 'readinessProbe'),
        'berth runs one health check per container: a readinessProbe must equal the livenessProbe beside it',
      );
    for (const kind of ['limits', 'requests']) {
      for (const [k, q] of Object.entries((c.resources?.[kind] as Dict) ?? {})) {
        if (parseQuantity(q) === undefined)
          throw err(at('containers', i, 'resources', kind, k), `Invalid value: ${JSON.stringify(q)}: not a quantity`);
      }
    }
  }
}

/** The manifest's objects, checked and defaulted; `stdin` reads `-`. */
export async function loadManifest(
  file: string,
  stdin: () => Promise<string> = () => Promise.reject(new Error('no standard input')),
): Promise<Manifest> {
  return manifestOf(file, await readManifest(file, stdin));
}

/** The objects of parsed documents, checked and defaulted. */
export function manifestOf(file: string, docs: ManifestDoc[]): Manifest {
  const objects: KubeObject[] = [];
  const seen = new Map<string, ManifestDoc>();
  for (const doc of docs) {
    const kind = validateDoc(doc);
    const value = structuredClone(doc.value) as Dict;
    const o: KubeObject = { kind, name: value.metadata.name, namespace: value.metadata.namespace ?? 'default', doc, value };
    const key = `${o.namespace}/${kind}/${o.name}`;
    if (seen.has(key)) throw doc.error(['metadata', 'name'], `${kind} "${o.name}" is also defined by document ${seen.get(key)!.index}`);
    seen.set(key, doc);
    defaults(o);
    check(o);
    objects.push(o);
  }
  return { file, objects };
}

/** The object of `kind` named `name` in `namespace`, if the manifest has it. */
export function find(m: Manifest, kind: string, namespace: string, name: string): KubeObject | undefined {
  return m.objects.find((o) => o.kind === kind && o.namespace === namespace && o.name === name);
}
