// The image store: names (tags and digests) → image manifests, over the content store.
// Metadata lives in one JSON file written atomically; every update runs under one in-process
// lock. Blobs are reference-counted by the images that use them: removing an image deletes
// exactly the blobs no remaining image uses and no pull in progress holds (`pin`).
// It never touches the network (registry/ does) nor unpacks layers (snapshot.ts does).

import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, conflict, invalid, isKind, notFound } from '../errors.js';
import {
  MediaType,
  chainIDs,
  digestOf,
  isIndexMediaType,
  parseManifestOrIndex,
  type Descriptor,
  type Digest,
  type HistoryEntry,
  type ImageConfig,
  type Index,
  type Manifest,
} from '../oci/image.js';
import { ContentStore } from './content.js';
import { writeFileAtomic } from '../common/atomic.js';
import { errno } from '../common/errno.js';
import { familiarString, formatReference, parseReference, repositoryName, type Reference } from '../common/reference.js';
import { settled } from '../common/promises.js';
import { SmallFileCache } from '../common/file-cache.js';
import { measureLayer } from './unpack.js';

/** One image (one platform manifest) as the store records it. */
export interface ImageRecord {
  /** The manifest; its digest identifies the record. Immutable. */
  target: Descriptor;
  /** The index or manifest list it was chosen from, when pulled through one. Immutable. */
  index?: Descriptor;
  /**
   * Every platform manifest of `index` that was pulled (`allPlatforms`), `target` among them,
   * each with its `platform`; their blobs are kept and pushed with the index. Absent when only
   * `target` was pulled.
   */
  platforms?: Descriptor[];
  /** `name@digest` forms the registry knows it by. Grows with pulls and pushes. */
  repoDigests: string[];
  /** When berth first stored it. */
  created: string;
}

interface Meta {
  version: 1;
  /** Canonical reference (`docker.io/library/busybox:latest` or `name@sha256:…`) → manifest digest. */
  refs: Record<string, Digest>;
  images: Record<Digest, ImageRecord>;
}

/** What `images` lists (Docker's shape, in berth's words). */
export interface ImageSummary {
  /** The image ID: the config digest. */
  id: Digest;
  manifestDigest: Digest;
  repoTags: string[];
  repoDigests: string[];
  /** The layers' unpacked sizes added up: dockerd's image `Size`. */
  size: number;
  /**
   * Each layer, bottom first, by chain ID (the blob digest where the config is unreadable) with
   * its unpacked size: `system df` counts a layer once however many images share it.
   */
  layers: { chainID: Digest; size: number }[];
  created?: string;
  /** The config's `config.Labels`. */
  labels?: Record<string, string>;
}

/** A resolved image: the record, its manifest and its config. */
export interface Image {
  record: ImageRecord;
  manifest: Manifest;
  config: ImageConfig;
  /** Image ID (config digest). */
  id: Digest;
  repoTags: string[];
}

export class ImageStore {
  readonly root: string;
  readonly content: ContentStore;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly pins = new Map<Digest, number>();
  private readonly measuring = new Map<Digest, Promise<number>>();
  /** images.json, read on every resolve (each container create): one stat a read while it is unchanged. */
  private readonly metaFile = new SmallFileCache(1, 1 << 20);

  constructor(root: string) {
    this.root = root;
    this.content = new ContentStore(join(root, 'content'));
  }

  private get metaPath() {
    return join(this.root, 'images.json');
  }

  private async load(): Promise<Meta> {
    try {
      const m = JSON.parse((await this.metaFile.read(this.metaPath)).toString('utf8')) as Meta;
      if (m.version !== 1) throw invalid(`${this.metaPath}: unknown version ${m.version}`);
      return m;
    } catch (e) {
      if (errno(e) === 'ENOENT') return { version: 1, refs: {}, images: {} };
      if (e instanceof SyntaxError) throw invalid(`${this.metaPath}: not valid JSON (${e.message})`);
      throw e;
    }
  }

  /** Runs `fn` with the metadata under the store's lock; saves it when `fn` returns true. */
  private locked<T>(fn: (m: Meta) => Promise<[T, boolean]>): Promise<T> {
    const run = this.chain.then(async () => {
      await this.content.init();
      const m = await this.load();
      const [r, dirty] = await fn(m);
      if (dirty) await writeFileAtomic(this.metaPath, JSON.stringify(m, null, 1));
      return r;
    });
    this.chain = settled(run);
    return run;
  }

  /** Keeps blobs from being deleted while a pull or build that will reference them runs. */
  pin(digests: Digest[]): () => void {
    for (const d of digests) this.pins.set(d, (this.pins.get(d) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const d of digests) {
        const n = (this.pins.get(d) ?? 1) - 1;
        if (n <= 0) this.pins.delete(d);
        else this.pins.set(d, n);
      }
    };
  }

  /** The blobs an image uses: manifest, config, layers, and the index it came from. */
  async blobsOf(rec: ImageRecord): Promise<Digest[]> {
    const out: Digest[] = [];
    for (const d of [rec.target, ...(rec.platforms ?? [])]) {
      const manifest = await this.readManifest(d.digest);
      out.push(d.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest));
    }
    if (rec.index) out.push(rec.index.digest);
    return [...new Set(out)];
  }

  async readManifest(digest: Digest): Promise<Manifest> {
    const parsed = parseManifestOrIndex(await this.content.read(digest));
    if (parsed.kind !== 'manifest') throw invalid(`blob ${digest} is an index, not a manifest`);
    return parsed.manifest;
  }

  async readIndex(digest: Digest): Promise<Index> {
    const parsed = parseManifestOrIndex(await this.content.read(digest));
    if (parsed.kind !== 'index') throw invalid(`blob ${digest} is a manifest, not an index`);
    return parsed.index;
  }

  /**
   * Records that `ref` names the image whose manifest is `target` (already in the content
   * store with its config and layers); without `ref`, records the image unnamed (a dangling
   * image, as `commit` or `import` without a name make). What the name named before keeps its
   * other names, or stays as a dangling image until removed or pruned (as Docker).
   */
  async setReference(
    ref: Reference | string | undefined,
    target: Descriptor,
    extra: { index?: Descriptor; repoDigest?: string; platforms?: Descriptor[] } = {},
  ): Promise<void> {
    const r = typeof ref === 'string' ? parseReference(ref) : ref;
    for (const t of [target, ...(extra.platforms ?? [])]) {
      if (!(await this.content.has(t.digest))) throw notFound(`manifest ${t.digest} is not in the content store`);
      const m0 = await this.readManifest(t.digest);
      for (const d of [m0.config, ...m0.layers]) {
        if (!(await this.content.has(d.digest))) throw notFound(`blob ${d.digest} of manifest ${t.digest} is not in the content store`);
      }
    }
    await this.locked(async (m) => {
      if (r) m.refs[formatReference(r)] = target.digest;
      const rec = (m.images[target.digest] ??= {
        target: { mediaType: target.mediaType, digest: target.digest, size: target.size },
        repoDigests: [],
        created: new Date().toISOString(),
      });
      if (extra.index && !rec.index) rec.index = extra.index;
      if (extra.platforms && extra.index && rec.index?.digest === extra.index.digest) rec.platforms = extra.platforms;
      if (extra.repoDigest && !rec.repoDigests.includes(extra.repoDigest)) rec.repoDigests.push(extra.repoDigest);
      return [undefined, true];
    });
  }

  /** Removes an image record from `m`; returns its blobs that no remaining image uses. */
  private async dropImage(m: Meta, manifestDigest: Digest): Promise<Digest[]> {
    const rec = m.images[manifestDigest];
    if (!rec) return [];
    delete m.images[manifestDigest];
    const mine = await this.blobsOf(rec).catch(() => [manifestDigest]);
    const used = new Set<Digest>();
    for (const other of Object.values(m.images)) for (const d of await this.blobsOf(other).catch(() => [])) used.add(d);
    return mine.filter((d) => !used.has(d));
  }

  private async deleteBlobs(digests: Digest[]): Promise<Digest[]> {
    const deleted: Digest[] = [];
    for (const d of new Set(digests)) {
      if (this.pins.has(d)) continue;
      try {
        await this.content.delete(d);
        await rm(this.layerSizePath(d), { force: true });
        deleted.push(d);
      } catch (e) {
        if (!(e instanceof Error && 'kind' in e && e.kind === 'not-found')) throw e;
      }
    }
    return deleted;
  }

  /**
   * Finds an image by reference (`busybox`, `host/a:b`, `a@sha256:…`), by ID (config digest,
   * with or without `sha256:`, or a unique prefix of 12 or more hex digits) or manifest digest.
   */
  async resolve(nameOrId: string): Promise<Image> {
    const m = await this.locked(async (mm) => [mm, false]);
    const digest = await this.lookup(m, nameOrId);
    const rec = m.images[digest];
    const manifest = await this.readManifest(digest);
    const config = await this.content.readJSON<ImageConfig>(manifest.config.digest);
    const repoTags = Object.entries(m.refs)
      .filter(([k, v]) => v === digest && !k.includes('@'))
      .map(([k]) => k);
    return { record: rec, manifest, config, id: manifest.config.digest, repoTags };
  }

  /** The one manifest `nameOrId` names; for an image ID that several manifests share, the newest of them. */
  private async lookup(m: Meta, nameOrId: string): Promise<Digest> {
    return (await this.lookupAll(m, nameOrId))[0];
  }

  /**
   * Every manifest `nameOrId` names, newest first: one for a name or a manifest digest; for an
   * image ID (a config digest or its prefix) every manifest with that config — two manifests of one
   * config (a pulled image and the same image loaded from `save`) are one image, as Docker sees it.
   * A prefix is ambiguous only when it matches more than one such image.
   */
  private async lookupAll(m: Meta, nameOrId: string): Promise<Digest[]> {
    const hex = nameOrId.replace(/^sha256:/, '');
    if (/^[a-f0-9]{12,64}$/.test(hex)) {
      const hits = new Map<Digest, string>(); // manifest → the image it was matched as
      for (const d of Object.keys(m.images)) {
        // An index (no one config) or an image whose manifest a cut-short pull left out is found by its own digest only.
        const cfg = (
          await this.readManifest(d).catch((e) => {
            if (e instanceof BerthError && (e.kind === 'not-found' || e.kind === 'invalid')) return undefined;
            throw e;
          })
        )?.config.digest;
        if (cfg?.slice(7).startsWith(hex)) hits.set(d, cfg);
        else if (d.slice(7).startsWith(hex)) hits.set(d, d);
      }
      const images = new Set(hits.values());
      if (images.size > 1) throw conflict(`ambiguous image ID prefix "${nameOrId}": matches ${images.size} images, give more digits`);
      if (hits.size) return [...hits.keys()].sort((a, b) => m.images[b].created.localeCompare(m.images[a].created));
    }
    const ref = parseReference(nameOrId);
    const key = formatReference(ref);
    let d = m.refs[key];
    if (!d && ref.digest) {
      // name@digest: the manifest digest or a repo digest (index) of an image with that name
      const name = repositoryName(ref);
      for (const [dig, rec] of Object.entries(m.images)) {
        if (dig === ref.digest || rec.index?.digest === ref.digest || rec.repoDigests.includes(`${name}@${ref.digest}`)) {
          if (
            Object.keys(m.refs).some((k) => k.startsWith(`${name}:`) || k.startsWith(`${name}@`)) ||
            rec.repoDigests.some((x) => x.startsWith(`${name}@`))
          ) {
            d = dig;
            break;
          }
        }
      }
    }
    // dockerd names the reference as it read it: `No such image: busybox:latest`.
    if (!d || !m.images[d]) throw notFound(`No such image: ${familiarString(ref)}`);
    return [d];
  }

  /** Records that a registry knows the image as `name@digest` (after a push). */
  async addRepoDigest(manifestDigest: Digest, repoDigest: string): Promise<void> {
    await this.locked(async (m) => {
      const rec = m.images[manifestDigest];
      if (!rec || rec.repoDigests.includes(repoDigest)) return [undefined, false];
      rec.repoDigests.push(repoDigest);
      return [undefined, true];
    });
  }

  private layerSizePath(blob: Digest): string {
    return join(this.root, 'layer-sizes', blob.replace(':', '-'));
  }

  /**
   * Records a layer's unpacked size (`contentSize` of its unpack or pack), the size Docker shows
   * for a layer, beside its blob; it goes when the blob goes.
   */
  async recordLayerSize(blob: Digest, contentSize: number): Promise<void> {
    await mkdir(join(this.root, 'layer-sizes'), { recursive: true });
    await writeFileAtomic(this.layerSizePath(blob), JSON.stringify({ unpacked: contentSize }));
  }

  /**
   * A layer's unpacked size as dockerd counts it. Where none was recorded (a layer stored by a
   * berth from before, whose plain-number records left out symlinks), it is measured from the
   * blob once, asynchronously, and recorded; concurrent askers share the measuring.
   */
  async layerSize(layer: Descriptor): Promise<number> {
    try {
      const n = (JSON.parse(await readFile(this.layerSizePath(layer.digest), 'utf8')) as { unpacked?: unknown }).unpacked;
      if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return n;
    } catch (e) {
      if (errno(e) !== 'ENOENT' && !(e instanceof SyntaxError)) throw e;
    }
    let p = this.measuring.get(layer.digest);
    if (!p) {
      p = (async () => {
        let blob;
        try {
          blob = await this.content.readStream(layer.digest);
        } catch (e) {
          // A blob gone from under its image (a store cut short) leaves the image listed, at its blob's size.
          if (isKind(e, 'not-found')) return layer.size;
          throw e;
        }
        const n = await measureLayer(blob);
        await this.recordLayerSize(layer.digest, n);
        return n;
      })().finally(() => this.measuring.delete(layer.digest));
      this.measuring.set(layer.digest, p);
    }
    return p;
  }

  /** An image's size as dockerd reports it (`Size` of list and inspect): the sum of its layers' unpacked sizes. */
  async imageSize(manifest: Manifest): Promise<number> {
    let n = 0;
    for (const l of manifest.layers) n += await this.layerSize(l);
    return n;
  }

  /**
   * `history`: the config's history, newest first, each with the size of the layer it made
   * (0 for `empty_layer` steps): the bytes of its files, as `docker history` shows.
   */
  async history(nameOrId: string): Promise<{ created?: string; createdBy?: string; comment?: string; size: number; layer?: Digest }[]> {
    const img = await this.resolve(nameOrId);
    const layers = [...img.manifest.layers];
    const hist: HistoryEntry[] = img.config.history ?? layers.map(() => ({}));
    const out = [];
    for (const h of hist) {
      const layer = h.empty_layer ? undefined : layers.shift();
      const size = layer ? await this.layerSize(layer) : 0;
      out.push({ created: h.created, createdBy: h.created_by, comment: h.comment, size, layer: layer?.digest });
    }
    return out.reverse();
  }

  /** Gives image `source` the additional name `target` (Docker's `tag`). */
  async tag(source: string, target: string): Promise<void> {
    const img = await this.resolve(source);
    const r = parseReference(target);
    if (r.digest) throw invalid(`cannot tag with a digest reference "${target}": give name:tag`);
    await this.setReference(r, img.record.target);
  }

  /** Every image, one entry per manifest, with its names. */
  async list(): Promise<ImageSummary[]> {
    const m = await this.locked(async (mm) => [mm, false]);
    const out: ImageSummary[] = [];
    for (const [digest, rec] of Object.entries(m.images)) {
      const manifest = await this.readManifest(digest);
      let created: string | undefined;
      let labels: Record<string, string> | undefined;
      let ids = manifest.layers.map((l) => l.digest);
      try {
        const cfg = await this.content.readJSON<ImageConfig>(manifest.config.digest);
        created = cfg.created;
        labels = cfg.config?.Labels ?? undefined;
        if (cfg.rootfs?.diff_ids?.length === ids.length) ids = chainIDs(cfg.rootfs.diff_ids);
      } catch (e) {
        if (!isKind(e, 'not-found', 'invalid')) throw e; // a config missing or broken: listed without
      }
      const layers = [];
      for (const [i, l] of manifest.layers.entries()) layers.push({ chainID: ids[i], size: await this.layerSize(l) });
      out.push({
        id: manifest.config.digest,
        manifestDigest: digest,
        repoTags: Object.entries(m.refs)
          .filter(([k, v]) => v === digest && !k.includes('@'))
          .map(([k]) => k)
          .sort(),
        repoDigests: rec.repoDigests,
        size: layers.reduce((a, l) => a + l.size, 0),
        layers,
        created,
        labels,
      });
    }
    return out;
  }

  /**
   * Removes a name (`rmi name`): the image goes when no name is left for it, and with it the
   * blobs no other image uses. By ID, all its names go, which needs `force` when it has more
   * than one (as Docker). Returns the names untagged and the blobs deleted.
   */
  async remove(nameOrId: string, opts: { force?: boolean } = {}): Promise<{ untagged: string[]; deleted: Digest[] }> {
    const [untagged, freed] = await this.locked(async (m): Promise<[[string[], Digest[]], boolean]> => {
      const digests = await this.lookupAll(m, nameOrId);
      const key = this.nameKey(m, nameOrId, digests[0]);
      if (key) {
        const drop = untagIn(m, key);
        return [[drop, refsOf(m, digests[0]).length ? [] : await this.dropImage(m, digests[0])], true];
      }
      // By ID: every manifest of the image goes, with all their names.
      const names = digests.flatMap((d) => refsOf(m, d));
      if (names.filter((n) => !n.includes('@')).length > 1 && !opts.force) {
        throw conflict(`unable to delete ${nameOrId} (must be forced) - image is referenced in multiple repositories`);
      }
      for (const n of names) delete m.refs[n];
      const freed: Digest[] = [];
      for (const d of digests) freed.push(...(await this.dropImage(m, d)));
      return [[names, freed], true];
    });
    const deleted = await this.deleteBlobs(freed);
    return { untagged, deleted };
  }

  /** The canonical name `nameOrId` is, when it is a name of the image `digest` (not an ID). */
  private nameKey(m: Meta, nameOrId: string, digest: Digest): string | undefined {
    try {
      const key = formatReference(parseReference(nameOrId));
      return m.refs[key] === digest ? key : undefined;
    } catch {
      return undefined;
    }
  }

  /** Every name (`repo:tag` and `repo@digest`) the image has, canonical. */
  async references(nameOrId: string): Promise<string[]> {
    return this.locked(async (m) => [(await this.lookupAll(m, nameOrId)).flatMap((d) => refsOf(m, d)), false]);
  }

  /**
   * Removes one name of an image (a tag or a `repo@digest` reference). When the image has no
   * tag left in that repository, its digest references there go too (as Docker). The image
   * stays, dangling when no name is left. Returns the names removed.
   */
  async untag(name: string): Promise<string[]> {
    return this.locked(async (m) => {
      const ref = parseReference(name);
      const key = formatReference(ref);
      if (!m.refs[key]) throw notFound(`No such image: ${familiarString(ref)}`);
      return [untagIn(m, key), true];
    });
  }

  /**
   * Deletes an image (by name or ID) with all its names; its blobs that no other image uses
   * and no pull holds go too. Returns the names removed and the blobs deleted.
   */
  async delete(nameOrId: string): Promise<{ untagged: string[]; deleted: Digest[] }> {
    const [untagged, freed] = await this.locked(async (m): Promise<[[string[], Digest[]], boolean]> => {
      const digests = await this.lookupAll(m, nameOrId);
      const names = digests.flatMap((d) => refsOf(m, d));
      for (const n of names) delete m.refs[n];
      const freed: Digest[] = [];
      for (const d of digests) freed.push(...(await this.dropImage(m, d)));
      return [[names, freed], true];
    });
    return { untagged, deleted: await this.deleteBlobs(freed) };
  }

  /** Deletes every blob no image uses and no pull holds (`image prune` of unreferenced content). */
  async prune(): Promise<{ deleted: Digest[]; reclaimed: number }> {
    return this.locked(async (m) => {
      const used = new Set<Digest>();
      for (const rec of Object.values(m.images)) for (const d of await this.blobsOf(rec)) used.add(d);
      const victims = (await this.content.list()).filter((b) => !used.has(b.digest) && !this.pins.has(b.digest));
      const deleted = await this.deleteBlobs(victims.map((b) => b.digest));
      const reclaimed = victims.filter((b) => deleted.includes(b.digest)).reduce((a, b) => a + b.size, 0);
      return [{ deleted, reclaimed }, false];
    });
  }

  /** Deletes those of `digests` that no image uses and no pull holds (clean-up after a failed load). */
  async deleteUnused(digests: Digest[]): Promise<Digest[]> {
    const victims = await this.locked(async (m) => {
      const used = new Set<Digest>();
      for (const rec of Object.values(m.images)) for (const d of await this.blobsOf(rec)) used.add(d);
      return [digests.filter((d) => !used.has(d)), false];
    });
    return this.deleteBlobs(victims);
  }

  /** `system df` figures for images: count, bytes stored, bytes no image uses. */
  async df(): Promise<{ images: number; blobs: number; size: number; reclaimable: number }> {
    return this.locked(async (m) => {
      const used = new Set<Digest>();
      for (const rec of Object.values(m.images)) for (const d of await this.blobsOf(rec)) used.add(d);
      const blobs = await this.content.list();
      const size = blobs.reduce((a, b) => a + b.size, 0);
      const reclaimable = blobs.filter((b) => !used.has(b.digest)).reduce((a, b) => a + b.size, 0);
      return [{ images: Object.keys(m.images).length, blobs: blobs.length, size, reclaimable }, false];
    });
  }

  /**
   * Writes a config and manifest for layers already in the content store and names the image
   * (`import`, `commit` and tests use this). Layers are descriptors of the stored blobs.
   */
  async createImage(
    ref: string | undefined,
    config: ImageConfig,
    layers: Descriptor[],
    opts: { mediaType?: typeof MediaType.ImageManifest | typeof MediaType.DockerManifest } = {},
  ): Promise<Descriptor> {
    if (config.rootfs.diff_ids.length !== layers.length) {
      throw invalid(`config has ${config.rootfs.diff_ids.length} diff_ids for ${layers.length} layers`);
    }
    const docker = opts.mediaType === MediaType.DockerManifest;
    const cfgBytes = Buffer.from(JSON.stringify(config));
    const cfg = await this.content.put(cfgBytes);
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: docker ? MediaType.DockerManifest : MediaType.ImageManifest,
      config: { mediaType: docker ? MediaType.DockerConfig : MediaType.ImageConfig, digest: cfg.digest, size: cfg.size },
      layers,
    };
    const mBytes = Buffer.from(JSON.stringify(manifest));
    const desc: Descriptor = { mediaType: manifest.mediaType!, digest: digestOf(mBytes), size: mBytes.length };
    const unpin = this.pin([desc.digest, cfg.digest]);
    try {
      await this.content.put(mBytes, desc);
      await this.setReference(ref, desc);
    } finally {
      unpin();
    }
    return desc;
  }

  /** True when `d` is an index media type (helper for callers choosing a path). */
  static isIndex(d: Descriptor): boolean {
    return isIndexMediaType(d.mediaType);
  }
}

function refsOf(m: Meta, digest: Digest): string[] {
  return Object.keys(m.refs).filter((k) => m.refs[k] === digest);
}

/** Removes `key` from `m`, and the image's digest references of that repository once it has no tag there. */
function untagIn(m: Meta, key: string): string[] {
  const digest = m.refs[key];
  delete m.refs[key];
  const repo = repositoryName(parseReference(key));
  const inRepo = refsOf(m, digest).filter((k) => repositoryName(parseReference(k)) === repo);
  if (inRepo.some((k) => !k.includes('@'))) return [key];
  for (const k of inRepo) delete m.refs[k];
  return [key, ...inRepo];
}
