// Snapshots on overlayfs: each layer unpacked once under `<root>/layers/<chainID>/fs` and shared
// by every image that has it; a container's root is one overlay mount of an image's layers under
// a writable upper dir (`<root>/containers/<key>/{upper,work,merged}`). `diff` lists what the
// upper dir changed (A/C/D, as `docker diff`); `commit` turns it into a new layer (deletions as
// OCI whiteouts) and a new image. It knows images only through the ImageStore, and nothing of
// containers beyond a key.

import { createHash } from 'node:crypto';
import { chown, lstat, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { TarWriter } from '../tar/index.js';
import { conflict, invalid, notFound } from '../errors.js';
import { MediaType, chainIDs, layerCompression, type Descriptor, type Digest, type ImageConfig } from '../oci/image.js';
import { writeFileAtomic } from '../common/atomic.js';
import { errno, isErrno } from '../common/errno.js';
import { mountIdmappedOverlay, mountOverlay, mountsUnder, unmount, type IdMap } from './mount.js';
import type { ImageStore } from './store.js';
import { packDirectory } from './pack-dir.js';
import { toContainerIds } from '../common/id-map.js';
import { unpackLayerThreaded } from './unpack-thread.js';
import { awaitedLater } from '../common/promises.js';
import { dirSize, dirUsage } from '../common/dir-size.js';

export interface Change {
  kind: 'A' | 'C' | 'D';
  /** Absolute inside the container: `/etc/hosts`. */
  path: string;
}

export interface SnapshotInfo {
  key: string;
  /** The image's manifest digest. */
  image: Digest;
  chainIDs: Digest[];
  /** Where the container's root is mounted. */
  rootfs: string;
  /** The writable upper dir; '' for a view. */
  upper: string;
  /** A view (`prepareView`): the image's layers alone, read-only, no upper dir. */
  view?: true;
  /**
   * A container in a user namespace: its layers are mounted idmapped to these maps (shared, on
   * disk as unpacked), and its upper dir holds host ids (the mapped ones), as dockerd's do.
   */
  idmap?: SnapshotIdMap;
}

export interface SnapshotIdMap {
  uidMappings: IdMap[];
  gidMappings: IdMap[];
}

export interface CommitOptions {
  /** Name for the new image (optional: an untagged image otherwise). */
  reference?: string;
  author?: string;
  /** History line (`created_by`), default "berth commit"; with `createdBy`, the history's `comment`. */
  comment?: string;
  /** The history's `created_by` (Docker: the container's command). */
  createdBy?: string;
  /** Paths of the upper dir (absolute in the container, `/etc/hosts`) left out of the layer. */
  exclude?: (path: string) => boolean;
  /** Replaces fields of the image config's `config` (Cmd, Env, …). */
  config?: ImageConfig['config'];
}

/** The host id of container id 0 (a user namespace's root). */
function mappedRoot(maps: IdMap[]): number {
  const m = maps.find((x) => x.containerID === 0);
  if (!m) throw invalid('an id map without container id 0');
  return m.hostID;
}

const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export class Snapshotter {
  readonly root: string;
  private readonly unpacking = new Map<Digest, Promise<void>>();

  constructor(root: string) {
    this.root = root;
  }

  private ready: Promise<void> | undefined;

  /**
   * Creates the directories and removes what a crash left half made: unpack temp dirs, layers
   * without their `layer.json`, snapshot dirs still named `.tmp`. Idempotent; run once (again
   * after a failure). Every entry point runs it first, `list` too: a berthd that restarts after a
   * kill lists the snapshots to adopt, and may make none before the next kill.
   */
  init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(join(this.root, 'layers'), { recursive: true });
      await mkdir(join(this.root, 'containers'), { recursive: true });
      for (const n of await readdir(join(this.root, 'layers'))) {
        const d = join(this.root, 'layers', n);
        if (n === 'empty') continue;
        const names = await readdir(d).catch(() => [] as string[]);
        if (!names.includes('layer.json')) {
          await rm(d, { recursive: true, force: true });
          continue;
        }
        for (const x of names) if (x.startsWith('fs.unpack-')) await rm(join(d, x), { recursive: true, force: true });
      }
      for (const n of await readdir(join(this.root, 'containers'))) {
        if (n.endsWith('.tmp')) await rm(join(this.root, 'containers', n), { recursive: true, force: true });
      }
    })().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  layerDir(chainID: Digest): string {
    return join(this.root, 'layers', chainID.replace(/^sha256:/, ''));
  }
  private containerDir(key: string): string {
    if (!KEY_RE.test(key)) throw invalid(`invalid snapshot key "${key}"`);
    return join(this.root, 'containers', key);
  }

  /** Unpacks the image's layers that are not unpacked yet; returns their chainIDs, bottom first. */
  async unpackImage(store: ImageStore, nameOrId: string): Promise<{ image: Digest; chainIDs: Digest[] }> {
    await this.init();
    const img = await store.resolve(nameOrId);
    const diffIDs = img.config.rootfs.diff_ids;
    if (diffIDs.length !== img.manifest.layers.length) {
      throw invalid(`image ${nameOrId}: ${diffIDs.length} diff_ids for ${img.manifest.layers.length} layers`);
    }
    const chain = chainIDs(diffIDs);
    for (let i = 0; i < chain.length; i++) await this.ensureLayer(store, img.manifest.layers[i], diffIDs[i], chain[i]);
    return { image: img.record.target.digest, chainIDs: chain };
  }

  /**
   * Unpacks one layer blob (already in the content store) as `chainID`, unless it is there;
   * concurrent calls for one chainID share the work. Its parent layers need not be unpacked.
   */
  async ensureLayer(store: ImageStore, layer: Descriptor, diffID: Digest, chainID: Digest): Promise<void> {
    await this.init();
    let p = this.unpacking.get(chainID);
    if (!p) {
      p = this.unpackOne(store, layer, diffID, chainID).finally(() => this.unpacking.delete(chainID));
      this.unpacking.set(chainID, p);
    }
    await p;
  }

  private async unpackOne(store: ImageStore, layer: Descriptor, diffID: Digest, chainID: Digest): Promise<void> {
    const dir = this.layerDir(chainID);
    try {
      await stat(join(dir, 'layer.json'));
      return;
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
    }
    layerCompression(layer.mediaType);
    await rm(join(dir, 'fs'), { recursive: true, force: true }); // a half-made one from a crash
    await mkdir(dir, { recursive: true });
    try {
      const r = await unpackLayerThreaded(await store.content.readStream(layer.digest), join(dir, 'fs'), { diffID });
      await store.recordLayerSize(layer.digest, r.contentSize);
      await writeFileAtomic(join(dir, 'layer.json'), JSON.stringify({ chainID, diffID, size: r.size, blob: layer.digest }));
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** True when the layer `chainID` is unpacked. */
  async hasLayer(chainID: Digest): Promise<boolean> {
    try {
      await stat(join(this.layerDir(chainID), 'layer.json'));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Unpacks a layer from its bytes as they download (`source`: the compressed blob), so that
   * decompression keeps pace with the network. The unpacked tree is checked against `diffID`;
   * the layer is recorded only once `blobVerified` resolves too (the blob's own digest), and
   * removed when either fails. Registers as the in-flight unpack of `chainID`.
   */
  unpackStreaming(
    store: ImageStore,
    layer: Descriptor,
    diffID: Digest,
    chainID: Digest,
    source: AsyncIterable<Uint8Array>,
    blobVerified: Promise<void>,
  ): Promise<void> {
    const run = (async () => {
      await this.init();
      layerCompression(layer.mediaType);
      const dir = this.layerDir(chainID);
      await rm(join(dir, 'fs'), { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      try {
        const r = await unpackLayerThreaded(source, join(dir, 'fs'), { diffID });
        await blobVerified;
        await store.recordLayerSize(layer.digest, r.contentSize);
        await writeFileAtomic(join(dir, 'layer.json'), JSON.stringify({ chainID, diffID, size: r.size, blob: layer.digest }));
      } catch (e) {
        await rm(dir, { recursive: true, force: true });
        throw e;
      }
    })().finally(() => this.unpacking.delete(chainID));
    this.unpacking.set(chainID, run);
    return run;
  }

  /** True when `chainID` is being unpacked now (by this snapshotter). */
  isUnpacking(chainID: Digest): boolean {
    return this.unpacking.has(chainID);
  }

  /**
   * Makes a container's root for image `nameOrId` under `key`: unpacks missing layers, then
   * mounts them read-only under a fresh writable upper dir. `conflict` when the key is in use.
   * `idmap`: the container's user namespace (SnapshotInfo.idmap).
   */
  async prepare(key: string, store: ImageStore, nameOrId: string, idmap?: SnapshotIdMap): Promise<SnapshotInfo> {
    return this.make(key, store, nameOrId, false, idmap);
  }

  /**
   * A read-only view of image `nameOrId` under `key` (a container's image mount): its layers,
   * unpacked where missing, mounted as an overlay with no upper dir, so nothing can be written
   * there. It holds its layers as a container's snapshot does (`pruneLayers` keeps them) and
   * goes by `remove`. `idmap`: the layers are seen through it, as a container's root.
   */
  async prepareView(key: string, store: ImageStore, nameOrId: string, idmap?: SnapshotIdMap): Promise<SnapshotInfo> {
    return this.make(key, store, nameOrId, true, idmap);
  }

  /** A container's root or (`view`) an image's read-only view: its folder made whole under a temp name, then mounted. */
  private async make(key: string, store: ImageStore, nameOrId: string, view: boolean, idmap?: SnapshotIdMap): Promise<SnapshotInfo> {
    const dir = this.containerDir(key);
    try {
      await lstat(dir);
      throw conflict(`snapshot ${key} already exists`);
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
    }
    const { image, chainIDs: chain } = await this.unpackImage(store, nameOrId);
    const tmp = `${dir}.tmp`;
    const info: SnapshotInfo = {
      key,
      image,
      chainIDs: chain,
      rootfs: join(dir, 'merged'),
      upper: view ? '' : join(dir, 'upper'),
      ...(view ? { view: true } : {}),
      ...(idmap ? { idmap } : {}),
    };
    try {
      await rm(tmp, { recursive: true, force: true });
      for (const d of view ? ['merged'] : ['upper', 'work', 'merged']) await mkdir(join(tmp, d), { recursive: true, mode: 0o755 });
      // The root's owner is the upper dir's: the container's root, in host ids.
      if (idmap && !view) await chown(join(tmp, 'upper'), mappedRoot(idmap.uidMappings), mappedRoot(idmap.gidMappings));
      await writeFileAtomic(join(tmp, 'snapshot.json'), JSON.stringify(info));
      await rename(tmp, dir);
    } catch (e) {
      // (A full disk: what was made of it goes, as its create's other parts do.)
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    try {
      await this.mount(key);
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    return info;
  }

  async info(key: string): Promise<SnapshotInfo> {
    try {
      return JSON.parse(await readFile(join(this.containerDir(key), 'snapshot.json'), 'utf8')) as SnapshotInfo;
    } catch (e) {
      if (errno(e) === 'ENOENT') throw notFound(`no such snapshot: ${key}`);
      throw e;
    }
  }

  /** Mounts the snapshot's overlay (again, e.g. after a reboot); no-op when mounted. Resolves with its info. */
  async mount(key: string): Promise<SnapshotInfo> {
    const info = await this.info(key);
    // An overlay has a device of its own: one stat pair, where mountinfo grows with every
    // container's mount and was read whole for each create.
    const [root, parent] = await Promise.all([stat(info.rootfs), stat(join(info.rootfs, '..'))]);
    if (root.dev !== parent.dev) return info;
    const rel = `containers/${key}`;
    const lowers = info.chainIDs.map((c) => `layers/${c.replace(/^sha256:/, '')}/fs`).reverse();
    // An empty folder below: an overlay needs one lower at least, and two when it has no upper.
    if (lowers.length === 0 || info.view) {
      await mkdir(join(this.root, 'layers', 'empty'), { recursive: true });
      lowers.push('layers/empty');
    }
    const upper = info.view ? undefined : `${rel}/upper`;
    const work = info.view ? undefined : `${rel}/work`;
    if (info.idmap) await mountIdmappedOverlay(info.rootfs, lowers, upper, work, this.root, info.idmap.uidMappings, info.idmap.gidMappings);
    else await mountOverlay(info.rootfs, lowers, upper, work, this.root);
    return info;
  }

  async unmount(key: string): Promise<void> {
    const info = await this.info(key);
    for (const m of await mountsUnder(info.rootfs)) await unmount(m);
  }

  /** Unmounts and deletes the container's snapshot (its upper dir with it). */
  async remove(key: string): Promise<void> {
    const dir = this.containerDir(key);
    for (const m of await mountsUnder(dir)) await unmount(m);
    await rm(dir, { recursive: true, force: true });
  }

  /** Snapshot keys in use (what a crash left half made is gone first). */
  async list(): Promise<string[]> {
    await this.init();
    try {
      return (await readdir(join(this.root, 'containers'))).filter((n) => !n.endsWith('.tmp'));
    } catch {
      return [];
    }
  }

  /**
   * Removes unpacked layers no image in `store` and no snapshot uses; returns their chainIDs.
   */
  async pruneLayers(store: ImageStore): Promise<Digest[]> {
    const keep = new Set<string>();
    for (const img of await store.list()) {
      const { config } = await store.resolve(img.manifestDigest.slice(7));
      for (const c of chainIDs(config.rootfs.diff_ids)) keep.add(c.slice(7));
    }
    for (const key of await this.list()) for (const c of (await this.info(key)).chainIDs) keep.add(c.slice(7));
    const removed: Digest[] = [];
    let names: string[] = [];
    try {
      names = await readdir(join(this.root, 'layers'));
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
    }
    for (const n of names) {
      if (keep.has(n) || n === 'empty' || this.unpacking.has(`sha256:${n}`)) continue;
      await rm(join(this.root, 'layers', n), { recursive: true, force: true });
      removed.push(`sha256:${n}`);
    }
    return removed;
  }

  /**
   * `system df` figures for snapshots: unpacked layers (bytes of their uncompressed tars) and
   * containers' writable layers (bytes of the files in their upper dirs).
   */
  async df(): Promise<{ layers: number; layersSize: number; containers: number; containersSize: number }> {
    let layers = 0;
    let layersSize = 0;
    for (const n of await readdir(join(this.root, 'layers')).catch(() => [] as string[])) {
      try {
        const j = JSON.parse(await readFile(join(this.root, 'layers', n, 'layer.json'), 'utf8')) as { size: number };
        layers++;
        layersSize += j.size;
      } catch (e) {
        if (!isErrno(e, 'ENOENT') && !(e instanceof SyntaxError)) throw e; // half made, or `empty`
      }
    }
    let containers = 0;
    let containersSize = 0;
    for (const k of await this.list()) {
      const info = await this.info(k);
      if (info.view) continue; // no writable layer: an image mount's
      containers++;
      containersSize += await dirSize(info.upper);
    }
    return { layers, layersSize, containers, containersSize };
  }

  /** The writable layer's bytes (as usage) and inodes, and where it lies. */
  async fsUsage(key: string): Promise<{ dir: string; bytes: number; inodes: number }> {
    const { upper } = await this.info(key);
    return { dir: upper, ...(await dirUsage(upper)) };
  }

  private lowerDirs(info: SnapshotInfo): string[] {
    return info.chainIDs.map((c) => join(this.layerDir(c), 'fs')).reverse();
  }

  /** What a path is in the lower layers: absent, present, or a directory. */
  private async inLower(lowers: string[], rel: string): Promise<'absent' | 'file' | 'dir'> {
    for (const l of lowers) {
      try {
        const st = await lstat(join(l, rel));
        if (st.isCharacterDevice() && st.rdev === 0) return 'absent';
        return st.isDirectory() ? 'dir' : 'file';
      } catch (e) {
        if (errno(e) !== 'ENOENT' && errno(e) !== 'ENOTDIR') throw e;
      }
    }
    return 'absent';
  }

  /** The changes of the container's upper dir against its image: A added, C changed, D deleted. */
  async diff(key: string): Promise<Change[]> {
    const out: Change[] = [];
    await this.changes(key, (c) => {
      out.push(c);
      return true;
    });
    return out;
  }

  /** Whether the upper dir changed anything but the paths `ignore` names: `diff` that stops at the first change. */
  async hasChanges(key: string, ignore: (path: string) => boolean = () => false): Promise<boolean> {
    let found = false;
    await this.changes(key, (c) => {
      found = !ignore(c.path);
      return !found;
    });
    return found;
  }

  /** Walks the changes in `diff`'s order, while `each` returns true. */
  private async changes(key: string, each: (c: Change) => boolean): Promise<void> {
    const info = await this.info(key);
    const lowers = this.lowerDirs(info);
    const walk = async (rel: string): Promise<boolean> => {
      const names = (await readdir(join(info.upper, rel))).sort();
      for (const name of names) {
        const r = rel ? `${rel}/${name}` : name;
        const st = await lstat(join(info.upper, r));
        const lower = await this.inLower(lowers, r);
        if (st.isCharacterDevice() && st.rdev === 0) {
          if (lower !== 'absent' && !each({ kind: 'D', path: `/${r}` })) return false;
          continue;
        }
        if (!each({ kind: lower === 'absent' ? 'A' : 'C', path: `/${r}` })) return false;
        if (st.isDirectory() && !(await walk(r))) return false;
      }
      return true;
    };
    await walk('');
  }

  /**
   * Packs the snapshot's upper dir as one gzip layer in the content store (deletions as `.wh.`
   * whiteouts, opaque directories as `.wh..wh..opq`, hard links inside the upper dir kept as
   * links) and returns it with its diffID. The blob is pinned until `unpin` is called.
   */
  async commitLayer(
    key: string,
    store: ImageStore,
    opts: { exclude?: (path: string) => boolean; adopt?: boolean } = {},
  ): Promise<{ layer: Descriptor; diffID: Digest; unpin: () => void }> {
    if (opts.adopt && opts.exclude) throw invalid('commitLayer: a layer that leaves paths out cannot adopt the upper dir');
    const info = await this.info(key);
    const pack = new TarWriter();
    const hash = createHash('sha256');
    let tarSize = 0;
    const tap = new Transform({
      transform(c: Buffer, _e, cb) {
        hash.update(c);
        tarSize += c.length;
        cb(null, c);
      },
    });
    const gzip = createGzip();
    const flowing = pipeline(pack.stream, tap, gzip);
    awaitedLater(flowing);
    const writing = store.content.write(gzip);
    awaitedLater(writing);
    try {
      await packDirectory(pack, info.upper, {
        overlay: true,
        skip: opts.exclude && ((rel) => opts.exclude!(`/${rel}`)),
        // A remapped container's upper dir holds host ids: the layer gets the container's.
        ids: info.idmap && toContainerIds(info.idmap),
      });
      await pack.end();
      await flowing;
      const blob = await writing;
      await store.recordLayerSize(blob.digest, pack.contentSize);
      const unpin = store.pin([blob.digest]);
      const diffID: Digest = `sha256:${hash.digest('hex')}`;
      const layer = { mediaType: MediaType.LayerGzip, digest: blob.digest, size: blob.size };
      if (opts.adopt) {
        try {
          await this.adoptUpper(info, layer, diffID, tarSize);
        } catch (e) {
          unpin();
          throw e;
        }
      }
      return { layer, diffID, unpin };
    } catch (e) {
      pack.destroy(e as Error);
      // When the blob's write fails (a full disk) the pipeline is torn down, and the packing
      // learns of it only as an abort: the write's own error says why.
      const why = await Promise.race([
        writing.then(
          () => undefined,
          (w: unknown) => w,
        ),
        new Promise((r) => setTimeout(r, 1000)),
      ]);
      throw why instanceof Error && /no space left on device/.test(why.message) ? why : e;
    }
  }

  /**
   * `commitLayer`'s `adopt`: the upper dir just packed becomes the new layer's unpacked form (it
   * holds exactly what the tar does, whiteouts and opaque dirs in overlayfs' own form), so that
   * the next step's snapshot need not unpack the blob again, as containerd's snapshotter commits.
   * The snapshot is unmounted and left without its upper dir: it is only good for `remove`.
   */
  private async adoptUpper(info: SnapshotInfo, layer: Descriptor, diffID: Digest, size: number): Promise<void> {
    const chain = info.chainIDs.length
      ? (`sha256:${createHash('sha256')
          .update(`${info.chainIDs[info.chainIDs.length - 1]} ${diffID}`)
          .digest('hex')}` as Digest)
      : diffID;
    const dir = this.containerDir(info.key);
    for (const m of await mountsUnder(dir)) await unmount(m);
    if (this.unpacking.has(chain) || (await this.hasLayer(chain))) return; // another step made the same layer
    const run = (async () => {
      const ldir = this.layerDir(chain);
      await rm(ldir, { recursive: true, force: true }); // a half-made one from a crash
      await mkdir(ldir, { recursive: true });
      try {
        await rename(info.upper, join(ldir, 'fs'));
        await writeFileAtomic(join(ldir, 'layer.json'), JSON.stringify({ chainID: chain, diffID, size, blob: layer.digest }));
      } catch (e) {
        await rm(ldir, { recursive: true, force: true });
        throw e;
      }
    })().finally(() => this.unpacking.delete(chain));
    this.unpacking.set(chain, run);
    await run;
  }

  /**
   * Commits the container's upper dir as a new gzip layer on top of its image (commitLayer) and
   * records a new image (named `reference` when given).
   */
  async commit(
    key: string,
    store: ImageStore,
    opts: CommitOptions = {},
  ): Promise<{ manifest: Descriptor; layer: Descriptor; diffID: Digest }> {
    const info = await this.info(key);
    const base = await store.resolve(info.image.slice(7));
    const { layer, diffID, unpin } = await this.commitLayer(key, store, { exclude: opts.exclude });
    try {
      const now = new Date().toISOString();
      const config: ImageConfig = {
        ...base.config,
        created: now,
        ...(opts.author ? { author: opts.author } : {}),
        config: { ...base.config.config, ...opts.config },
        rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, diffID] },
        history: [
          ...(base.config.history ?? []),
          {
            created: now,
            created_by: opts.createdBy ?? opts.comment ?? 'berth commit',
            ...(opts.createdBy !== undefined && opts.comment ? { comment: opts.comment } : {}),
            ...(opts.author ? { author: opts.author } : {}),
          },
        ],
      };
      const layers = [...base.manifest.layers.map(toOciLayer), layer];
      const manifest = await store.createImage(opts.reference, config, layers);
      return { manifest, layer, diffID };
    } finally {
      unpin();
    }
  }
}

export function toOciLayer(d: Descriptor): Descriptor {
  const map: Record<string, string> = {
    [MediaType.DockerLayerGzip]: MediaType.LayerGzip,
    [MediaType.DockerLayer]: MediaType.Layer,
    [MediaType.DockerLayerForeignGzip]: MediaType.LayerNonDistributableGzip,
  };
  return { mediaType: map[d.mediaType] ?? d.mediaType, digest: d.digest, size: d.size };
}
