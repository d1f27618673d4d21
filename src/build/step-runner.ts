// What a RUN step needs that only the engine has: a container made on a root the builder chose,
// with Docker's default security profile, the build's network and the container's init files
// (/etc/hosts, /etc/resolv.conf, /etc/hostname). The engine implements it (engine/build.ts)
// with its own container machinery; the builder never sees containers, networks or HTTP.

/** A mount of a RUN step (`RUN --mount`), already resolved to a host path where it has one. */
export type StepMount =
  { type: 'bind'; source: string; target: string; readonly: boolean } | { type: 'tmpfs'; target: string; size?: number };

/**
 * The build's limits on every RUN step's container (POST /build's `memory`, `memswap`,
 * `cpushares`, `cpuperiod`, `cpuquota`, `cpusetcpus`, `cpusetmems`, `shmsize`, `cgroupparent`,
 * `ulimits`), under the HostConfig names the engine checks and applies as for any container.
 */
export interface StepResources {
  Memory?: number;
  MemorySwap?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  ShmSize?: number;
  CgroupParent?: string;
  Ulimits?: { Name: string; Soft: number; Hard: number }[];
}

export interface StepRun {
  /** An image of the image store (its ID): the root the step runs on. */
  image: string;
  /** The process: argv, its full environment, `user[:group]`, the working directory. */
  args: string[];
  env: string[];
  user: string;
  workdir: string;
  /** 'default' (the default bridge), 'none', 'host', `container:<name>`, or a network's name. */
  network: string;
  mounts: StepMount[];
  /** `name:ip` lines for its /etc/hosts (`--add-host`). */
  extraHosts: string[];
  /** The build's resource limits, applied to the step's container as dockerd's builder does. */
  resources: StepResources;
  /** Aborted: the process is killed and the step fails. */
  signal?: AbortSignal;
  /** stdout and stderr as they come, interleaved. */
  onOutput: (data: Buffer) => void;
}

/**
 * Runs the step's command to its end. When it exits 0, `commit` is called while the container
 * still exists, with the key of its root's snapshot and the paths the engine itself made in it
 * (mount points, init files: they belong in no layer); what `commit` returns is the result.
 * The container, its snapshot, mounts and cgroups are gone when `run` settles, whatever happened.
 */
export interface StepRunner {
  run<T>(step: StepRun, commit: (snapshotKey: string, engineMade: (path: string) => boolean) => Promise<T>): Promise<StepOutcome<T>>;
}

export type StepOutcome<T> = { exitCode: 0; result: T } | { exitCode: number; result?: undefined };
