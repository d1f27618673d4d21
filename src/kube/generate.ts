// `kube generate CONTAINER|POD`: a Pod manifest of what runs on berthd, that a cluster accepts
// (apiVersion, kind, metadata, spec; no status) and that `kube play` plays back. A container
// field is written only where it differs from its image's (command, args, env, workingDir, user),
// so the manifest says what the container adds. What a Pod cannot say (a label value Kubernetes
// refuses, a user by name) goes to the annotations or is told in `notes`, never dropped unsaid.

import { stringify } from 'yaml';
import type { ApiClient } from '../api/client.js';
import { inspectContainer, isNotFound } from './berthd.js';
import { KL } from './labels.js';
import type { Dict } from './manifest.js';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** A DNS label made of any name: lowercase, other characters as '-', 63 at most. */
export function dnsLabel(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return s || 'x';
}

/** Labels Kubernetes takes as labels, and the others (as annotations); berth kube's own are left out. */
export function splitLabels(labels: Record<string, string>): { labels: Dict; annotations: Dict } {
  const out = { labels: {} as Dict, annotations: {} as Dict };
  for (const [k, v] of Object.entries(labels)) {
    if (Object.values(KL).includes(k as never)) continue;
    const ok = LABEL_KEY.test(k) && k.split('/').pop()!.length <= 63 && v.length <= 63 && LABEL_VALUE.test(v);
    (ok ? out.labels : out.annotations)[k] = v;
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

const restartPolicy = (name: string | undefined) =>
  name === 'always' || name === 'unless-stopped' ? 'Always' : name === 'on-failure' ? 'OnFailure' : 'Never';

/** A quantity of bytes: in Mi when whole, else bytes. */
const bytes = (n: number) => (n % 2 ** 20 === 0 ? `${n / 2 ** 20}Mi` : String(n));

/** One container of the pod. `hostPorts` are the pod's published ports by `port/proto`. */
function containerSpec(c: Dict, image: Dict, hostPorts: Dict, notes: string[], volumes: Map<string, Dict>): Dict {
  const cfg = c.Config;
  const hc = c.HostConfig;
  const img = image.Config ?? {};
  const name = cfg.Labels?.[KL.container] ?? dnsLabel(String(c.Name).replace(/^\//, ''));
  const out: Dict = { name, image: cfg.Image };
  if (!same(cfg.Entrypoint, img.Entrypoint)) out.command = cfg.Entrypoint ?? [];
  if (!same(cfg.Cmd, img.Cmd) || out.command) if (cfg.Cmd?.length) out.args = cfg.Cmd;
  const imageEnv = new Set<string>(img.Env ?? []);
  const env = ((cfg.Env as string[]) ?? [])
    .filter((e) => !imageEnv.has(e))
    .map((e) => ({
      name: e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')),
      value: e.includes('=') ? e.slice(e.indexOf('=') + 1) : '',
    }));
  if (env.length) out.env = env;
  if (cfg.WorkingDir && cfg.WorkingDir !== (img.WorkingDir ?? '')) out.workingDir = cfg.WorkingDir;
  const ports = Object.keys(cfg.ExposedPorts ?? {}).map((k) => {
    const [port, proto = 'tcp'] = k.split('/');
    const p: Dict = { containerPort: Number(port), protocol: proto.toUpperCase() };
    const b = (hostPorts[k] as Dict[] | undefined)?.[0];
    if (b?.HostPort) {
      p.hostPort = Number(b.HostPort);
      if (b.HostIp && b.HostIp !== '0.0.0.0') p.hostIP = b.HostIp;
      delete hostPorts[k];
    }
    return p;
  });
  if (ports.length) out.ports = ports;
  const limits: Dict = {};
  const requests: Dict = {};
  if (hc.Memory) limits.memory = bytes(hc.Memory);
  if (hc.NanoCpus) limits.cpu = `${Math.round(hc.NanoCpus / 1e6)}m`;
  if (hc.MemoryReservation) requests.memory = bytes(hc.MemoryReservation);
  if (hc.CpuShares) requests.cpu = `${Math.round((hc.CpuShares * 1000) / 1024)}m`;
  if (Object.keys(limits).length || Object.keys(requests).length)
    out.resources = { ...(Object.keys(limits).length ? { limits } : {}), ...(Object.keys(requests).length ? { requests } : {}) };
  const mounts: Dict[] = [];
  for (const m of (c.Mounts as Dict[]) ?? []) {
    let vol: Dict;
    if (m.Type === 'volume') vol = { name: dnsLabel(m.Name), persistentVolumeClaim: { claimName: m.Name } };
    else if (m.Type === 'bind') vol = { name: dnsLabel(`host-${m.Source}`), hostPath: { path: m.Source } };
    else if (m.Type === 'tmpfs') vol = { name: dnsLabel(`tmp-${m.Destination}`), emptyDir: { medium: 'Memory' } };
    else {
      notes.push(`container ${name}: a ${m.Type} mount at ${m.Destination} has no Pod volume: left out`);
      continue;
    }
    volumes.set(vol.name, vol);
    mounts.push({ name: vol.name, mountPath: m.Destination, ...(m.RW === false ? { readOnly: true } : {}) });
  }
  if (mounts.length) out.volumeMounts = mounts;
  const h = cfg.Healthcheck;
  if (h?.Test?.length && h.Test[0] !== 'NONE') {
    const command = h.Test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', h.Test[1]] : h.Test.slice(1);
    const s = (ns: number | undefined, d: number) => Math.max(1, Math.round((ns || d * 1e9) / 1e9));
    out.livenessProbe = {
      exec: { command },
      periodSeconds: s(h.Interval, 30),
      timeoutSeconds: s(h.Timeout, 30),
      failureThreshold: h.Retries || 3,
      ...(h.StartPeriod ? { initialDelaySeconds: s(h.StartPeriod, 0) } : {}),
    };
  }
  const sc: Dict = {};
  if (cfg.User && cfg.User !== (img.User ?? '')) {
    const m = /^(\d+)(?::(\d+))?$/.exec(cfg.User);
    if (m) {
      sc.runAsUser = Number(m[1]);
      if (m[2]) sc.runAsGroup = Number(m[2]);
    } else notes.push(`container ${name}: user "${cfg.User}" is a name; a Pod takes a numeric runAsUser: left out`);
  }
  if (hc.Privileged) sc.privileged = true;
  if (hc.ReadonlyRootfs) sc.readOnlyRootFilesystem = true;
  if (hc.CapAdd?.length || hc.CapDrop?.length)
    sc.capabilities = { ...(hc.CapAdd?.length ? { add: hc.CapAdd } : {}), ...(hc.CapDrop?.length ? { drop: hc.CapDrop } : {}) };
  if (Object.keys(sc).length) out.securityContext = sc;
  if (cfg.Tty) out.tty = true;
  if (cfg.OpenStdin) out.stdin = true;
  return out;
}

async function imageConfig(client: ApiClient, c: Dict): Promise<Dict> {
  try {
    return await client.json<Dict>('GET', `/images/${encodeURIComponent(c.Image)}/json`);
  } catch (e) {
    if (isNotFound(e)) return {};
    throw e;
  }
}

/** The Pod manifest of pod or container `ref`, and what it could not say. */
export async function generate(client: ApiClient, ref: string): Promise<{ yaml: string; notes: string[] }> {
  let pod: Dict | undefined;
  try {
    pod = await client.json<Dict>('GET', `/pods/${encodeURIComponent(ref)}/json`);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const members: Dict[] = pod
    ? await Promise.all((pod.Containers as Dict[]).filter((c) => c.Id !== pod!.InfraContainerID).map((c) => inspectContainer(client, c.Id)))
    : [await inspectContainer(client, ref)];
  if (!members.length) throw new Error(`pod ${ref} has no container to generate a Pod of`);
  const notes: string[] = [];
  const hostPorts: Dict = structuredClone(pod ? (pod.InfraConfig?.PortBindings ?? {}) : (members[0].HostConfig.PortBindings ?? {}));
  const volumes = new Map<string, Dict>();
  const containers = [];
  for (const c of members) containers.push(containerSpec(c, await imageConfig(client, c), hostPorts, notes, volumes));
  // A published port no container declares goes on the first container.
  for (const [k, list] of Object.entries(hostPorts)) {
    const b = (list as Dict[])[0];
    if (!b?.HostPort) continue;
    const [port, proto = 'tcp'] = k.split('/');
    (containers[0].ports ??= []).push({ containerPort: Number(port), protocol: proto.toUpperCase(), hostPort: Number(b.HostPort) });
  }
  const name = dnsLabel(pod ? pod.Name : String(members[0].Name).replace(/^\//, ''));
  const { labels, annotations } = splitLabels(pod ? (pod.Labels ?? {}) : (members[0].Config.Labels ?? {}));
  const stop = members[0].Config.StopTimeout;
  const hostname = pod ? pod.Hostname : members[0].Config.Hostname;
  const spec: Dict = {
    ...(hostname && hostname !== name && !/^[0-9a-f]{12}$/.test(hostname) ? { hostname } : {}),
    restartPolicy: restartPolicy(members[0].HostConfig.RestartPolicy?.Name),
    ...(stop !== undefined && stop !== null ? { terminationGracePeriodSeconds: stop } : {}),
    containers,
    ...(volumes.size ? { volumes: [...volumes.values()] } : {}),
  };
  const doc = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(Object.keys(labels).length ? { labels } : {}), ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec,
  };
  return { yaml: stringify(doc), notes };
}
