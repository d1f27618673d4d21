// The engine's public surface, for the API server.
export { Engine, type EngineOptions } from './engine.js';
export { prioritizeEventLoop } from './loop-priority.js';
export { writeRecordsInOneTrip } from './record-writes.js';
export { Containers, type AttachStream, type WaitCondition } from './containers/index.js';
export { Execs, type ExecConfig, type ExecInstance, type ExecStreams } from './exec.js';
export { containerSizes, diskUsage, pruneContainers, type DiskUsage } from './disk.js';
export { Images, type ImageDeleteItem, type ImageUser, type PruneFilters, type PushProgress } from './images.js';
export type { LogEntry } from './containers/logs.js';
export {
  ZERO_TIME,
  type ContainerConfig,
  type ContainerRecord,
  type ContainerState,
  type ContainerStatus,
  type HostConfig,
  type RestartPolicy,
} from './types.js';
export { linuxHostConfig } from './linux-options.js';
export { devicesHostConfig } from './devices.js';
export { checkStorageOpt } from './storage-opt.js';
export { BLKIO_DEVICE_FIELDS, RESOURCE_FIELDS, memorySwappiness, type ResourceConfig } from './resources.js';
export { cgroupFeatures, checkDaemonRealtime, type CgroupFeatures } from '../runtime/cgroups/features.js';
export { cgroupsDelegated } from '../runtime/cgroups/manager.js';
export { Events, checkEventFilters, eventJSON, parseEventTime, type EventFilters, type EventMessage } from './events.js';
export { ContainerFiles, type CommitRequest } from './container-files.js';
export type { PathStat } from './archive.js';
export type { DockerStats } from './stats.js';
export { filterContainers } from './filters.js';
export { daemonSecurityOptions, securityHostConfig } from './security.js';
export { loadRemap, mappingsOf, parseIdDatabase, parseSubIds, RemapError, type IdRange, type Remap } from './userns.js';
export { inspectMount, shownMounts } from './mounts.js';
export type { ApiMount, EndpointRequest, PortMap } from './types.js';
export { AmbiguousNetwork, apiEndpoint, SYSCTLS_OPT } from './networks/store.js';
export type { PullProgress } from '../image/index.js';
export { DEFAULT_DOCKERFILE, remoteKind, type BuildContext, type DownloadProgress } from './build-context.js';
export type { BuildEvent, BuildRequest, BuildResult } from '../build/request.js';
export type { StepResources } from '../build/step-runner.js';
export type { BuildCacheRecord } from '../build/cache.js';
/*
 * Pods (engine/pods/), for the API server, the CRI server and, through the API, `berth kube`:
 *   engine.pods.create({ Name, Labels, Hostname, Share, Network, PortBindings, CgroupParent,
 *                        Dns, DnsSearch, DnsOptions, ExtraHosts })        → PodRecord (not started)
 *   engine.pods.start(ref) / stop(ref, { timeout }) / kill(ref, signal) / restart(ref)  → PodInfo
 *   engine.pods.remove(ref, { force })  → IDs removed (members, then the infra container)
 *   engine.pods.inspect(ref) / list(filters)  → PodInfo: { pod, state, infra, containers }
 *   engine.pods.portForward(ref, port)  → Duplex: a connection to the port on the pod's localhost
 * `ref` is a pod's ID, unique ID prefix or name. A member is made by the containers' create with
 * its pod as the last argument: engine.containers.create(config, hostConfig, name, endpoints,
 * platform, { pod: ref }); it then joins the infra container's namespaces (Share: net, ipc, uts
 * by default, pid when asked), takes the pod's hostname, DNS and cgroup parent, and may not
 * publish ports or pick networks of its own (an `invalid` error). Its record's `Pod` is the pod's
 * ID; the infra container (`IsInfra`) is removed only with its pod. Starting a member starts
 * the infra container first. Errors are BerthErrors: not-found, conflict, invalid.
 */
export {
  Pods,
  POD_FILTERS,
  parseShare,
  DEFAULT_SHARE,
  type PodCreateOptions,
  type PodInfo,
  type PodNamespace,
  type PodRecord,
  type PodState,
} from './pods/index.js';
export type { PodPlacement } from './containers/index.js';
export type { BalancerCreate, BalancerRecord } from './balancers.js';
