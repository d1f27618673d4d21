// ContainerStats, ListContainerStats, PodSandboxStats and ListPodSandboxStats from the engine's
// cgroup samples (Docker's stats shape): CPU time and, from the sample before, the rate in
// nanocores; memory with the working set as kubelet counts it (usage less inactive file pages);
// the pod's network from its infra container's namespace; the writable layer's bytes and inodes
// (kubelet's ephemeral-storage accounting), measured by walking the layer, asynchronously.

import type { ContainerRecord, DockerStats, Engine, PodInfo } from '../engine/index.js';
import { criContainer, criContainers } from './containers.js';
import { refuseUnapplied } from './fields.js';
import { keptJSON, kubeletLabels } from './labels.js';
import { criPods, matchesLabels, sandboxId } from './sandboxes.js';
import { nowNanos } from './time.js';

const u64 = (n: number | undefined) => ({ value: String(Math.max(0, Math.round(n ?? 0))) });

/** The previous CPU sample of each container, for the rate (nanocores) kubelet's summary API shows. */
type Samples = Map<string, { at: number; usage: number }>;

function cpuOf(id: string, s: DockerStats, samples: Samples, timestamp: string) {
  const usage = s.cpu_stats.cpu_usage.total_usage;
  const at = Date.parse(s.read) || Date.now();
  const prev = samples.get(id);
  samples.set(id, { at, usage });
  const rate = prev && at > prev.at ? ((usage - prev.usage) / (at - prev.at)) * 1e6 : undefined;
  return { timestamp, usage_core_nano_seconds: u64(usage), ...(rate !== undefined ? { usage_nano_cores: u64(rate) } : {}) };
}

function memoryOf(s: DockerStats, timestamp: string) {
  const m = s.memory_stats;
  const inactive = m.stats?.inactive_file ?? m.stats?.total_inactive_file ?? 0;
  const usage = m.usage ?? 0;
  return {
    timestamp,
    working_set_bytes: u64(Math.max(0, usage - inactive)),
    usage_bytes: u64(usage),
    rss_bytes: u64(m.stats?.anon ?? m.stats?.total_rss ?? m.stats?.rss),
    page_faults: u64(m.stats?.pgfault ?? m.stats?.total_pgfault),
    major_page_faults: u64(m.stats?.pgmajfault ?? m.stats?.total_pgmajfault),
    ...(m.limit ? { available_bytes: u64(Math.max(0, m.limit - usage + inactive)) } : {}),
  };
}

async function containerStats(engine: Engine, rec: ContainerRecord, samples: Samples) {
  const [s, layer] = await Promise.all([engine.files.stats(rec.Id), engine.snapshots.fsUsage(rec.Id)]);
  const timestamp = nowNanos();
  return {
    stats: {
      attributes: {
        id: rec.Id,
        metadata: keptJSON(rec.Config.Labels, 'metadata'),
        labels: kubeletLabels(rec.Config.Labels),
        annotations: keptJSON<Record<string, string>>(rec.Config.Labels, 'annotations') ?? {},
      },
      cpu: cpuOf(rec.Id, s, samples, timestamp),
      memory: memoryOf(s, timestamp),
      writable_layer: { timestamp, fs_id: { mountpoint: layer.dir }, used_bytes: u64(layer.bytes), inodes_used: u64(layer.inodes) },
    },
    raw: s,
  };
}

async function sandboxStats(engine: Engine, i: PodInfo, samples: Samples) {
  const members = await Promise.all(i.containers.map((c) => containerStats(engine, c, samples)));
  const infra = i.infra ? await engine.files.stats(i.infra.Id) : undefined;
  const all = [...members.map((m) => m.raw), ...(infra ? [infra] : [])];
  const timestamp = nowNanos();
  // The pod's totals: its containers' and the infra's, summed.
  const sum: DockerStats = {
    ...all[0],
    read: new Date().toISOString(),
    cpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 } },
    memory_stats: { usage: 0, stats: {} },
  } as DockerStats;
  for (const s of all) {
    sum.cpu_stats.cpu_usage.total_usage += s.cpu_stats.cpu_usage.total_usage;
    sum.memory_stats.usage! += s.memory_stats.usage ?? 0;
    for (const [k, v] of Object.entries(s.memory_stats.stats ?? {})) sum.memory_stats.stats![k] = (sum.memory_stats.stats![k] ?? 0) + v;
  }
  const interfaces = Object.entries(infra?.networks ?? {}).map(([name, n]) => ({
    name,
    rx_bytes: u64(n.rx_bytes),
    rx_errors: u64(n.rx_errors),
    tx_bytes: u64(n.tx_bytes),
    tx_errors: u64(n.tx_errors),
  }));
  return {
    attributes: {
      id: i.pod.Id,
      metadata: keptJSON(i.pod.Labels, 'metadata'),
      labels: kubeletLabels(i.pod.Labels),
      annotations: keptJSON<Record<string, string>>(i.pod.Labels, 'annotations') ?? {},
    },
    linux: {
      cpu: cpuOf(`pod:${i.pod.Id}`, sum, samples, timestamp),
      memory: memoryOf(sum, timestamp),
      network: { timestamp, default_interface: interfaces.find((x) => x.name === 'eth0') ?? interfaces[0], interfaces },
      process: { timestamp, process_count: u64(all.reduce((a, s) => a + (s.pids_stats.current ?? 0), 0)) },
      containers: members.map((m) => m.stats),
    },
  };
}

export function statsService(engine: Engine) {
  const samples: Samples = new Map();
  /** Forgets the samples of containers and pods gone (kubelet lists stats every few seconds). */
  const prune = () => {
    const live = new Set([...engine.containers.list().map((c) => c.Id), ...engine.pods.list().map((i) => `pod:${i.pod.Id}`)]);
    for (const k of samples.keys()) if (!live.has(k)) samples.delete(k);
  };
  return {
    async ContainerStats(req: { container_id?: string }) {
      return { stats: (await containerStats(engine, criContainer(engine, req.container_id), samples)).stats };
    },

    async ListContainerStats(req: { filter?: { id?: string; pod_sandbox_id?: string; label_selector?: Record<string, string> } }) {
      refuseUnapplied('ListContainerStats', req, { filter: { id: true, pod_sandbox_id: true, label_selector: true } });
      prune();
      const f = req.filter ?? {};
      const list = criContainers(engine).filter(
        (c) =>
          (!f.id || c.Id.startsWith(f.id)) &&
          (!f.pod_sandbox_id || c.Pod?.startsWith(f.pod_sandbox_id)) &&
          matchesLabels(kubeletLabels(c.Config.Labels), f.label_selector),
      );
      return { stats: (await Promise.all(list.map((c) => containerStats(engine, c, samples)))).map((s) => s.stats) };
    },

    async PodSandboxStats(req: { pod_sandbox_id?: string }) {
      return { stats: await sandboxStats(engine, engine.pods.inspect(sandboxId(engine, req.pod_sandbox_id)), samples) };
    },

    async ListPodSandboxStats(req: { filter?: { id?: string; label_selector?: Record<string, string> } }) {
      refuseUnapplied('ListPodSandboxStats', req, { filter: { id: true, label_selector: true } });
      prune();
      const f = req.filter ?? {};
      const pods = criPods(engine).filter(
        (i) => (!f.id || i.pod.Id.startsWith(f.id)) && matchesLabels(kubeletLabels(i.pod.Labels), f.label_selector),
      );
      return { stats: await Promise.all(pods.map((i) => sandboxStats(engine, i, samples))) };
    },
  };
}
