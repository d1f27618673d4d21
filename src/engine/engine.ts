// The engine: one object owning the image store, the snapshotter and the containers under a
// daemon's roots. berthd's API server is its only caller; it knows nothing of HTTP.

import { engineId } from './engine-id.js';
import { join } from 'node:path';
import { spendOnFull } from '../common/atomic.js';
import { BerthError } from '../errors.js';
import { SpaceReserve, failingClearlyWhenFull } from '../common/disk-full.js';
import { DEFAULT_DOMAIN, ImageStore, Snapshotter, parseReference, type RegistryOptions } from '../image/index.js';
import { ExternalRuntime } from '../runtime/external.js';
import { LocalRuntime, type Runtime } from '../runtime/runtime.js';
import { BUILTIN_ALIASES, BUILTIN_RUNTIME, RuntimeSet } from '../runtime/runtime-set.js';
import { Balancers } from './balancers.js';
import { BuildContexts } from './build-context.js';
import { ContainerFiles } from './container-files.js';
import { Containers } from './containers/index.js';
import { Events } from './events.js';
import { execProbe } from './probe.js';
import { Execs } from './exec.js';
import { Images } from './images.js';
import { Builder } from '../build/builder.js';
import type { BuildEvent, BuildRequest, BuildResult } from '../build/request.js';
import { ContainerStepRunner } from './build.js';
import { ensurePauseImage } from './pods/pause-image.js';
import { Pods } from './pods/index.js';
import type { Remap } from './userns.js';

/** A runtime as daemon.json's `runtimes` gives it. */
export interface RuntimeConfig {
  path: string;
  runtimeArgs?: string[];
}

export interface EngineOptions {
  /** Persistent state: images, snapshots, containers (`--data-root`, default /var/lib/berth). */
  dataRoot: string;
  /** Runtime state: runtime records, attach sockets (`--exec-root`, default /run/berth). */
  execRoot: string;
  /** Registries reached over plain HTTP (`--insecure-registry`). */
  insecureRegistries?: string[];
  /** Mirrors of docker.io (`--registry-mirror`). */
  registryMirrors?: string[];
  /** The default `bridge` network's gateway and prefix (`--bip`); unset: a subnet free on the host. */
  bip?: string;
  /** The default `bridge` network has IPv6 (daemon.json `ipv6`); unset: IPv4 only. */
  ipv6?: boolean;
  /** Its IPv6 subnet (daemon.json `fixed-cidr-v6`); unset: the next /64 of the host's ULA pool. */
  fixedCidrV6?: string;
  /** ip6tables rules for IPv6 networks (daemon.json `ip6tables`); true unless false, as dockerd 28. */
  ip6tables?: boolean;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
  /** The OCI runtime; by default this machine's (runtime/runtime.ts), its state under `<execRoot>/runtime`. */
  runtime?: Runtime;
  /**
   * Other OCI runtimes by name (daemon.json `runtimes`, `--add-runtime`), run through their
   * runc-style command line, each with its state under `<execRoot>/runtimes/<name>`.
   */
  runtimes?: Record<string, RuntimeConfig>;
  /** The runtime of a container that names none (`default-runtime`); default berth. */
  defaultRuntime?: string;
  /** `--userns-remap`: every container's ids map to these (userns.ts' loadRemap) unless it asks for the host's. */
  usernsRemap?: Remap;
  /**
   * An ordinary user's berthd, run as root of that user's user namespace (api/server/rootless.ts):
   * no bridge networks, cgroups only where delegated, overlayfs metadata in user.* xattrs.
   */
  rootless?: boolean;
  /** `--cpu-rt-period`, `--cpu-rt-runtime` (µs): the realtime budget of the containers' parent cgroups (v1), as dockerd's. */
  cpuRealtimePeriod?: number;
  cpuRealtimeRuntime?: number;
}

export class Engine {
  readonly options: EngineOptions;
  /** The engine's ID (its data root's engine-id), stable across restarts. */
  readonly id: string;
  readonly images: Images;
  readonly containers: Containers;
  readonly execs: Execs;
  /** Pods: containers around an infra container that holds their shared namespaces (pods/). */
  readonly pods: Pods;
  /** top, stats, cp, diff, commit, export. */
  readonly files: ContainerFiles;
  readonly snapshots: Snapshotter;
  /** `docker build`: Dockerfiles into images, with its cache (build/). */
  readonly builder: Builder;
  /** What happened, for `/events`: every part of the engine emits through it. */
  readonly events = new Events();
  /** Build contexts unpacked for POST /build, under `<data-root>/tmp`. */
  readonly buildContexts: BuildContexts;
  /** Host ports spread across containers (berth kube's NodePorts). */
  readonly balancers: Balancers;
  /** Space the state writes of stop, rm and prune may spend when the data root is full (`start` makes it). */
  readonly reserve: SpaceReserve;
  private readonly unspend: () => void;

  constructor(opts: EngineOptions) {
    this.options = opts;
    this.id = engineId(opts.dataRoot);
    this.reserve = new SpaceReserve(opts.dataRoot, opts.log);
    this.unspend = spendOnFull(this.reserve);
    const store = new ImageStore(join(opts.dataRoot, 'image'));
    this.snapshots = new Snapshotter(join(opts.dataRoot, 'snapshots'));
    const registry: RegistryOptions = {
      insecure: opts.insecureRegistries ?? [],
      // As dockerd: credentials come with each request (X-Registry-Auth), never from a file of the daemon's user.
      dockerConfig: null,
      mirrors: opts.registryMirrors?.length ? { 'docker.io': opts.registryMirrors } : undefined,
    };
    // What the runtime says that is not an error of its call (a failed hook) goes to berthd's log.
    const runtimeLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => opts.log?.(level, `runtime: ${msg}`);
    const builtin = opts.runtime ?? new LocalRuntime(join(opts.execRoot, 'runtime'), runtimeLog);
    const byName = new Map<string, Runtime>(BUILTIN_ALIASES.map((n) => [n, builtin]));
    for (const [name, rc] of Object.entries(opts.runtimes ?? {})) {
      byName.set(
        name,
        new ExternalRuntime({ name, path: rc.path, args: rc.runtimeArgs, root: join(opts.execRoot, 'runtimes', name), log: runtimeLog }),
      );
    }
    const defaultRuntime = opts.defaultRuntime ?? BUILTIN_RUNTIME;
    // Each call goes to the container's runtime, as its record names it.
    const runtime = new RuntimeSet(byName, defaultRuntime, (id) => this.containers.runtimeOf(id));
    this.containers = new Containers({
      dataRoot: opts.dataRoot,
      execRoot: opts.execRoot,
      bip: opts.bip,
      ipv6: opts.ipv6,
      fixedCidrV6: opts.fixedCidrV6,
      ip6tables: opts.ip6tables,
      usernsRemap: opts.usernsRemap,
      rootless: opts.rootless,
      cpuRealtimePeriod: opts.cpuRealtimePeriod,
      cpuRealtimeRuntime: opts.cpuRealtimeRuntime,
      images: store,
      snapshots: this.snapshots,
      events: this.events,
      log: opts.log,
      runtime,
      runtimeNames: new Set(byName.keys()),
      builtinRuntimes: new Set(BUILTIN_ALIASES.filter((n) => byName.get(n) === builtin)),
      defaultRuntime,
    });
    this.balancers = new Balancers(opts.dataRoot, this.containers, this.events, (m) => opts.log?.('warn', m));
    this.execs = new Execs(this.containers, runtime, opts.log);
    this.pods = new Pods({
      dataRoot: opts.dataRoot,
      containers: this.containers,
      pauseImage: () => ensurePauseImage({ resolve: (ref) => store.resolve(ref), import: (src, o) => this.images.import(src, o) }),
      networkDriver: (name) => this.containers.networks.get(name).Driver,
      log: opts.log,
    });
    this.containers.pods = this.pods;
    this.containers.prober = (id, cmd, timeoutMs) => execProbe(this.execs, id, cmd, timeoutMs);
    this.files = new ContainerFiles(
      this.containers,
      this.snapshots,
      store,
      runtime,
      opts.dataRoot,
      join(opts.dataRoot, 'tmp'),
      opts.log,
      this.events,
    );
    this.buildContexts = new BuildContexts(join(opts.dataRoot, 'tmp'), opts.dataRoot, opts.log);
    this.images = new Images({
      store,
      dataRoot: opts.dataRoot,
      snapshots: this.snapshots,
      registry,
      events: this.events,
      // A container uses its image and those its image mounts show: dockerd 28 deletes the
      // latter, keeping their layers out of sight for the mount; berthd keeps them as listed images.
      users: () => {
        const m = new Map<string, { id: string; running: boolean }[]>();
        for (const c of this.containers.list()) {
          const running = ['running', 'paused', 'restarting'].includes(c.State.Status);
          const images = new Set([c.Image, ...(c.MountPoints ?? []).flatMap((p) => (p.Image ? [p.Image] : []))]);
          for (const image of images) m.set(image, [...(m.get(image) ?? []), { id: c.Id, running }]);
        }
        return m;
      },
    });
    this.builder = new Builder({
      store,
      snapshots: this.snapshots,
      runner: new ContainerStepRunner(this.containers, this.files, opts.log),
      dir: join(opts.dataRoot, 'build'),
      secretsDir: join(opts.execRoot, 'build-secrets'),
      log: opts.log,
      resolveImage: async (ref, o) => {
        if (!o.pull) {
          try {
            return (await store.resolve(ref)).id;
          } catch (e) {
            if (!(e instanceof BerthError && e.kind === 'not-found')) throw e;
          }
        }
        o.note(`Pulling ${ref}`);
        const domain = parseReference(ref).domain;
        // The docker CLI keys Docker Hub's credentials by its v1 address.
        const credentials =
          o.credentials?.[domain] ?? (domain === DEFAULT_DOMAIN ? o.credentials?.['https://index.docker.io/v1/'] : undefined);
        return (await this.images.pull(ref, { credentials })).image.id;
      },
    });
  }

  /** Builds an image (POST /build, `berth build`); `onEvent` hears each step, its output and cache hits. */
  build(req: BuildRequest, onEvent: (e: BuildEvent) => void): Promise<BuildResult> {
    // A step that meets a full data root fails saying so (the builder leaves nothing of it).
    return failingClearlyWhenFull(this.options.dataRoot, () => this.builder.build(req, onEvent));
  }

  /** Stops watching and serving names; resolves once the records are on disk and unused bridges are gone. */
  async close(): Promise<void> {
    await this.containers.close();
    await this.pods.close();
    await this.containers.networks.close();
    this.reserve.close();
    this.unspend();
  }
}
