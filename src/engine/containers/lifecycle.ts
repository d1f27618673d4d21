// A container's lifecycle: create (a snapshot of the image + a bundle), start under the
// per-container monitor, stop, kill, pause, unpause, restart, rename, update, remove. Every
// state change is saved before it is reported, and is an event. Whatever a failed create or
// start leaves, and what `rm` removes, is taken apart by teardown.ts.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { constants, hostname as osHostname, release as osRelease } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic.js';
import { parseSize } from '../../common/size.js';
import { BerthError, conflict, errorMessage, invalid, isKind, systemError, unsupported, withCleanup } from '../../errors.js';
import { checkImagePlatform, parsePlatform } from '../../image/index.js';
import { BUILTIN_ALIASES, BUILTIN_RUNTIME } from '../../runtime/runtime-set.js';
import { parseSignal } from '../../runtime/signals.js';
import type { Mount as OciMount, Spec } from '../../oci/runtime-spec.js';
import { checkName, generateName } from '../names.js';
import { buildSpec, mergeCommand } from '../spec.js';
import { initPaths, resolveHostGateway, shareNetworkFiles, writeInitFiles } from '../init-files.js';
import { makeInitLayer } from '../init-layer.js';
import { checkLinuxOptions, joinedContainer, joinNamespaces, mountShm, resolveJoined } from '../linux-options.js';
import { checkLogConfig, logLimitsOf, monitorLog } from '../log-config.js';
import { rootFiles } from '../users.js';
import { startError } from '../start-errors.js';
import {
  copyUp,
  copyUpMounted,
  holdVolumes,
  imageMountKeys,
  ociMounts,
  planMounts,
  prepareImageMounts,
  recursiveReadOnlyRefusal,
  releaseHeldVolumes,
  stageSubpaths,
  unstageSubpaths,
  type PlanOptions,
} from '../mounts.js';
import { checkResources, discardUnsupported, ociResources, updateResources, type ResourceConfig } from '../resources.js';
import { cgroupFeatures, giveRealtimeBudget, realtimeBudget } from '../../runtime/cgroups/features.js';
import { cgroupsDelegated, limitsAsked, NOT_DELEGATED } from '../../runtime/cgroups/manager.js';
import {
  ZERO_TIME,
  type ContainerConfig,
  type ContainerRecord,
  type ContainerStatus,
  type EndpointRequest,
  type HostConfig,
  type MountPoint,
  type RestartPolicy,
} from '../types.js';
import { onExit, unwatchExit, watchExit } from './exits.js';
import { checkLinkMode, registerLinks, startLinks, updateParents } from './links.js';
import { checkHealthcheck, checkHealthOnFailure, mergeHealthcheck } from './health.js';
import { checkRestartPolicy, isNone, RestartManager } from './restart.js';
import { cancelRestart, startHealth, stopHealth, stoppedByUser } from './supervise.js';
import type { ContainerTable, Live } from './table.js';
import { deleteRuntime, forget, releaseRuntime, takeApart } from './teardown.js';
import { isErrno } from '../../common/errno.js';
import { allDone, awaitedLater, settled } from '../../common/promises.js';
import { applyUserns, containerIdMaps, rootOwner } from '../userns.js';

function nameConflict(name: string, id: string): BerthError {
  return conflict(
    `Conflict. The container name "${name}" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`,
  );
}

/** `--cgroup-parent`: an absolute cgroupfs path, none of whose parts leads up or is empty. */
function checkCgroupParent(parent: string | undefined): void {
  if (!parent) return;
  if (!parent.startsWith('/'))
    throw invalid(`cgroup-parent ${JSON.stringify(parent)}: berth takes an absolute cgroup path (cgroupfs), such as /mygroup`);
  if (parent.split('/').some((p, i, all) => p === '..' || p === '.' || (p === '' && i > 0 && i < all.length - 1)))
    throw invalid(`cgroup-parent ${JSON.stringify(parent)}: a cgroup path may not hold empty, . or .. parts`);
}

/**
 * `platform` (`os/arch[/variant]`): the image must be of it, as dockerd checks a create's
 * `platform`. `placement`: a member of a pod (its namespaces the infra's), or a pod's infra.
 */
export async function create(
  t: ContainerTable,
  config: ContainerConfig,
  hostConfig: HostConfig,
  name?: string,
  endpoints?: Record<string, EndpointRequest>,
  platform?: string,
  placement: { pod?: string; infraOf?: string } = {},
  warnings: string[] = [],
  mountOptions: PlanOptions = {},
): Promise<ContainerRecord> {
  // (A pod's join changes them: the caller's objects stay as given.)
  if (placement.pod) [config, hostConfig] = [{ ...config }, { ...hostConfig }];
  if (!config.Image) throw invalid('config.Image is required');
  if (config.WorkingDir && !config.WorkingDir.startsWith('/'))
    throw invalid(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
  const fullName = name ? checkName(name) : generateName((n) => [...t.byId.values()].some((l) => l.rec.Name === n));
  for (const l of t.byId.values()) if (l.rec.Name === fullName) throw nameConflict(fullName, l.rec.Id);
  const policy = checkRestartPolicy(hostConfig.RestartPolicy, !!hostConfig.AutoRemove);
  const limits = discardUnsupported(checkResources(hostConfig), cgroupFeatures(), warnings);
  checkHealthcheck(config.Healthcheck);
  checkCgroupParent(hostConfig.CgroupParent);
  checkLinuxOptions(hostConfig, !!config.Hostname, hostConfig.NetworkMode);
  resolveJoined(hostConfig, (ref) => t.find(ref).rec);
  let podId = placement.infraOf;
  if (placement.pod) {
    if (!t.pods) throw invalid('pods are not available in this engine');
    podId = t.pods.join(placement.pod, config, hostConfig, endpoints ?? {});
  }
  if (config.StopSignal) dockerSignal(config.StopSignal);
  checkLogConfig(hostConfig.LogConfig);
  // As dockerd: the default runtime's name is kept, so the container stays with its runtime.
  const runtime = hostConfig.Runtime || (t.opts.defaultRuntime ?? BUILTIN_RUNTIME);
  if (!(t.opts.runtimeNames ?? new Set<string>(BUILTIN_ALIASES)).has(runtime)) throw invalid(`Unknown runtime specified ${runtime}`);
  const image = await t.opts.images.resolve(config.Image);
  // From here to the record's entry in the table nothing waits: an `auto` range picked is the
  // container's before another create can look at the table.
  const idmaps = containerIdMaps(
    hostConfig,
    t.opts.usernsRemap,
    [...t.byId.values()].flatMap((l) => (l.rec.IdMaps ? [l.rec.IdMaps] : [])),
  );
  if (platform) checkImagePlatform(config.Image, image.config, parsePlatform(platform), platform);
  const imgCfg = image.config.config ?? {};
  const merged = mergeCommand(config, imgCfg);
  const args = [...(merged.Entrypoint ?? []), ...(merged.Cmd ?? [])];
  const id = randomBytes(32).toString('hex');
  giveParentBudget(t, hostConfig.CgroupParent);
  checkRealtimeBudget(limits.CpuRealtimeRuntime, hostConfig.CgroupParent, id);
  const rec: ContainerRecord = {
    Id: id,
    Name: fullName,
    Created: new Date().toISOString(),
    Path: args[0],
    Args: args.slice(1),
    Image: image.id,
    ImageName: config.Image,
    Config: {
      ...config,
      // On the host's network, the host's name, as dockerd gives it.
      Hostname: config.Hostname || (hostConfig.NetworkMode === 'host' ? osHostname() : id.slice(0, 12)),
      Env: [...new Map([...(imgCfg.Env ?? []), ...(config.Env ?? [])].map((e) => [e.split('=', 1)[0], e])).values()],
      ...merged,
      WorkingDir: config.WorkingDir || imgCfg.WorkingDir || '',
      User: config.User || imgCfg.User || '',
      Labels: { ...(imgCfg.Labels ?? {}), ...(config.Labels ?? {}) },
      StopSignal: config.StopSignal || imgCfg.StopSignal,
      // (Absent, not null, when there is none: Docker's inspect omits it.)
      Healthcheck: mergeHealthcheck(config.Healthcheck, imgCfg.Healthcheck),
    },
    HostConfig: { LogConfig: { Type: 'json-file', Config: {} }, ...hostConfig, ...limits, RestartPolicy: policy, Runtime: runtime },
    State: { Status: 'created', Pid: 0, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME },
    RestartCount: 0,
    ...(idmaps ? { IdMaps: idmaps } : {}),
    ...(podId ? { Pod: podId } : {}),
    ...(placement.infraOf ? { IsInfra: true } : {}),
  };
  rec.Config.ExposedPorts = { ...imgCfg.ExposedPorts, ...config.ExposedPorts };
  checkHealthOnFailure(rec.Config.HealthOnFailure, rec.Config.Healthcheck);
  endpoints = { ...endpoints };
  checkLinkMode(rec.HostConfig, endpoints);
  // A rootless berthd's containers each have the host's address (pasta's copy): a link would name the linking container's own.
  if (t.opts.rootless && rec.HostConfig.Links?.length)
    throw unsupported(
      "--link: a rootless berthd's containers each have the host's address (pasta's copy), so a link has no address of the other's to name; publish the other's port and reach it at the gateway's address, or use --network container:NAME",
    );
  try {
    rec.HostConfig.NetworkMode = t.networks.plan(rec, endpoints, (ref) => t.find(ref).rec);
  } catch (e) {
    // dockerd's words, as a 400: a 404 from create sends the docker CLI off to pull the image.
    throw e instanceof BerthError && e.kind === 'not-found' ? invalid(e.message) : e;
  }
  // A joiner of another's network binds the donor's /etc/hostname, /etc/hosts and /etc/resolv.conf
  // (below); it takes the donor's hostname at each start (joinShared), as dockerd's initializeNetworking.
  registerLinks(t, rec);
  const live = t.live(rec, new RestartManager());
  t.byId.set(id, live);
  let initFiles: Promise<OciMount[]> | undefined;
  try {
    rec.MountPoints = planMounts(
      rec.HostConfig,
      { ...imgCfg.Volumes, ...config.Volumes },
      t.volumes,
      (ref) => volumesOf(t, ref),
      mountOptions,
    );
    // The container's folder and init files are written while its root is made: each waits on the thread pool and the disk.
    initFiles = writeContainerFiles(t, rec);
    awaitedLater(initFiles);
    const snap = await t.opts.snapshots.prepare(id, t.opts.images, image.record.target.digest, idmaps);
    // Before the copy-up, as dockerd's init layer is under it: a new volume at /etc takes /etc/mtab too.
    makeInitLayer(snap.rootfs, idmaps && rootOwner(idmaps));
    await t.volumes.durable(rec.MountPoints.flatMap((m) => (m.Type === 'volume' && m.Name ? [m.Name] : [])));
    await copyUpMounted(rec.MountPoints, snap.rootfs, t.volumes, id);
    await prepareImageMounts(id, rec.MountPoints, t.opts.images, t.opts.snapshots, idmaps);
    // The user is looked up with the mounts over the root, as runc does inside the container.
    const files = rootFiles(
      snap.rootfs,
      rec.MountPoints.map((m) => ({ destination: m.Destination, source: m.Source, type: m.Type === 'tmpfs' ? 'tmpfs' : 'bind' })),
    );
    const spec = buildSpec({
      id,
      rootfs: snap.rootfs,
      config: { ...config, Hostname: rec.Config.Hostname, Domainname: rec.Config.Domainname },
      hostConfig: rec.HostConfig,
      image: imgCfg,
      files,
      shmDir: shmDir(t, id),
      args: [rec.Path, ...rec.Args],
    });
    if (t.opts.rootless) refuseUndelegatedLimits(spec, id);
    t.networks.applyNamespace(spec, rec.HostConfig.NetworkMode);
    if (idmaps) applyUserns(spec, idmaps);
    const hc = rec.HostConfig;
    const init = await initFiles;
    // The container's root reaches its init files (its group may search the folder) and owns them, as dockerd's remapped root does.
    if (idmaps) await ownInitFiles(t.store.dir(id), init, rootOwner(idmaps));
    // Every `container:` joiner binds the donor's files, as dockerd's: a rootless donor's resolv.conf
    // names the host's loopback resolver by its pasta gateway (endpoints.ts); a pod's members keep their own hostname file.
    const donor = joinedContainer(hc.NetworkMode);
    const user = ociMounts(
      rec.MountPoints,
      recursiveReadOnlyRefusal((t.opts.builtinRuntimes ?? new Set<string>(BUILTIN_ALIASES)).has(runtime), runtime, osRelease()),
      subpathDir(t, id),
    );
    // Ordered by depth with the user's, as dockerd sorts all its mounts: a volume or bind at /etc goes
    // first, and the init files are bound onto it (their mount points made in it), not hidden beneath it.
    const above = (m: { destination: string }) => m.destination.split('/').length < '/etc/hosts'.split('/').length;
    spec.mounts = [
      ...(spec.mounts ?? []),
      ...user.filter(above),
      ...(donor ? shareNetworkFiles(init, initPaths(t.store.dir(donor)), !placement.pod) : init),
      ...user.filter((m) => !above(m)),
    ];
    await writeFile(join(t.store.dir(id), 'config.json'), JSON.stringify(spec));
    await t.save(live);
  } catch (e) {
    // (Files still being written would land in the folder rm's path removes: they end first.)
    if (initFiles) await settled(initFiles);
    // The half-made container goes by rm's path; if that fails, its record goes regardless,
    // and the caller learns of both failures.
    const opts = { volumes: true, announce: false };
    const cleanup: Error[] = [];
    await takeApart(t, live, opts).catch(async (c: Error) => {
      cleanup.push(c);
      await forget(t, live, opts).catch((f: Error) => {
        cleanup.push(f);
      });
    });
    if (cleanup.length) t.log('warn', `taking apart ${id.slice(0, 12)} after its create failed: ${cleanup.map(errorMessage).join('; ')}`);
    throw withCleanup(e, cleanup);
  }
  t.log('info', `created container ${id.slice(0, 12)} ${rec.Name}`);
  t.emitFor(rec, 'create');
  return rec;
}

/**
 * Starts the container. A user's start (not `auto`, the restart policy's) begins the policy
 * afresh: RestartCount 0, a stop or kill before it forgotten.
 */
export function start(t: ContainerTable, live: Live, opts: { auto?: boolean } = {}): Promise<'started' | 'already'> {
  return t.serial(live, async () => {
    const rec = live.rec;
    if (opts.auto ? rec.State.Status !== 'restarting' : ['running', 'paused', 'restarting'].includes(rec.State.Status)) return 'already';
    if (!opts.auto) {
      rec.RestartCount = 0;
      rec.HasBeenManuallyStopped = false;
      live.restart = new RestartManager();
    }
    if (rec.State.Status === 'removing' || rec.State.Status === 'dead')
      throw conflict(`container ${rec.Id} is marked for removal and cannot be started`);
    const id = rec.Id;
    const snapInfo = await t.opts.snapshots.mount(id);
    // Image mounts' views, unmounted when the process ended.
    for (const key of imageMountKeys(id, rec.MountPoints ?? [])) await t.opts.snapshots.mount(key);
    await copyUp(rec.MountPoints ?? [], snapInfo.rootfs, t.volumes, snapInfo.idmap && rootOwner(snapInfo.idmap));
    // The last run's leftovers, each on its own.
    await allDone([
      mkdir(t.attachDir, { recursive: true, mode: 0o700 }),
      rm(t.store.exitPath(id), { force: true }),
      removeStaleRuntime(t, id),
    ]);
    if (rec.Pod && !rec.IsInfra) await startInfra(t, rec.Pod);
    joinShared(t, rec);
    const plan = rec.MountPoints ?? [];
    const log = (m: string) => t.log('warn', m);
    // Volumes with options are mounted at their first user, as dockerd's setupMounts; a failure is a failed start (500, exit code 128).
    try {
      await holdVolumes(plan, t.volumes, id, log);
    } catch (e) {
      await releaseRuntime(t, rec);
      throw failedStart(t, live, Object.assign(e as BerthError, { exitCode: 128 }));
    }
    // Before the start, as dockerd's setupMounts: a subpath not there or leading out is its 404 or 400.
    await stageSubpaths(plan, subpathDir(t, id)).catch(async (e: unknown) => {
      await releaseHeldVolumes(plan, t.volumes, id, log);
      throw e;
    });
    const attach = t.attachPath(id);
    let pid = 0;
    // The network namespace is set up once the process exists, while the runtime's create goes
    // on (cgroups, hooks, the root's mounts): each waits on the kernel and the thread pool.
    let network: Promise<void> | undefined;
    try {
      // (A link's refusal is a failed start, its error and exit code recorded, as in dockerd.)
      const linkHosts = await startLinks(t, rec);
      const attachNetwork = (p: number) => {
        if (network) return;
        network = t.networks.attach(rec, p, linkHosts);
        awaitedLater(network);
      };
      giveParentBudget(t, rec.HostConfig.CgroupParent);
      const created = t.runtime.create({
        id,
        onPid: attachNetwork,
        bundle: t.store.dir(id),
        monitor: {
          ...monitorLog(rec.HostConfig, t.store.logPath(id)),
          exitFile: t.store.exitPath(id),
          attach,
          stdin: !!rec.Config.OpenStdin,
          stdinOnce: !!rec.Config.StdinOnce,
          consoleSocket: rec.Config.Tty ? t.consolePath(id) : undefined,
          control: rec.Config.Tty ? t.controlPath(id) : undefined,
          ...logLimits(rec.HostConfig),
        },
      });
      // The container's mount namespace holds its own copy of the staged subpaths once it is made.
      ({ pid } = await created.finally(() => unstageSubpaths(plan, subpathDir(t, id))));
      attachNetwork(pid);
      watchExit(t, live);
      // Clients that attached before start connect now, while the process waits on its fifo,
      // so they see its first byte.
      const waiting = live.attachers.splice(0);
      await Promise.all([
        network,
        ...waiting.map((w) =>
          w(attach).catch((e) => {
            t.log('warn', `attach client of ${id.slice(0, 12)} at start: ${errorMessage(e)}`);
          }),
        ),
      ]);
      await t.runtime.start(id);
    } catch (e) {
      unwatchExit(live);
      // (An attach still under way would set up what the release takes apart: it ends first.)
      if (network)
        await network.catch((n: unknown) => {
          if (n !== e) t.log('warn', `network of ${id.slice(0, 12)} after its failed start: ${errorMessage(n)}`);
        });
      await unstageSubpaths(plan, subpathDir(t, id));
      await releaseRuntime(t, rec);
      await releaseHeldVolumes(plan, t.volumes, id, log);
      throw failedStart(t, live, startError(e));
    }
    rec.State = {
      ...rec.State,
      Status: 'running',
      Pid: pid,
      ExitCode: 0,
      Error: '',
      OOMKilled: false,
      StartedAt: new Date().toISOString(),
      FinishedAt: ZERO_TIME,
    };
    await t.save(live);
    await updateParents(t, rec).catch((e) =>
      t.log('warn', `/etc/hosts of the containers linked to ${id.slice(0, 12)}: ${errorMessage(e)}`),
    );
    t.log('info', `started container ${id.slice(0, 12)}`);
    t.volumeEvents(rec, 'mount');
    t.emitFor(rec, 'start');
    startHealth(t, live, true);
    // The process may have ended before the watch saw the file.
    if (existsSync(t.store.exitPath(id))) void onExit(t, live);
    return 'started';
  });
}

/** Records a start's failure (its error, exit code, end) and queues an AutoRemove; returns the error for the caller. */
function failedStart(t: ContainerTable, live: Live, err: BerthError & { exitCode: number }): BerthError {
  const rec = live.rec;
  // As dockerd's state: a container that never ran stays `created` (with the error and the
  // code), one that ran before is `exited`; FinishedAt stays that of its last run.
  rec.State = {
    ...rec.State,
    Status: rec.State.StartedAt === ZERO_TIME ? 'created' : 'exited',
    Pid: 0,
    ExitCode: err.exitCode,
    Error: err.message,
  };
  t.saveLater(live); // the start's error is what the caller learns
  t.exitedNow(live);
  if (rec.HostConfig.AutoRemove) {
    queueMicrotask(() => {
      void t.lifecycle
        .remove(rec.Id, { force: true, volumes: true })
        .catch((r) => t.log('warn', `auto-remove ${rec.Id.slice(0, 12)} after a failed start: ${errorMessage(r)}`));
    });
  }
  return err;
}

/** The container's folder, and in it the files bound over /etc/hostname, /etc/hosts and /etc/resolv.conf; resolves with their mounts. */
async function writeContainerFiles(t: ContainerTable, rec: ContainerRecord): Promise<OciMount[]> {
  const dir = t.store.dir(rec.Id);
  const hc = rec.HostConfig;
  await mkdir(dir, { recursive: true, mode: 0o710 });
  return writeInitFiles(
    dir,
    {
      hostname: rec.Config.Hostname!,
      domainname: rec.Config.Domainname,
      extraHosts: resolveHostGateway(hc.ExtraHosts, t.networks.hostGatewayIp()),
      dns: hc.Dns,
      dnsSearch: hc.DnsSearch,
      dnsOptions: hc.DnsOptions,
      embeddedDns: t.networks.embeddedDns(rec),
      hostNetwork: hc.NetworkMode === 'host',
    },
    (rec.MountPoints ?? []).map((m) => m.Destination),
    !!hc.ReadonlyRootfs,
  );
}

/** Where a container's volume subpaths are mounted for the time of its runtime's create (engine/mounts.ts). */
function subpathDir(t: ContainerTable, id: string): string {
  return join(t.opts.execRoot, 'subpaths', id);
}

/** Init files (and the folder they are in) that a user namespace's root reaches and owns. */
async function ownInitFiles(dir: string, mounts: { source?: string }[], owner: { uid: number; gid: number }): Promise<void> {
  await chown(dir, 0, owner.gid);
  for (const m of mounts) if (m.source?.startsWith(`${dir}/`)) await chown(m.source, owner.uid, owner.gid);
}

/** A shareable IPC mode's /dev/shm on the host. */
export const shmDir = (t: ContainerTable, id: string) => join(t.store.dir(id), 'shm');

/**
 * A container that shares another's PID or IPC namespace (`container:<id>`) joins that
 * container's current process: its spec gets the paths now, as dockerd resolves them at start.
 */
function joinShared(t: ContainerTable, rec: ContainerRecord): void {
  const hc = rec.HostConfig;
  if (hc.IpcMode === 'shareable') mountShm(shmDir(t, rec.Id), hc.ShmSize || undefined);
  // (A pod's member shares the infra's UTS namespace: its hostname is the infra's to set.)
  const netDonor = rec.Pod ? undefined : joinedContainer(hc.NetworkMode);
  if (!netDonor && !joinedContainer(hc.PidMode) && !joinedContainer(hc.IpcMode) && !joinedContainer(hc.UTSMode)) return;
  const path = join(t.store.dir(rec.Id), 'config.json');
  const spec = JSON.parse(readFileSync(path, 'utf8')) as Spec;
  if (netDonor) takeDonorHostname(spec, rec, t.find(netDonor).rec);
  joinNamespaces(spec, hc, (ref) => {
    const o = t.find(ref).rec;
    return {
      Id: o.Id,
      running: o.State.Status === 'running' || o.State.Status === 'paused',
      pid: o.State.Pid,
      ipcMode: o.HostConfig.IpcMode,
      shmDir: shmDir(t, o.Id),
    };
  });
  writeFileSync(path, JSON.stringify(spec));
}

/**
 * A `container:` network joiner's hostname and domain name are its donor's as they are at its
 * start (dockerd's initializeNetworking; until then inspect shows its own): in the record, the
 * spec's hostname and the HOSTNAME berthd set (a user's own -e HOSTNAME differs from it and stays).
 */
function takeDonorHostname(spec: Spec, rec: ContainerRecord, donor: ContainerRecord): void {
  const hostname = donor.Config.Hostname ?? '';
  const env = spec.process?.env;
  const ours = env?.indexOf(`HOSTNAME=${spec.hostname}`) ?? -1;
  if (env && ours >= 0) env[ours] = `HOSTNAME=${hostname}`;
  spec.hostname = hostname;
  rec.Config.Hostname = hostname;
  rec.Config.Domainname = donor.Config.Domainname;
}

/** A pod member's start: the infra container it joins runs first. */
async function startInfra(t: ContainerTable, podId: string): Promise<void> {
  if (!t.pods) throw conflict(`container is in pod ${podId}, and this engine has no pods`);
  await t.pods.ensureInfra(podId);
}

/**
 * A runtime container left by a crash between runtime create and our record (or by a berthd
 * killed mid-create, its state saved before its pid): deleted, whatever state it is in.
 */
async function removeStaleRuntime(t: ContainerTable, id: string): Promise<void> {
  await deleteRuntime(t, id, true);
}

/**
 * Docker's kill: the signal, and the restart policy told as dockerd tells it (SIGKILL or the
 * stop signal, or any signal when the container has no stop signal of its own, means "let it
 * go"); a pending restart is cancelled.
 */
/** `ref`: the name the caller gave, which dockerd's refusal repeats. */
export async function kill(t: ContainerTable, live: Live, signal = 'SIGKILL', ref = live.rec.Name.slice(1)): Promise<void> {
  const n = dockerSignal(signal);
  if (live.rec.State.Status === 'restarting') {
    stoppedByUser(t, live, true);
    cancelRestart(t, live);
    return;
  }
  if (!t.isRunning(live)) throw conflict(`Cannot kill container: ${ref}: Container ${live.rec.Id} is not running`);
  const stopSignal = live.rec.Config.StopSignal;
  const sigkill = n === constants.signals.SIGKILL;
  stoppedByUser(t, live, !stopSignal || sigkill || n === dockerSignal(stopSignal));
  // dockerd's kill with SIGKILL answers once the container has exited, so the state read after
  // it is the exit's; another signal is only sent.
  const exited = sigkill ? new Promise<void>((r) => live.exited.push(r)) : undefined;
  try {
    await sendSignal(t, live, signal, false);
  } catch (e) {
    if (!exited || !exitedMeanwhile(e)) throw e;
  }
  await exited;
}

/**
 * Sends `signal` to the container's init (`all`: every process) and emits Docker's `kill`
 * event. A paused container is thawed after a signal meant to end it, as dockerd does.
 */
async function sendSignal(t: ContainerTable, live: Live, signal: string, all: boolean): Promise<void> {
  const n = dockerSignal(signal);
  await t.runtime.kill(live.rec.Id, n, { all });
  t.emitFor(live.rec, 'kill', { signal: String(n) });
  if (live.rec.State.Status === 'paused' && live.restart.canceled) {
    try {
      await t.runtime.resume(live.rec.Id);
    } catch (e) {
      // SIGKILL thaws in the runtime (conflict: not paused); the process may be gone already.
      if (!(e instanceof BerthError && (e.kind === 'conflict' || e.kind === 'not-found'))) throw e;
    }
    live.rec.State.Status = 'running';
    await t.save(live);
    t.emitFor(live.rec, 'unpause');
  }
}

/** What the runtime's kill says of a container whose init has just exited (or been taken apart). */
function exitedMeanwhile(e: unknown): boolean {
  return isKind(e, 'conflict', 'not-found') || isErrno(e, 'ESRCH');
}

/** Stop: the stop signal, then SIGKILL after `timeout` seconds. 'not-running' as Docker's 304. */
export async function stop(
  t: ContainerTable,
  live: Live,
  opts: { timeout?: number; signal?: string } = {},
): Promise<'stopped' | 'not-running'> {
  if (live.rec.State.Status === 'restarting') {
    stoppedByUser(t, live, true);
    cancelRestart(t, live);
    t.emitFor(live.rec, 'stop');
    return 'stopped';
  }
  if (!t.isRunning(live)) return 'not-running';
  const exited = new Promise<void>((r) => live.exited.push(r));
  const timeout = opts.timeout ?? live.rec.Config.StopTimeout ?? 10;
  const signal = opts.signal || live.rec.Config.StopSignal || 'SIGTERM';
  dockerSignal(signal); // a bad one is the caller's 400, before anything is sent
  stoppedByUser(t, live, true);
  stopHealth(live);
  try {
    await sendSignal(t, live, signal, false);
  } catch (e) {
    if (!exitedMeanwhile(e)) throw e;
  }
  const timedOut = timeout >= 0 && (await Promise.race([exited.then(() => false), delay(timeout * 1000).then(() => true)]));
  if (timedOut) {
    t.log('info', `container ${live.rec.Id.slice(0, 12)} did not stop in ${timeout}s: killing it`);
    try {
      await sendSignal(t, live, 'SIGKILL', true);
    } catch (e) {
      if (!exitedMeanwhile(e)) throw e;
    }
  }
  await exited;
  t.emitFor(live.rec, 'stop');
  return 'stopped';
}

/** Freezes every process of the container (its cgroup's freezer). */
export async function pause(t: ContainerTable, live: Live): Promise<void> {
  await t.serial(live, async () => {
    const rec = live.rec;
    if (rec.State.Status === 'restarting') throw conflict(`Container ${rec.Id} is restarting, wait until the container is running`);
    if (rec.State.Status === 'paused') throw conflict(`Container ${rec.Id} is already paused`);
    if (rec.State.Status !== 'running') throw conflict(`Container ${rec.Id} is not running`);
    await t.runtime.pause(rec.Id);
    rec.State.Status = 'paused';
    // As dockerd's updateHealthMonitor: no probes while frozen, and the health reads unhealthy
    // (FailingStreak and Log as they were, no event) until a probe after the unpause says otherwise.
    stopHealth(live);
    await t.save(live);
    t.emitFor(rec, 'pause');
  });
}

export async function unpause(t: ContainerTable, live: Live): Promise<void> {
  await t.serial(live, async () => {
    const rec = live.rec;
    if (rec.State.Status !== 'paused') throw conflict(`Container ${rec.Id} is not paused`);
    await t.runtime.resume(rec.Id);
    rec.State.Status = 'running';
    startHealth(t, live, false);
    await t.save(live);
    t.emitFor(rec, 'unpause');
  });
}

export async function rename(t: ContainerTable, live: Live, newName: string): Promise<void> {
  if (!newName) throw invalid('Neither old nor new names may be empty');
  // dockerd checks the new name with its slash, in its allocation's words.
  let name: string;
  try {
    name = checkName(`/${newName.replace(/^\//, '')}`);
  } catch (e) {
    if (isKind(e, 'invalid')) throw invalid(`Error when allocating new name: ${errorMessage(e)}`);
    throw e;
  }
  const oldName = live.rec.Name;
  if (name === oldName) throw invalid('Renaming a container with the same name as its current name');
  for (const l of t.byId.values())
    if (l.rec.Name === name) throw conflict(`Error when allocating new name: ${errorMessage(nameConflict(name, l.rec.Id))}`);
  live.rec.Name = name;
  await t.save(live);
  t.emitFor(live.rec, 'rename', { oldName });
}

/**
 * A realtime runtime above its parent cgroup's budget fails in the kernel at start (berthd, like
 * dockerd by default, gives its cgroups none): refused at create in the words dockerd's start
 * gives (runc's write of the file), so no container is left behind.
 */
/** The cgroup a container is placed below. */
const parentOf = (cgroupParent: string | undefined) => cgroupParent?.replace(/\/+$/, '') || '/berth';

/** The daemon's `--cpu-rt-*` budget for the container's parent cgroups, as dockerd gives it before each start. */
function giveParentBudget(t: ContainerTable, cgroupParent: string | undefined): void {
  giveRealtimeBudget(parentOf(cgroupParent), t.opts.cpuRealtimePeriod ?? 0, t.opts.cpuRealtimeRuntime ?? 0);
}

function checkRealtimeBudget(runtime: number | undefined, cgroupParent: string | undefined, id: string): void {
  if (!runtime || runtime <= 0) return;
  const b = realtimeBudget(parentOf(cgroupParent), id);
  if (b && runtime > b.budget) throw systemError(`failed to write "${runtime}": write ${b.file}: invalid argument`);
}

/**
 * Docker's update: new resource limits and restart policy, recorded in HostConfig and in the
 * bundle (for the next start), and applied now through the runtime if the container runs.
 */
export async function update(
  t: ContainerTable,
  live: Live,
  upd: ResourceConfig & { RestartPolicy?: RestartPolicy },
  warnings: string[] = [],
): Promise<void> {
  await t.serial(live, async () => {
    const rec = live.rec;
    if (rec.State.Status === 'removing' || rec.State.Status === 'dead')
      throw conflict(`Container ${rec.Id} is marked for removal and cannot be "update"`);
    // dockerd's UpdateContainer refuses a conflict with what the container has in these words
    // (its other checks' words stand alone).
    let limits: ResourceConfig;
    let policy = rec.HostConfig.RestartPolicy;
    try {
      limits = updateResources(rec.HostConfig, discardUnsupported(upd, cgroupFeatures(), warnings));
      if (upd.RestartPolicy?.Name) {
        if (rec.HostConfig.AutoRemove && !isNone(upd.RestartPolicy))
          throw conflict('Restart policy cannot be updated because AutoRemove is enabled for the container');
        policy = checkRestartPolicy(upd.RestartPolicy, false);
      }
    } catch (e) {
      throw isKind(e, 'conflict') ? conflict(`Cannot update container ${rec.Id}: ${errorMessage(e)}`) : e;
    }
    const resources = ociResources(limits);
    if (t.isRunning(live)) {
      try {
        await t.runtime.update(rec.Id, resources);
      } catch (e) {
        throw new BerthError(e instanceof BerthError ? e.kind : 'system', `Cannot update container ${rec.Id}: ${errorMessage(e)}`, {
          cause: e,
        });
      }
    }
    const specPath = join(t.store.dir(rec.Id), 'config.json');
    const spec = JSON.parse(readFileSync(specPath, 'utf8')) as Spec;
    spec.linux = { ...spec.linux, resources: { devices: spec.linux?.resources?.devices, ...resources } };
    await writeFileAtomic(specPath, JSON.stringify(spec));
    rec.HostConfig = { ...rec.HostConfig, ...limits, RestartPolicy: policy };
    await t.save(live);
    t.emitFor(rec, 'update');
  });
}

/** `volumes`: the container's anonymous volumes go too (`rm -v`, `--rm`). */
export async function remove(
  t: ContainerTable,
  live: Live,
  opts: { force?: boolean; volumes?: boolean; pod?: boolean } = {},
): Promise<void> {
  const rec = live.rec;
  if (rec.IsInfra && !opts.pod)
    throw conflict(`container ${rec.Id} is the infra container of pod ${rec.Pod} and cannot be removed without removing the pod`);
  if (t.isRunning(live) || rec.State.Status === 'restarting') {
    if (!opts.force) {
      throw conflict(
        `cannot remove container "${rec.Name}": container is ${rec.State.Status}: stop the container before removing or force remove`,
      );
    }
    stoppedByUser(t, live, true);
  }
  if (rec.State.Status === 'restarting') cancelRestart(t, live);
  if (t.isRunning(live)) {
    const exited = new Promise<void>((r) => live.exited.push(r));
    try {
      await sendSignal(t, live, 'SIGKILL', true);
    } catch (e) {
      if (!exitedMeanwhile(e)) throw e;
    }
    await exited;
  }
  await t.serial(live, async () => {
    if (!t.byId.has(rec.Id)) return;
    if (rec.State.Status === 'removing') return;
    const before: ContainerStatus = rec.State.Status;
    rec.State.Status = 'removing';
    try {
      await takeApart(t, live, { volumes: !!opts.volumes, announce: true });
    } catch (e) {
      rec.State.Status = before;
      throw e;
    }
  });
}

function logLimits(hc: HostConfig): { logMaxSize?: number; logMaxFile?: number } {
  const c = logLimitsOf(hc.LogConfig);
  return { logMaxSize: c.maxSize ? parseSize(c.maxSize) : undefined, logMaxFile: c.maxFile ? Number(c.maxFile) : undefined };
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A rootless berthd refuses at create the limits its runtime could not apply at start (no cgroups delegated to it). */
function refuseUndelegatedLimits(spec: Spec, id: string): void {
  const asked = limitsAsked(spec.linux?.resources);
  if (asked.length && !cgroupsDelegated(spec.linux?.cgroupsPath ?? '', id))
    throw unsupported(`cgroup limits asked for (${asked.join(', ')}): ${NOT_DELEGATED}; run without them`);
}

/** The mounts of a `VolumesFrom` container; one that is not there is the request's fault (dockerd's 400, not a 404 the docker CLI takes for a missing image). */
function volumesOf(t: ContainerTable, ref: string): MountPoint[] {
  try {
    return t.find(ref).rec.MountPoints ?? [];
  } catch (e) {
    if (isKind(e, 'not-found')) throw invalid(errorMessage(e));
    throw e;
  }
}

/**
 * A signal's number as dockerd parses it (moby's signal.ParseSignal: a name, with or without SIG,
 * the realtime ones of its SignalMap among them, or a number), refused in its words; a number
 * its SignalMap lacks (32, 33, above 64) in dockerd 28's (20.10 says so at the kill, in a 500).
 */
function dockerSignal(s: string): number {
  const rt = /^(?:SIG)?RT(MIN|MAX)(?:([+-])(\d+))?$/i.exec(s);
  if (rt) {
    const [, end, sign, k] = rt;
    const min = end.toUpperCase() === 'MIN';
    const n = Number(k ?? 0);
    // RTMIN, RTMIN+1 … RTMIN+15; RTMAX-14 … RTMAX-1, RTMAX.
    if (!sign || (min ? sign === '+' && n >= 1 && n <= 15 : sign === '-' && n >= 1 && n <= 14)) return min ? 34 + n : 64 - n;
    throw invalid(`Invalid signal: ${s}`);
  }
  if (/^\d+$/.test(s) && Number(s) !== 0 && !(Number(s) <= 31 || (Number(s) >= 34 && Number(s) <= 64)))
    throw invalid(`the linux daemon does not support signal ${Number(s)}`);
  try {
    return parseSignal(s);
  } catch (e) {
    if (isKind(e, 'invalid')) throw invalid(`Invalid signal: ${s}`);
    throw e;
  }
}
