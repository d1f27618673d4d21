// Images as the engine serves them: pull (through the daemon's mirrors and insecure
// registries, unpacking as layers land), list, inspect, remove (refused while a container uses
// the image, unless forced) and import. The image library does the work.

import type { Readable } from 'node:stream';
import { conflict } from '../errors.js';
import {
  familiarString, importRootfs, parseReference, pull, type Image, type ImageStore, type ImageSummary,
  type PullProgress, type PullResult, type RegistryOptions, type Snapshotter,
} from '../image/index.js';
import type { ImageConfigConfig } from '../oci/image.js';

export interface ImagesOptions {
  store: ImageStore;
  snapshots: Snapshotter;
  registry: RegistryOptions;
  /** The IDs of images containers use now, for rmi's check. */
  inUse: () => Map<string, string>;
}

export class Images {
  constructor(private readonly opts: ImagesOptions) {}

  get store(): ImageStore { return this.opts.store; }

  /** `hadIt`: the name already pointed at the same image before the pull (Docker's "up to date"). */
  async pull(reference: string, onProgress?: (p: PullProgress) => void): Promise<PullResult & { hadIt: boolean }> {
    const before = await this.opts.store.resolve(reference).then((i) => i.record.target.digest, () => undefined);
    const r = await pull(this.opts.store, reference, { ...this.opts.registry, unpack: this.opts.snapshots, onProgress });
    return { ...r, hadIt: before === r.manifest.digest };
  }

  list(): Promise<ImageSummary[]> { return this.opts.store.list(); }

  inspect(name: string): Promise<Image> { return this.opts.store.resolve(name); }

  async remove(name: string, opts: { force?: boolean } = {}): Promise<{ untagged: string[]; deleted: string[] }> {
    const img = await this.opts.store.resolve(name);
    const user = this.opts.inUse().get(img.id);
    // Removing one of several names never frees the image, so only the last name is guarded.
    if (user && !opts.force && img.repoTags.length <= 1) {
      throw conflict(`conflict: unable to remove repository reference "${name}" (must force) - container ${user.slice(0, 12)} is using its referenced image ${img.id.slice(7, 19)}`);
    }
    const r = await this.opts.store.remove(name, opts);
    // Docker names the image, not its blobs, as deleted once its last name went.
    const gone = await this.opts.store.resolve(img.id).then(() => false, () => true);
    return { untagged: r.untagged.map((n) => familiarString(parseReference(n))), deleted: gone ? [img.id] : [] };
  }

  /** `import`: a root file system tar as a one-layer image named `reference` (when given). */
  async import(source: Readable, reference?: string, config?: ImageConfigConfig): Promise<string> {
    const desc = await importRootfs(this.opts.store, source, reference, { config, comment: 'imported by berth' });
    const cfg = (await this.opts.store.readManifest(desc.digest)).config.digest;
    return cfg;
  }
}
