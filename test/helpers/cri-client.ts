// A CRI (`runtime.v1`) client for the tests: gRPC over a unix socket with @grpc/grpc-js and the
// repo's proto (proto/cri-runtime-v1.proto), each unary method a promise. It drives berthd and
// containerd alike, so it knows nothing of either. Fields keep the proto's snake_case; enums come
// back as their names, int64s as numbers (nanosecond times lose their last few digits: fine for tests).

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const CRI_PROTO = new URL('../../../proto/cri-runtime-v1.proto', import.meta.url).pathname;

/** Every request field is optional in proto3; responses carry every field (proto-loader `defaults`). */
export type Req<T> = T extends Buffer ? T : T extends (infer U)[] ? Req<U>[] : T extends object ? { [K in keyof T]?: Req<T[K]> | null } : T;

type Map = Record<string, string>;
type Labels = { labels: Map; annotations: Map };
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface Int64Value {
  value: number;
}
export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}
export interface ContainerMetadata {
  name: string;
  attempt: number;
}
export interface NamespaceOption {
  network: NamespaceMode;
  pid: NamespaceMode;
  ipc: NamespaceMode;
  target_id: string;
}
export interface SecurityProfile {
  profile_type: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  localhost_ref: string;
}
export interface PortMapping {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  container_port: number;
  host_port: number;
  host_ip: string;
}
export interface Mount {
  container_path: string;
  host_path: string;
  readonly: boolean;
  selinux_relabel: boolean;
  propagation: 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
}
export interface LinuxContainerResources {
  cpu_period: number;
  cpu_quota: number;
  cpu_shares: number;
  memory_limit_in_bytes: number;
  oom_score_adj: number;
  cpuset_cpus: string;
  cpuset_mems: string;
  hugepage_limits: { page_size: string; limit: number }[];
  unified: Map;
  memory_swap_limit_in_bytes: number;
}
export interface PodSandboxConfig extends Labels {
  metadata: PodSandboxMetadata;
  hostname: string;
  log_directory: string;
  dns_config: { servers: string[]; searches: string[]; options: string[] } | null;
  port_mappings: PortMapping[];
  linux: {
    cgroup_parent: string;
    security_context: {
      namespace_options: NamespaceOption | null;
      run_as_user: Int64Value | null;
      run_as_group: Int64Value | null;
      readonly_rootfs: boolean;
      supplemental_groups: number[];
      privileged: boolean;
      seccomp: SecurityProfile | null;
    } | null;
    sysctls: Map;
    overhead: LinuxContainerResources | null;
    resources: LinuxContainerResources | null;
  } | null;
}
export interface ImageSpec {
  image: string;
  annotations: Map;
}
export interface ContainerConfig extends Labels {
  metadata: ContainerMetadata;
  image: ImageSpec;
  command: string[];
  args: string[];
  working_dir: string;
  envs: { key: string; value: string }[];
  mounts: Mount[];
  devices: { container_path: string; host_path: string; permissions: string }[];
  log_path: string;
  stdin: boolean;
  stdin_once: boolean;
  tty: boolean;
  linux: {
    resources: LinuxContainerResources | null;
    security_context: {
      capabilities: { add_capabilities: string[]; drop_capabilities: string[]; add_ambient_capabilities: string[] } | null;
      privileged: boolean;
      namespace_options: NamespaceOption | null;
      run_as_user: Int64Value | null;
      run_as_group: Int64Value | null;
      run_as_username: string;
      readonly_rootfs: boolean;
      supplemental_groups: number[];
      no_new_privs: boolean;
      masked_paths: string[];
      readonly_paths: string[];
      seccomp: SecurityProfile | null;
    } | null;
  } | null;
}
export interface PodSandboxStatus extends Labels {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  created_at: number;
  network: { ip: string; additional_ips: { ip: string }[] } | null;
  linux: { namespaces: { options: NamespaceOption | null } | null } | null;
  runtime_handler: string;
}
export interface PodSandbox extends Labels {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  created_at: number;
  runtime_handler: string;
}
export interface Container extends Labels {
  id: string;
  pod_sandbox_id: string;
  metadata: ContainerMetadata;
  image: ImageSpec;
  image_ref: string;
  state: ContainerState;
  created_at: number;
}
export interface ContainerStatus extends Labels {
  id: string;
  metadata: ContainerMetadata;
  state: ContainerState;
  created_at: number;
  started_at: number;
  finished_at: number;
  exit_code: number;
  image: ImageSpec;
  image_ref: string;
  reason: string;
  message: string;
  mounts: Mount[];
  log_path: string;
  resources: { linux: LinuxContainerResources | null } | null;
}
export interface UInt64Value {
  value: number;
}
export interface FilesystemUsage {
  timestamp: number;
  fs_id: { mountpoint: string } | null;
  used_bytes: UInt64Value | null;
  inodes_used: UInt64Value | null;
}
export interface CpuUsage {
  timestamp: number;
  usage_core_nano_seconds: UInt64Value | null;
  usage_nano_cores: UInt64Value | null;
}
export interface MemoryUsage {
  timestamp: number;
  working_set_bytes: UInt64Value | null;
  available_bytes: UInt64Value | null;
  usage_bytes: UInt64Value | null;
  rss_bytes: UInt64Value | null;
  page_faults: UInt64Value | null;
  major_page_faults: UInt64Value | null;
}
export interface ContainerStats {
  attributes: ({ id: string; metadata: ContainerMetadata } & Labels) | null;
  cpu: CpuUsage | null;
  memory: MemoryUsage | null;
  writable_layer: FilesystemUsage | null;
}
export interface PodSandboxStats {
  attributes: ({ id: string; metadata: PodSandboxMetadata } & Labels) | null;
  linux: {
    cpu: CpuUsage | null;
    memory: MemoryUsage | null;
    network: { timestamp: number; default_interface: NetworkInterfaceUsage | null; interfaces: NetworkInterfaceUsage[] } | null;
    process: { timestamp: number; process_count: UInt64Value | null } | null;
    containers: ContainerStats[];
  } | null;
}
export interface NetworkInterfaceUsage {
  name: string;
  rx_bytes: UInt64Value | null;
  rx_errors: UInt64Value | null;
  tx_bytes: UInt64Value | null;
  tx_errors: UInt64Value | null;
}
export interface Image {
  id: string;
  repo_tags: string[];
  repo_digests: string[];
  size: number;
  uid: Int64Value | null;
  username: string;
  spec: ImageSpec | null;
  pinned: boolean;
}
export interface AuthConfig {
  username: string;
  password: string;
  auth: string;
  server_address: string;
  identity_token: string;
  registry_token: string;
}
type Empty = Record<string, never>;
type Info = { info: Map };

/** RuntimeService: method name → [request, response]. */
export interface RuntimeMethods {
  Version: [{ version: string }, { version: string; runtime_name: string; runtime_version: string; runtime_api_version: string }];
  RunPodSandbox: [{ config: PodSandboxConfig; runtime_handler: string }, { pod_sandbox_id: string }];
  StopPodSandbox: [{ pod_sandbox_id: string }, Empty];
  RemovePodSandbox: [{ pod_sandbox_id: string }, Empty];
  PodSandboxStatus: [
    { pod_sandbox_id: string; verbose: boolean },
    { status: PodSandboxStatus | null; containers_statuses: ContainerStatus[]; timestamp: number } & Info,
  ];
  ListPodSandbox: [{ filter: { id: string; state: { state: PodSandboxState } | null; label_selector: Map } }, { items: PodSandbox[] }];
  CreateContainer: [{ pod_sandbox_id: string; config: ContainerConfig; sandbox_config: PodSandboxConfig }, { container_id: string }];
  StartContainer: [{ container_id: string }, Empty];
  StopContainer: [{ container_id: string; timeout: number }, Empty];
  RemoveContainer: [{ container_id: string }, Empty];
  ListContainers: [
    { filter: { id: string; state: { state: ContainerState } | null; pod_sandbox_id: string; label_selector: Map } },
    { containers: Container[] },
  ];
  ContainerStatus: [{ container_id: string; verbose: boolean }, { status: ContainerStatus | null } & Info];
  UpdateContainerResources: [{ container_id: string; linux: LinuxContainerResources; annotations: Map }, Empty];
  ReopenContainerLog: [{ container_id: string }, Empty];
  ExecSync: [{ container_id: string; cmd: string[]; timeout: number }, { stdout: Buffer; stderr: Buffer; exit_code: number }];
  Exec: [{ container_id: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }, { url: string }];
  Attach: [{ container_id: string; stdin: boolean; tty: boolean; stdout: boolean; stderr: boolean }, { url: string }];
  PortForward: [{ pod_sandbox_id: string; port: number[] }, { url: string }];
  ContainerStats: [{ container_id: string }, { stats: ContainerStats | null }];
  ListContainerStats: [{ filter: { id: string; pod_sandbox_id: string; label_selector: Map } }, { stats: ContainerStats[] }];
  PodSandboxStats: [{ pod_sandbox_id: string }, { stats: PodSandboxStats | null }];
  ListPodSandboxStats: [{ filter: { id: string; label_selector: Map } }, { stats: PodSandboxStats[] }];
  UpdateRuntimeConfig: [{ runtime_config: { network_config: { pod_cidr: string } } }, Empty];
  Status: [
    { verbose: boolean },
    { status: { conditions: { type: string; status: boolean; reason: string; message: string }[] } | null } & Info,
  ];
  CheckpointContainer: [{ container_id: string; location: string; timeout: number }, Empty];
}

/** ImageService: method name → [request, response]. */
export interface ImageMethods {
  ListImages: [{ filter: { image: ImageSpec } }, { images: Image[] }];
  ImageStatus: [{ image: ImageSpec; verbose: boolean }, { image: Image | null } & Info];
  PullImage: [{ image: ImageSpec; auth: AuthConfig; sandbox_config: PodSandboxConfig }, { image_ref: string }];
  RemoveImage: [{ image: ImageSpec }, Empty];
  ImageFsInfo: [Empty, { image_filesystems: FilesystemUsage[] }];
}

/** A failed call: which method, the gRPC status code (number and name) and the server's message. */
export class CriError extends Error {
  constructor(
    readonly method: string,
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(`CRI ${method}: ${grpc.status[code] ?? 'UNKNOWN'} (${code}): ${details}`);
    this.name = 'CriError';
  }
}

export interface CallOptions {
  /** Milliseconds before the call is given up with DEADLINE_EXCEEDED; default 60 s. */
  timeoutMs?: number;
}

/** The options a CRI peer's proto is loaded with: the proto's own field names, enums by name. */
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

let packageDefinition: protoLoader.PackageDefinition | undefined;

type Unary = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, res: unknown) => void) => void;

/** runtime.v1 ContainerEventResponse, as the client decodes it. */
export interface ContainerEvent {
  container_id: string;
  container_event_type: 'CONTAINER_CREATED_EVENT' | 'CONTAINER_STARTED_EVENT' | 'CONTAINER_STOPPED_EVENT' | 'CONTAINER_DELETED_EVENT';
  created_at: number;
  pod_sandbox_status: PodSandboxStatus | null;
  containers_statuses: ContainerStatus[];
}

export class CriClient {
  readonly runtimeService: grpc.Client;
  readonly imageService: grpc.Client;

  /** `endpoint`: a socket path or a `unix://` address, as kubelet's --container-runtime-endpoint. */
  constructor(endpoint: string) {
    packageDefinition ??= protoLoader.loadSync(CRI_PROTO, LOADER_OPTIONS);
    const pkg = grpc.loadPackageDefinition(packageDefinition) as any;
    const address = endpoint.startsWith('unix:') ? endpoint : `unix://${endpoint}`;
    const credentials = grpc.credentials.createInsecure();
    // Both services on one channel, as kubelet's remote runtime dials one connection.
    this.runtimeService = new pkg.runtime.v1.RuntimeService(address, credentials) as grpc.Client;
    this.imageService = new pkg.runtime.v1.ImageService(address, credentials, { channelOverride: this.runtimeService.getChannel() });
  }

  runtime<M extends keyof RuntimeMethods>(method: M, req: Req<RuntimeMethods[M][0]>, opts?: CallOptions): Promise<RuntimeMethods[M][1]> {
    return this.call(this.runtimeService, method, req, opts) as Promise<RuntimeMethods[M][1]>;
  }

  image<M extends keyof ImageMethods>(method: M, req: Req<ImageMethods[M][0]>, opts?: CallOptions): Promise<ImageMethods[M][1]> {
    return this.call(this.imageService, method, req, opts) as Promise<ImageMethods[M][1]>;
  }

  /** GetContainerEvents, streamed: what has come so far, and the end of the stream. */
  containerEvents(): { events: ContainerEvent[]; cancel(): void } {
    const stream = (
      this.runtimeService as unknown as Record<string, (req: object) => grpc.ClientReadableStream<ContainerEvent>>
    ).GetContainerEvents.call(this.runtimeService, {});
    const events: ContainerEvent[] = [];
    stream.on('data', (e: ContainerEvent) => events.push(e));
    // A cancel ends it with CANCELLED; anything else a test sees as missing events.
    stream.on('error', () => {});
    return { events, cancel: () => stream.cancel() };
  }

  /** Resolves once the channel is connected, or fails with what grpc-js saw. */
  ready(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.runtimeService.waitForReady(Date.now() + timeoutMs, (e) =>
        e ? reject(new Error(`CRI endpoint not ready: ${e.message}`)) : resolve(),
      ),
    );
  }

  close(): void {
    this.imageService.close();
    this.runtimeService.close();
  }

  private call(service: grpc.Client, method: string, req: unknown, opts: CallOptions = {}): Promise<unknown> {
    const fn = (service as unknown as Record<string, Unary>)[method];
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    return new Promise((resolve, reject) =>
      fn.call(service, req, new grpc.Metadata(), { deadline }, (e, res) =>
        e ? reject(new CriError(method, e.code, e.details || e.message)) : resolve(res),
      ),
    );
  }
}
