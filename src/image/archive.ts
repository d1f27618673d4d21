// save and load: images ⇄ one tar in the layout `docker save` writes since Docker 25 — an OCI
// image layout (oci-layout, index.json, blobs/) with Docker's manifest.json beside it, which both
// OCI tools and `docker load` read — or an OCI image layout as a directory. `load` also reads
// the classic docker-archive (`<id>/layer.tar`, `<hex>.json`, manifest.json) that older
// `docker save` and skopeo write. Every blob is verified on the way in; a failed load removes
// the blobs it added and names nothing.

import { createReadStream } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, invalid, isKind, unsupported, withCleanup } from '../errors.js';
import {
  ANNOTATION_REF_NAME,
  MediaType,
  digestOf,
  layerCompression,
  parseManifestOrIndex,
  type Descriptor,
  type Digest,
  type ImageConfig,
  type Index,
  type Manifest,
} from '../oci/image.js';
import { hostPlatform, selectManifest } from './platform.js';
import { familiarString, formatReference, parseReference } from '../common/reference.js';
import type { Image, ImageStore } from './store.js';
import { readTar, TarWriter, type TarHeaderInput } from '../tar/index.js';
import { detectCompression } from './decompress.js';
import { checkLayer } from './layer-check.js';

export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';

interface Saved {
  image: Image;
  names: string[];
}

async function collect(store: ImageStore, names: string[]): Promise<Saved[]> {
  const byManifest = new Map<Digest, Saved>();
  for (const n of names) {
    const image = await store.resolve(n);
    const d = image.record.target.digest;
    const s = byManifest.get(d) ?? { image, names: [] };
    // By name: that name; by ID: every tag the image has (as docker save does).
    let asName: string | undefined;
    try {
      const r = parseReference(n);
      if (!r.digest && image.repoTags.includes(formatReference(r))) asName = formatReference(r);
    } catch (e) {
      if (!isKind(e, 'invalid')) throw e; // an ID, not a name
    }
    for (const t of asName ? [asName] : image.repoTags) if (!s.names.includes(t)) s.names.push(t);
    byManifest.set(d, s);
  }
  return [...byManifest.values()];
}

interface Sink {
  file(path: string, data: Buffer): Promise<void>;
  blob(store: ImageStore, d: Descriptor): Promise<void>;
}

async function writeLayout(store: ImageStore, saved: Saved[], sink: Sink, dockerManifest: boolean): Promise<void> {
  await sink.file('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  const done = new Set<Digest>();
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] };
  const dm: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const blobPath = (d: Digest) => `blobs/${d.replace(':', '/')}`;
  for (const { image, names } of saved) {
    const { manifest, record } = image;
    for (const d of [...manifest.layers, manifest.config, record.target]) {
      if (done.has(d.digest)) continue;
      done.add(d.digest);
      await sink.blob(store, d);
    }
    let desc: Descriptor = { mediaType: record.target.mediaType, digest: record.target.digest, size: record.target.size };
    if (record.index && record.platforms?.length) {
      // An image kept with all its platforms is saved whole, named through its index.
      for (const p of record.platforms) {
        const m = await store.readManifest(p.digest);
        for (const d of [...m.layers, m.config, p]) {
          if (done.has(d.digest)) continue;
          done.add(d.digest);
          await sink.blob(store, d);
        }
      }
      const stored = await store.readIndex(record.index.digest);
      const have = new Set(record.platforms.map((p) => p.digest));
      if (stored.manifests.every((d) => have.has(d.digest))) {
        desc = { mediaType: record.index.mediaType, digest: record.index.digest, size: record.index.size };
        if (!done.has(desc.digest)) {
          done.add(desc.digest);
          await sink.blob(store, desc);
        }
      } else {
        const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: record.index.mediaType, manifests: record.platforms }));
        desc = { mediaType: record.index.mediaType, digest: digestOf(bytes), size: bytes.length };
        if (!done.has(desc.digest)) {
          done.add(desc.digest);
          await sink.file(blobPath(desc.digest), bytes);
        }
      }
    }
    if (names.length === 0) index.manifests.push(desc);
    for (const n of names) {
      const r = parseReference(n);
      index.manifests.push({ ...desc, annotations: { [ANNOTATION_IMAGE_NAME]: formatReference(r), [ANNOTATION_REF_NAME]: r.tag ?? '' } });
    }
    dm.push({
      Config: blobPath(manifest.config.digest),
      RepoTags: names.map((n) => familiarString(parseReference(n))),
      Layers: manifest.layers.map((l) => blobPath(l.digest)),
    });
  }
  await sink.file('index.json', Buffer.from(JSON.stringify(index)));
  if (dockerManifest) await sink.file('manifest.json', Buffer.from(JSON.stringify(dm)));
}

/** `save`: a tar stream of the named images (OCI layout + Docker's manifest.json). */
export async function saveImages(store: ImageStore, names: string[]): Promise<Readable> {
  const saved = await collect(store, names);
  const pack = new TarWriter();
  const mtime = 0;
  const entry = (h: TarHeaderInput, body?: Buffer | Readable) => pack.add(h, body);
  const dirs = new Set<string>();
  const sink: Sink = {
    file: (path, data) => entry({ name: path, size: data.length, mode: 0o644, mtime }, data),
    async blob(s, d) {
      const dir = `blobs/${d.digest.split(':')[0]}/`;
      if (!dirs.has(dir)) {
        if (!dirs.has('blobs/')) {
          dirs.add('blobs/');
          await entry({ name: 'blobs/', type: 'directory', mode: 0o755, mtime });
        }
        dirs.add(dir);
        await entry({ name: dir, type: 'directory', mode: 0o755, mtime });
      }
      await entry({ name: `${dir}${d.digest.split(':')[1]}`, size: d.size, mode: 0o644, mtime }, await s.content.readStream(d.digest));
    },
  };
  writeLayout(store, saved, sink, true)
    .then(() => pack.end())
    .catch((e: Error) => pack.destroy(e));
  return pack.stream;
}

/** Writes the named images as an OCI image layout directory at `dir` (created if missing). */
export async function saveOciLayout(store: ImageStore, names: string[], dir: string): Promise<void> {
  const saved = await collect(store, names);
  await mkdir(dir, { recursive: true });
  const sink: Sink = {
    async file(path, data) {
      await writeFile(join(dir, path), data);
    },
    async blob(s, d) {
      const [alg, hex] = d.digest.split(':');
      await mkdir(join(dir, 'blobs', alg), { recursive: true });
      await copyFile(s.content.path(d.digest), join(dir, 'blobs', alg, hex));
    },
  };
  await writeLayout(store, saved, sink, false);
}

export interface LoadResult {
  /** Canonical names loaded. */
  names: string[];
  /** Manifest digests of the images loaded. */
  manifests: Digest[];
}

const MAX_JSON = 8 << 20;

/**
 * `load`: images from a tar stream (OCI layout, Docker 25+ `docker save`, or the classic
 * docker-archive). Images without a name are refused (`invalid`) as berth keeps images by name.
 */
export interface LoadOptions {
  /** Repository for OCI layout entries whose `org.opencontainers.image.ref.name` is a tag only (as skopeo and umoci write). */
  repository?: string;
}

export async function loadImages(
  store: ImageStore,
  source: AsyncIterable<Uint8Array> | Readable,
  opts: LoadOptions = {},
): Promise<LoadResult> {
  const files = new Map<string, { digest: Digest; size: number; head: Buffer; json?: Buffer }>();
  const added = new Set<Digest>();
  const unpins: (() => void)[] = [];
  // dockerd's save writes a layer that two of its v1 IDs share once, and the other's layer.tar as a symlink to it.
  const links = new Map<string, string>();
  try {
    for await (const e of readTar(source)) {
      const h = e.header;
      const name = h.name.replace(/^\.\//, '');
      if (h.type === 'symlink') links.set(name, posix.normalize(posix.join(posix.dirname(name), h.linkname)));
      if (h.type === 'link') links.set(name, posix.normalize(h.linkname.replace(/^\.\//, '')));
      if (h.type !== 'file' && h.type !== 'contiguous-file') continue;
      let head = Buffer.alloc(0);
      const isBlob = /^blobs\//.test(name);
      const json: Buffer[] | undefined = (isBlob ? h.size <= 1 << 20 : h.size <= MAX_JSON) ? [] : undefined;
      const tee = (async function* () {
        for await (const c of e.body) {
          if (head.length < 8) head = Buffer.concat([head, c.subarray(0, 8)]);
          json?.push(c);
          yield c;
        }
      })();
      const m = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(name);
      let info: { digest: Digest; size: number };
      if (m) {
        const digest = `${m[1]}:${m[2]}`;
        if (!(await store.content.has(digest))) added.add(digest);
        unpins.push(store.pin([digest]));
        info = await store.content.ingest({ digest, size: h.size }, (offset) => skip(tee, offset));
        for await (const _ of tee) {
          /* drain when present */
        }
      } else {
        info = await store.content.write(tee);
        unpins.push(store.pin([info.digest]));
        added.add(info.digest);
      }
      files.set(name, { ...info, head, json: json ? Buffer.concat(json) : undefined });
    }
    for (const [name, target] of links) {
      let to = target;
      for (let hops = 0; links.has(to) && hops < 8; hops++) to = links.get(to)!;
      const f = files.get(to);
      if (f && !files.has(name)) files.set(name, f);
    }
    const jsonOf = (path: string): unknown => {
      const f = files.get(path);
      if (!f?.json) throw invalid(`archive: ${path} missing or too large`);
      try {
        return JSON.parse(f.json.toString('utf8'));
      } catch {
        throw invalid(`archive: ${path} is not valid JSON`);
      }
    };
    const result: LoadResult = { names: [], manifests: [] };
    // Names are set only once every layer they reach has passed the layer rules.
    const naming: { ref: ReturnType<typeof parseReference>; desc: Descriptor; opts?: Parameters<ImageStore['setReference']>[2] }[] = [];
    const checks: Digest[] = [];
    if (files.has('index.json')) {
      const index = jsonOf('index.json') as Index;
      if (!Array.isArray(index.manifests)) throw invalid('archive: index.json has no manifests');
      for (const d of index.manifests) {
        const tagOnly = d.annotations?.[ANNOTATION_REF_NAME];
        let full = d.annotations?.[ANNOTATION_IMAGE_NAME];
        if (!full && tagOnly) {
          // ref.name is often a tag alone; it is a full name only when it has a repository part.
          if (/[/:@]/.test(tagOnly)) full = tagOnly;
          else if (opts.repository) full = `${opts.repository}:${tagOnly}`;
          else throw invalid(`archive: manifest ${d.digest} is named only by the tag "${tagOnly}"; give a repository to load it under`);
        }
        let target = d;
        let via: Descriptor | undefined;
        const bytes = await store.content.read(d.digest);
        const parsed = parseManifestOrIndex(bytes, d.mediaType);
        let platforms: Descriptor[] | undefined;
        if (parsed.kind === 'index') {
          via = { mediaType: d.mediaType, digest: d.digest, size: d.size };
          const images = parsed.index.manifests.filter((x) => x.platform && x.platform.os !== 'unknown');
          let chosen: Descriptor;
          try {
            chosen = selectManifest(parsed.index.manifests, hostPlatform());
          } catch (e) {
            if (!images.length) throw e;
            chosen = images[0];
          }
          target = { mediaType: chosen.mediaType, digest: chosen.digest, size: chosen.size };
          // Every platform the archive carries whole is kept with the image.
          platforms = [];
          for (const x of images) {
            try {
              const m = await store.readManifest(x.digest);
              let whole = true;
              for (const b of [m.config, ...m.layers]) if (!(await store.content.has(b.digest))) whole = false;
              if (whole) platforms.push({ mediaType: x.mediaType, digest: x.digest, size: x.size, platform: x.platform });
            } catch (e) {
              if (!isKind(e, 'not-found')) throw e; // not in the archive
            }
          }
          if (platforms.length < 2) platforms = undefined;
        }
        if (!full)
          throw invalid(`archive: manifest ${d.digest} has no name (annotation ${ANNOTATION_IMAGE_NAME}); berth keeps images by name`);
        let ref;
        try {
          ref = parseReference(full);
        } catch {
          throw invalid(`archive: manifest ${d.digest} is named "${full}", not a full image reference`);
        }
        naming.push({
          ref,
          desc: { mediaType: target.mediaType, digest: target.digest, size: target.size },
          opts: { index: via, platforms },
        });
        checks.push(target.digest, ...(platforms ?? []).map((p) => p.digest));
        result.names.push(formatReference(ref));
        result.manifests.push(target.digest);
      }
    } else if (files.has('manifest.json')) {
      const dm = jsonOf('manifest.json') as { Config: string; RepoTags?: string[] | null; Layers: string[] }[];
      if (!Array.isArray(dm)) throw invalid('archive: manifest.json is not a list');
      for (const e of dm) {
        const cfgFile = files.get(e.Config);
        if (!cfgFile) throw invalid(`archive: config ${e.Config} named in manifest.json is missing`);
        const config = jsonOf(e.Config) as ImageConfig;
        if (!config.rootfs?.diff_ids || config.rootfs.diff_ids.length !== e.Layers.length) {
          throw invalid(`archive: config ${e.Config} lists ${config.rootfs?.diff_ids?.length ?? 0} diff_ids for ${e.Layers.length} layers`);
        }
        const layers: Descriptor[] = e.Layers.map((p, i) => {
          const f = files.get(p);
          if (!f) throw invalid(`archive: layer ${p} named in manifest.json is missing`);
          const c = detectCompression(f.head);
          if (c === 'none' && f.digest !== config.rootfs.diff_ids[i]) {
            throw invalid(`archive: layer ${p} has digest ${f.digest}, the config says ${config.rootfs.diff_ids[i]}`);
          }
          const mediaType = c === 'gzip' ? MediaType.DockerLayerGzip : c === 'zstd' ? MediaType.LayerZstd : MediaType.DockerLayer;
          if (c === 'zstd') throw unsupported(`archive: zstd layer ${p} in a docker-archive (a Docker schema 2 manifest cannot carry it)`);
          return { mediaType, digest: f.digest, size: f.size };
        });
        const manifest: Manifest = {
          schemaVersion: 2,
          mediaType: MediaType.DockerManifest,
          config: { mediaType: MediaType.DockerConfig, digest: cfgFile.digest, size: cfgFile.size },
          layers,
        };
        const mb = Buffer.from(JSON.stringify(manifest, null, 3));
        const desc: Descriptor = { mediaType: MediaType.DockerManifest, digest: digestOf(mb), size: mb.length };
        if (!(await store.content.has(desc.digest))) added.add(desc.digest);
        unpins.push(store.pin([desc.digest]));
        await store.content.put(mb, desc);
        const tags = e.RepoTags ?? [];
        if (tags.length === 0) throw invalid(`archive: image ${cfgFile.digest} has no RepoTags; berth keeps images by name`);
        for (const t of tags) {
          const ref = parseReference(t);
          naming.push({ ref, desc });
          result.names.push(formatReference(ref));
        }
        checks.push(desc.digest);
        result.manifests.push(desc.digest);
      }
    } else {
      throw invalid('archive: neither index.json nor manifest.json found: not a docker save or OCI layout tar');
    }
    await checkLayers(store, checks);
    for (const n of naming) await store.setReference(n.ref, n.desc, n.opts);
    for (const u of unpins.splice(0)) u();
    await store.deleteUnused([...added]);
    return result;
  } catch (e) {
    for (const u of unpins.splice(0)) u();
    const undo = await store.deleteUnused([...added]).then(
      () => [],
      (d: Error) => [d],
    );
    throw withCleanup(e, undo);
  }
}

/**
 * Runs the layer rules (layer-check.ts) over every layer of the manifests, each layer once, so
 * a layer that would escape its directory is refused at load rather than at the first `run`.
 */
async function checkLayers(store: ImageStore, manifests: Digest[]): Promise<void> {
  const seen = new Set<Digest>();
  for (const m of new Set(manifests)) {
    const manifest = await store.readManifest(m);
    for (const layer of manifest.layers) {
      if (seen.has(layer.digest)) continue;
      seen.add(layer.digest);
      if (!(await store.content.has(layer.digest))) continue; // not carried: nothing to unpack
      try {
        await checkLayer(await store.content.readStream(layer.digest), layerCompression(layer.mediaType));
      } catch (e) {
        if (e instanceof BerthError) throw new BerthError(e.kind, `archive: layer ${layer.digest}: ${e.message}`);
        throw e;
      }
    }
  }
}

async function* skip(src: AsyncIterable<Buffer>, n: number): AsyncGenerator<Buffer> {
  for await (const c of src) {
    if (n >= c.length) {
      n -= c.length;
      continue;
    }
    yield n ? c.subarray(n) : c;
    n = 0;
  }
}

/** Reads a file as a stream (convenience for callers loading from a path). */
export const fileSource = (path: string) => createReadStream(path);
