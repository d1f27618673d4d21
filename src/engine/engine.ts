// The engine: one object owning the image store, the snapshotter and the containers under a
// daemon's roots. berthd's API server is its only caller; it knows nothing of HTTP.

import { join } from 'node:path';
import { ImageStore, Snapshotter, type RegistryOptions } from '../image/index.js';
import { ContainerFiles } from './container-files.js';
import { Containers } from './containers/index.js';
import { Events } from './events.js';
import { execProbe } from './probe.js';
import { Execs } from './exec.js';
import { Images } from './images.js';

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
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
}

export class Engine {
  readonly options: EngineOptions;
  readonly images: Images;
  readonly containers: Containers;
  readonly execs: Execs;
  /** top, stats, cp, diff, commit, export. */
  readonly files: ContainerFiles;
  readonly snapshots: Snapshotter;
  /** What happened, for `/events`: every part of the engine emits through it. */
  readonly events = new Events();

  constructor(opts: EngineOptions) {
    this.options = opts;
    const store = new ImageStore(join(opts.dataRoot, 'image'));
    this.snapshots = new Snapshotter(join(opts.dataRoot, 'snapshots'));
    const registry: RegistryOptions = {
      insecure: opts.insecureRegistries ?? [],
      // As dockerd: credentials come with each request (X-Registry-Auth), never from a file of the daemon's user.
      dockerConfig: null,
      mirrors: opts.registryMirrors?.length ? { 'docker.io': opts.registryMirrors } : undefined,
    };
    this.containers = new Containers({ dataRoot: opts.dataRoot, execRoot: opts.execRoot, bip: opts.bip, images: store, snapshots: this.snapshots, events: this.events, log: opts.log });
    this.execs = new Execs(this.containers, join(opts.execRoot, 'runtime'), opts.log);
    this.containers.prober = (id, cmd, timeoutMs) => execProbe(this.execs, id, cmd, timeoutMs);
    this.files = new ContainerFiles(this.containers, this.snapshots, store, join(opts.execRoot, 'runtime'), join(opts.dataRoot, 'tmp'), opts.log);
    this.images = new Images({
      store, snapshots: this.snapshots, registry, events: this.events,
      users: () => {
        const m = new Map<string, { id: string; running: boolean }[]>();
        for (const c of this.containers.list()) {
          m.set(c.Image, [...(m.get(c.Image) ?? []), { id: c.Id, running: ['running', 'paused', 'restarting'].includes(c.State.Status) }]);
        }
        return m;
      },
    });
  }

  close(): void {
    this.containers.close();
    this.containers.networks.close();
  }
}
