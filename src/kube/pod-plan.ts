// A workload's pod template as what berthd makes of it: the pod (name, labels, hostname, the
// hostPorts it publishes) and each container's create body for the Engine API — image and
// command, env (envFrom, then env, with `$(VAR)` expanded as the kubelet expands it), mounts,
// resources as cgroup limits, restartPolicy, probes as a health check, security context — and
// the ConfigMap and Secret files written into the container before it starts. Pure.

import type { ContainerFile } from '../api/container-files.js';
import { KL, ownerOf } from './labels.js';
import { find, podTemplate, type Dict, type KubeObject, type Manifest } from './manifest.js';
import { parseQuantity } from './quantity.js';
import type { PathSeg } from './source.js';

/** A file a configMap or secret volume puts in the container. */
export interface ContainerPlan {
  /** berth's container name: `<pod>-<container>`. */
  name: string;
  image: string;
  pullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** The Engine API's create body, less the pod it joins. */
  body: Dict;
  files: ContainerFile[];
  /** It has a readinessProbe: a Service sends it connections only while its health check passes. */
  readiness: boolean;
}

export interface PodPlan {
  name: string;
  owner: KubeObject;
  labels: Record<string, string>;
  hostname: string;
  /** The pod's published ports (its containers' hostPorts), as a HostConfig's PortBindings. */
  portBindings: Record<string, { HostIp: string; HostPort: string }[]>;
  containers: ContainerPlan[];
  /** Volumes made for this pod alone (emptyDir), removed with it. */
  podVolumes: string[];
  /** The named volumes of its persistentVolumeClaims. */
  claims: string[];
}

/** `$(VAR)` as the kubelet expands it in env values, command and args: `$$` is a `$`, an unknown name stays as written. */
export function expand(s: string, env: Map<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return env.get(name!) ?? m;
  });
}

/** The keys and bytes of a ConfigMap or Secret of the manifest; undefined when absent. */
function dataOf(m: Manifest, kind: 'ConfigMap' | 'Secret', namespace: string, name: string): Map<string, Buffer> | undefined {
  const o = find(m, kind, namespace, name);
  if (!o) return undefined;
  const out = new Map<string, Buffer>();
  const v = o.value;
  if (kind === 'ConfigMap') {
    for (const [k, x] of Object.entries((v.data as Record<string, string>) ?? {})) out.set(k, Buffer.from(x, 'utf8'));
    for (const [k, x] of Object.entries((v.binaryData as Record<string, string>) ?? {})) out.set(k, Buffer.from(x, 'base64'));
  } else {
    for (const [k, x] of Object.entries((v.data as Record<string, string>) ?? {})) out.set(k, Buffer.from(x, 'base64'));
    // stringData is merged over data, as the API server does on write.
    for (const [k, x] of Object.entries((v.stringData as Record<string, string>) ?? {})) out.set(k, Buffer.from(x, 'utf8'));
  }
  return out;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A probe as a Docker health check, run inside the container (its pod's network is the container's). */
function healthcheck(p: Dict, port: (p: number | string, at: PathSeg[]) => number, at: PathSeg[]): Dict {
  let test: string[];
  if (p.exec) test = ['CMD', ...(p.exec.command ?? [])];
  else if (p.httpGet) {
    const g = p.httpGet;
    const url = `http://${g.host ?? '127.0.0.1'}:${port(g.port, [...at, 'httpGet', 'port'])}${g.path.startsWith('/') ? '' : '/'}${g.path}`;
    test = ['CMD-SHELL', `wget -q -O /dev/null ${shellQuote(url)} || curl -fsS -o /dev/null ${shellQuote(url)}`];
  } else {
    const t = p.tcpSocket;
    test = ['CMD-SHELL', `nc -z ${shellQuote(t.host ?? '127.0.0.1')} ${port(t.port, [...at, 'tcpSocket', 'port'])}`];
  }
  return {
    Test: test,
    Interval: p.periodSeconds * 1e9,
    Timeout: p.timeoutSeconds * 1e9,
    Retries: p.failureThreshold,
    ...(p.initialDelaySeconds ? { StartPeriod: p.initialDelaySeconds * 1e9 } : {}),
  };
}

function restartPolicy(policy: string, retries: number): Dict {
  if (policy === 'Always') return { Name: 'always', MaximumRetryCount: 0 };
  if (policy === 'OnFailure') return { Name: 'on-failure', MaximumRetryCount: retries };
  return { Name: 'no', MaximumRetryCount: 0 };
}

/** The pod named `name` that workload `o` runs, as berthd makes it. `network` is the network the pods join. */
export function planPod(m: Manifest, o: KubeObject, name: string): PodPlan {
  const t = podTemplate(o);
  const err = (path: PathSeg[], what: string) => o.doc.error(path, what);
  const spec = t.spec;
  const ns = o.namespace;
  const owner = ownerOf(o.kind, o.name);
  const labels = { ...t.labels, [KL.owner]: owner, [KL.namespace]: ns };
  const volumes = new Map<string, Dict>(((spec.volumes as Dict[]) ?? []).map((v) => [v.name, v]));
  const volIndex = (n: string) => ((spec.volumes as Dict[]) ?? []).findIndex((v) => v.name === n);
  const podVolumes: string[] = [];
  const claims: string[] = [];
  for (const v of volumes.values()) {
    if (v.emptyDir && v.emptyDir.medium !== 'Memory') {
      if (v.emptyDir.sizeLimit !== undefined)
        throw err(
          [...t.at, 'volumes', volIndex(v.name), 'emptyDir', 'sizeLimit'],
          'berth volumes have no size limit: sizeLimit applies only to medium: Memory',
        );
      podVolumes.push(`${name}-${v.name}`);
    }
    if (v.persistentVolumeClaim) claims.push(v.persistentVolumeClaim.claimName);
  }
  const portBindings: PodPlan['portBindings'] = {};
  const containers = (spec.containers as Dict[]).map((c, i): ContainerPlan => {
    const at = (...p: PathSeg[]) => [...t.at, 'containers', i, ...p];
    const namedPort = (p: number | string, where: PathSeg[]): number => {
      if (typeof p === 'number') return p;
      const found = (spec.containers as Dict[]).flatMap((x) => (x.ports as Dict[]) ?? []).find((x) => x.name === p);
      if (!found) throw err(where, `Invalid value: "${p}": no container port of that name`);
      return found.containerPort;
    };
    // envFrom first, then env over it, each value expanded with what came before.
    const env = new Map<string, string>();
    for (const [j, ef] of ((c.envFrom as Dict[]) ?? []).entries()) {
      const kind = ef.configMapRef ? 'ConfigMap' : 'Secret';
      const ref = ef.configMapRef ?? ef.secretRef;
      const data = dataOf(m, kind, ns, ref.name);
      if (!data) {
        if (ref.optional) continue;
        throw err(at('envFrom', j), `${kind.toLowerCase()} "${ref.name}" not found in ${m.file}`);
      }
      for (const [k, x] of data) env.set(`${ef.prefix ?? ''}${k}`, x.toString('utf8'));
    }
    for (const [j, e] of ((c.env as Dict[]) ?? []).entries()) {
      if (!e.valueFrom) {
        env.set(e.name, expand(e.value ?? '', env));
        continue;
      }
      const kind = e.valueFrom.configMapKeyRef ? 'ConfigMap' : 'Secret';
      const ref = e.valueFrom.configMapKeyRef ?? e.valueFrom.secretKeyRef;
      const x = dataOf(m, kind, ns, ref.name)?.get(ref.key);
      if (x === undefined) {
        if (ref.optional) continue;
        throw err(at('env', j, 'valueFrom'), `couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name} (${m.file})`);
      }
      env.set(e.name, x.toString('utf8'));
    }
    const exposed: Dict = {};
    for (const [j, p] of ((c.ports as Dict[]) ?? []).entries()) {
      const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
      exposed[key] = {};
      if (p.hostPort === undefined) continue;
      if (portBindings[key]?.some((b) => b.HostPort === String(p.hostPort)))
        throw err(at('ports', j, 'hostPort'), `Duplicate value: ${p.hostPort}`);
      (portBindings[key] ??= []).push({ HostIp: p.hostIP ?? '', HostPort: String(p.hostPort) });
    }
    const files: ContainerFile[] = [];
    const mounts: Dict[] = [];
    const binds: string[] = [];
    const tmpfs: Dict[] = [];
    for (const [j, vm] of ((c.volumeMounts as Dict[]) ?? []).entries()) {
      const v = volumes.get(vm.name)!;
      const target: string = vm.mountPath;
      if (!target.startsWith('/')) throw err(at('volumeMounts', j, 'mountPath'), 'berth kube needs an absolute mountPath');
      const ro = !!vm.readOnly;
      if (v.configMap || v.secret) {
        const kind = v.configMap ? 'ConfigMap' : 'Secret';
        const src = v.configMap ?? v.secret;
        const refName: string = v.configMap ? src.name : src.secretName;
        const data = dataOf(m, kind, ns, refName);
        if (!data) {
          if (src.optional) continue;
          throw err([...t.at, 'volumes', volIndex(v.name)], `${kind.toLowerCase()} "${refName}" not found in ${m.file}`);
        }
        const items: { key: string; path: string; mode?: number }[] = src.items ?? [...data.keys()].map((k) => ({ key: k, path: k }));
        for (const [k, item] of items.entries()) {
          const bytes = data.get(item.key);
          if (!bytes) {
            if (src.optional) continue;
            throw err(
              [...t.at, 'volumes', volIndex(v.name), v.configMap ? 'configMap' : 'secret', 'items', k, 'key'],
              `couldn't find key ${item.key} in ${kind} ${ns}/${refName}`,
            );
          }
          if (vm.subPath !== undefined && item.path !== vm.subPath) continue;
          const path = vm.subPath !== undefined ? target : `${target.replace(/\/$/, '')}/${item.path}`;
          files.push({ path, data: bytes, mode: item.mode ?? src.defaultMode });
        }
      } else if (v.persistentVolumeClaim) {
        mounts.push({
          Type: 'volume',
          Source: v.persistentVolumeClaim.claimName,
          Target: target,
          ReadOnly: ro || !!v.persistentVolumeClaim.readOnly,
        });
      } else if (v.emptyDir?.medium === 'Memory') {
        const size = v.emptyDir.sizeLimit !== undefined ? Math.floor(parseQuantity(v.emptyDir.sizeLimit)!) : undefined;
        tmpfs.push({ Type: 'tmpfs', Target: target, ReadOnly: ro, ...(size ? { TmpfsOptions: { SizeBytes: size } } : {}) });
      } else if (v.emptyDir) {
        mounts.push({ Type: 'volume', Source: `${name}-${v.name}`, Target: target, ReadOnly: ro });
      } else {
        const type = v.hostPath.type ?? '';
        if (type === '' || type === 'DirectoryOrCreate') binds.push(`${v.hostPath.path}:${target}${ro ? ':ro' : ''}`);
        else mounts.push({ Type: 'bind', Source: v.hostPath.path, Target: target, ReadOnly: ro });
      }
    }
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    const q = (x: unknown) => parseQuantity(x as string)!;
    const sc = c.securityContext ?? {};
    if (sc.runAsGroup !== undefined && sc.runAsUser === undefined)
      throw err(at('securityContext', 'runAsGroup'), 'berth needs runAsUser beside runAsGroup (a container user is uid[:gid])');
    const probe = c.livenessProbe ?? c.readinessProbe;
    const vars = env;
    const body: Dict = {
      Image: c.image,
      Entrypoint: c.command?.map((s: string) => expand(s, vars)),
      Cmd: c.args?.map((s: string) => expand(s, vars)),
      Env: env.size ? [...env].map(([k, x]) => `${k}=${x}`) : undefined,
      WorkingDir: c.workingDir,
      User: sc.runAsUser !== undefined ? `${sc.runAsUser}${sc.runAsGroup !== undefined ? `:${sc.runAsGroup}` : ''}` : undefined,
      Tty: c.tty,
      OpenStdin: c.stdin,
      Labels: { ...labels, [KL.pod]: name, [KL.container]: c.name },
      ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
      StopTimeout: spec.terminationGracePeriodSeconds,
      Healthcheck: probe ? healthcheck(probe, namedPort, at(c.livenessProbe ? 'livenessProbe' : 'readinessProbe')) : undefined,
      // A failed liveness probe ends the container, and restartPolicy decides, as kubelet does.
      HealthOnFailure: c.livenessProbe ? 'kill' : undefined,
      HostConfig: {
        Binds: binds.length ? binds : undefined,
        Mounts: [...mounts, ...tmpfs].length ? [...mounts, ...tmpfs] : undefined,
        RestartPolicy: restartPolicy(spec.restartPolicy, o.kind === 'Job' ? o.value.spec.backoffLimit : 0),
        Memory: limits.memory !== undefined ? Math.floor(q(limits.memory)) : undefined,
        MemoryReservation: requests.memory !== undefined ? Math.floor(q(requests.memory)) : undefined,
        NanoCpus: limits.cpu !== undefined ? Math.round(q(limits.cpu) * 1e9) : undefined,
        // The kubelet's MilliCPUToShares: 1024 shares a CPU, 2 at least.
        CpuShares: requests.cpu !== undefined ? Math.max(2, Math.floor(q(requests.cpu) * 1024)) : undefined,
        Privileged: sc.privileged,
        ReadonlyRootfs: sc.readOnlyRootFilesystem,
        CapAdd: sc.capabilities?.add,
        CapDrop: sc.capabilities?.drop,
        Annotations: Object.keys(t.annotations).length ? t.annotations : undefined,
      },
    };
    return {
      name: `${name}-${c.name}`,
      image: c.image,
      pullPolicy: c.imagePullPolicy,
      body: strip(body),
      files,
      readiness: !!c.readinessProbe,
    };
  });
  return { name, owner: o, labels, hostname: spec.hostname ?? name, portBindings, containers, podVolumes, claims };
}

/** The body without its undefined fields. */
function strip(v: Dict): Dict {
  const out: Dict = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    out[k] =
      x && typeof x === 'object' && !Array.isArray(x) && k !== 'Labels' && k !== 'ExposedPorts' && k !== 'Annotations' ? strip(x) : x;
  }
  return out;
}

/** The names of the pods a workload runs at first: a Pod's own, `<name>-<n>` for each replica, a Job's first try. */
export function podNames(o: KubeObject): string[] {
  if (o.kind === 'Pod') return [o.name];
  if (o.kind === 'Job') return [`${o.name}-1`];
  return Array.from({ length: o.value.spec.replicas as number }, (_, i) => `${o.name}-${i + 1}`);
}
