// CreateContainer, StartContainer, StopContainer, RemoveContainer, ContainerStatus,
// ListContainers, UpdateContainerResources, ReopenContainerLog and ExecSync over the engine's
// containers, each a member of its sandbox's pod. Only containers the CRI made are listed.

import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ContainerRecord, Engine } from '../engine/index.js';
import { BerthError, conflict, invalid } from '../errors.js';
import { containerCreate, resourcesOf, RESOURCES, type CriContainerConfig, type LinuxContainerResources } from './container-config.js';
import { CriStatusError } from './errors.js';
import { refuseUnapplied } from './fields.js';
import { CRI_LABEL, keptJSON, kubeletLabels } from './labels.js';
import { matchesLabels, sandboxId } from './sandboxes.js';
import type { PodSandboxMetadata } from './sandbox-config.js';
import { nanos } from './time.js';
import { status as grpcStatus } from '@grpc/grpc-js';

/** runtime.v1 ContainerState. */
const STATE: Record<string, number> = { created: 0, running: 1, paused: 1, restarting: 1, exited: 2, dead: 2, removing: 3 };
const PROPAGATION: Record<string, number> = { '': 0, rprivate: 0, private: 0, rslave: 1, slave: 1, rshared: 2, shared: 2 };
/** What ExecSync keeps of each stream: kubelet's probes read 10 KiB, a command's output is bounded anyway. */
const EXEC_OUTPUT_MAX = 16 << 20;

/** A running container's OOM score cannot change: it is its processes'. */
const { oom_score_adj: _fixed, ...UPDATABLE } = RESOURCES;

const isNotFound = (e: unknown) => e instanceof BerthError && e.kind === 'not-found';

/** The CRI's containers: members of a pod made by the CRI (not the infra containers). */
export function criContainers(engine: Engine): ContainerRecord[] {
  return engine.containers.list().filter((c) => c.Pod && c.Config.Labels?.[CRI_LABEL.metadata] !== undefined);
}

/** The record of the container kubelet names, which must be the CRI's. */
export function criContainer(engine: Engine, id: string | undefined): ContainerRecord {
  if (!id) throw invalid('container_id is required');
  const rec = engine.containers.get(id);
  if (rec.Config.Labels?.[CRI_LABEL.metadata] === undefined) throw new BerthError('not-found', `container ${id} is berth's, not the CRI's`);
  return rec;
}

/** The container as ListContainers and ContainerStatus share it. */
function containerBase(rec: ContainerRecord) {
  return {
    id: rec.Id,
    metadata: keptJSON<{ name: string; attempt: number }>(rec.Config.Labels, 'metadata'),
    image: { image: rec.Config.Labels?.[CRI_LABEL.image] ?? rec.ImageName },
    image_ref: rec.Image,
    state: STATE[rec.State.Status] ?? 3,
    created_at: nanos(rec.Created),
    labels: kubeletLabels(rec.Config.Labels),
    annotations: keptJSON<Record<string, string>>(rec.Config.Labels, 'annotations') ?? {},
  };
}

function reasonOf(rec: ContainerRecord): string {
  if (STATE[rec.State.Status] !== 2) return '';
  if (rec.State.OOMKilled) return 'OOMKilled';
  return rec.State.ExitCode === 0 ? 'Completed' : 'Error';
}

export function containerService(engine: Engine) {
  return {
    async CreateContainer(req: { pod_sandbox_id?: string; config?: CriContainerConfig }) {
      // The request's sandbox_config repeats what RunPodSandbox was given; the pod's record is what applies.
      const pod = engine.pods.get(sandboxId(engine, req.pod_sandbox_id));
      const meta = keptJSON<PodSandboxMetadata>(pod.Labels, 'metadata')!;
      const c = containerCreate(req.config, pod, meta, pod.Labels[CRI_LABEL.logDirectory]);
      // Kubelet makes the pod's log directory; the container's folder in it may be left to the runtime.
      const logPath = c.hostConfig.LogConfig?.Config?.path;
      if (logPath) await mkdir(dirname(logPath), { recursive: true, mode: 0o755 });
      if (c.seccompFile)
        c.hostConfig.SecurityOpt = [...(c.hostConfig.SecurityOpt ?? []), `seccomp=${await readFile(c.seccompFile, 'utf8')}`];
      const rec = await engine.containers.create(c.config, c.hostConfig, c.name, undefined, undefined, { pod: pod.Id });
      return { container_id: rec.Id };
    },

    async StartContainer(req: { container_id?: string }) {
      await engine.containers.start(criContainer(engine, req.container_id).Id);
      return {};
    },

    async StopContainer(req: { container_id?: string; timeout?: string }) {
      // A container already stopped is no error.
      await engine.containers.stop(criContainer(engine, req.container_id).Id, { timeout: Number(req.timeout ?? 0) });
      return {};
    },

    async RemoveContainer(req: { container_id?: string }) {
      try {
        await engine.containers.remove(criContainer(engine, req.container_id).Id, { force: true });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return {};
    },

    async ContainerStatus(req: { container_id?: string; verbose?: boolean }) {
      const rec = criContainer(engine, req.container_id);
      const hc = rec.HostConfig;
      return {
        status: {
          ...containerBase(rec),
          started_at: nanos(rec.State.StartedAt),
          finished_at: nanos(rec.State.FinishedAt),
          exit_code: rec.State.ExitCode,
          reason: reasonOf(rec),
          message: rec.State.Error,
          mounts: (hc.Mounts ?? []).map((m) => ({
            container_path: m.Target,
            host_path: m.Source,
            readonly: !!m.ReadOnly,
            propagation: PROPAGATION[m.BindOptions?.Propagation ?? ''] ?? 0,
          })),
          log_path: rec.Config.Labels?.[CRI_LABEL.logPath] ?? '',
          resources: {
            linux: {
              cpu_period: String(hc.CpuPeriod ?? 0),
              cpu_quota: String(hc.CpuQuota ?? 0),
              cpu_shares: String(hc.CpuShares ?? 0),
              memory_limit_in_bytes: String(hc.Memory ?? 0),
              oom_score_adj: String(hc.OomScoreAdj ?? 0),
              cpuset_cpus: hc.CpusetCpus ?? '',
              cpuset_mems: hc.CpusetMems ?? '',
              memory_swap_limit_in_bytes: String(hc.MemorySwap ?? 0),
            },
          },
        },
        info: req.verbose ? { record: JSON.stringify(rec) } : {},
      };
    },

    async ListContainers(req: {
      filter?: { id?: string; state?: { state?: number }; pod_sandbox_id?: string; label_selector?: Record<string, string> };
    }) {
      refuseUnapplied('ListContainers', req, { filter: { id: true, state: true, pod_sandbox_id: true, label_selector: true } });
      const f = req.filter ?? {};
      const containers = criContainers(engine)
        .filter((c) => (!f.id || c.Id.startsWith(f.id)) && (!f.pod_sandbox_id || c.Pod?.startsWith(f.pod_sandbox_id)))
        .map((c) => ({ ...containerBase(c), pod_sandbox_id: c.Pod! }))
        .filter((c) => (!f.state || c.state === (f.state.state ?? 0)) && matchesLabels(c.labels, f.label_selector));
      return { containers };
    },

    async UpdateContainerResources(req: { container_id?: string; linux?: LinuxContainerResources }) {
      refuseUnapplied('UpdateContainerResources', req, { container_id: true, linux: UPDATABLE });
      const rec = criContainer(engine, req.container_id);
      const { OomScoreAdj: _, ...upd } = resourcesOf(req.linux, 'linux');
      await engine.containers.update(rec.Id, upd);
      return {};
    },

    async ReopenContainerLog(req: { container_id?: string }) {
      const rec = criContainer(engine, req.container_id);
      if (rec.HostConfig.LogConfig?.Type !== 'cri') throw conflict(`container ${rec.Id} has no CRI log (its config had no log_path)`);
      await engine.containers.reopenLog(rec.Id);
      return {};
    },

    async ExecSync(req: { container_id?: string; cmd?: string[]; timeout?: string }) {
      const rec = criContainer(engine, req.container_id);
      if (!req.cmd?.length) throw invalid('ExecSync: cmd is required');
      return execSync(engine, rec.Id, req.cmd, Number(req.timeout ?? 0) * 1000);
    },
  };
}

/** Runs `cmd` in the container to its end, or until `timeoutMs` (0: none), when it is killed and the call fails DEADLINE_EXCEEDED. */
async function execSync(engine: Engine, id: string, cmd: string[], timeoutMs: number) {
  const inst = engine.execs.create(id, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
  try {
    const s = await engine.execs.start(inst.ID);
    const collect = (r: NodeJS.ReadableStream | undefined) =>
      new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        if (!r) return resolve(Buffer.alloc(0));
        r.on('data', (d: Buffer) => {
          if (size < EXEC_OUTPUT_MAX) chunks.push(d.subarray(0, EXEC_OUTPUT_MAX - size));
          size += d.length;
        });
        r.on('end', () => resolve(Buffer.concat(chunks)));
        r.on('close', () => resolve(Buffer.concat(chunks)));
        r.on('error', reject);
      });
    const output = Promise.all([collect(s.stdout), collect(s.stderr)]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      if (timeoutMs > 0) timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const code = await Promise.race([s.exit, timedOut]);
    clearTimeout(timer);
    if (code === 'timeout') {
      process.kill(inst.Pid, 'SIGKILL');
      await s.exit;
      throw new CriStatusError(
        grpcStatus.DEADLINE_EXCEEDED,
        `ExecSync: ${JSON.stringify(cmd)} ran past its timeout of ${timeoutMs / 1000}s and was killed`,
      );
    }
    const [stdout, stderr] = await output;
    return { stdout, stderr, exit_code: code };
  } finally {
    engine.execs.forget(inst.ID);
  }
}
