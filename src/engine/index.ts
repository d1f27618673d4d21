// The engine's public surface, for the API server.
export { Engine, type EngineOptions } from './engine.js';
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
export { RESOURCE_FIELDS, UNSUPPORTED_RESOURCE_FIELDS, type ResourceConfig } from './resources.js';
export { Events, checkEventFilters, eventJSON, parseEventTime, type EventFilters, type EventMessage } from './events.js';
export { ContainerFiles, type CommitRequest } from './container-files.js';
export type { PathStat } from './archive.js';
export type { DockerStats } from './stats.js';
export { filterContainers } from './filters.js';
export { daemonSecurityOptions, securityHostConfig } from './security.js';
export { inspectMount } from './mounts.js';
export type { EndpointRequest, PortMap } from './types.js';
export type { PullProgress } from '../image/index.js';
export { DEFAULT_DOCKERFILE, remoteKind, type BuildContext, type DownloadProgress } from './build-context.js';
export type { BuildEvent, BuildRequest, BuildResult } from '../build/request.js';
export type { BuildCacheRecord } from '../build/cache.js';
