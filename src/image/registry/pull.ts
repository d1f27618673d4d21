// Pull: reference → manifest (through an index or manifest list, choosing the platform) →
// config and layers into the content store, in parallel, skipping blobs already present and
// resuming partial ones with Range, then the name recorded in the image store. Every blob is
// verified before it becomes visible; the name is written last, so a failed pull names nothing.

import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { awaitedLater, settled } from '../../common/promises.js';
import { invalid, BerthError } from '../../errors.js';
import {
  MediaType,
  chainIDs,
  digestOf,
  isManifestMediaType,
  layerCompression,
  parseDigest,
  parseManifestOrIndex,
  type Descriptor,
  type ImageConfig,
  type Manifest,
  type Platform,
} from '../../oci/image.js';
import { hostPlatform, parsePlatform, selectManifest } from '../platform.js';
import { formatReference, parseReference, repositoryName, type Reference } from '../../common/reference.js';
import type { Image, ImageStore } from '../store.js';
import type { Snapshotter } from '../snapshot.js';
import { RegistryClient, blobRange, supportsRanges, type RegistryOptions } from './client.js';

export const MANIFEST_ACCEPT = [MediaType.ImageIndex, MediaType.DockerManifestList, MediaType.ImageManifest, MediaType.DockerManifest].join(
  ', ',
);

const MAX_MANIFEST = 4 << 20;
const MAX_CONFIG = 32 << 20;

export type PullStatus = 'Resolving' | 'Waiting' | 'Downloading' | 'Already exists' | 'Download complete' | 'Pull complete';

export interface PullProgress {
  /** 12 hex digits of the blob's digest, or the reference for whole-image events. */
  id: string;
  status: PullStatus;
  /** The blob is an image config, not a layer (Docker shows layers only). */
  config?: true;
  current?: number;
  total?: number;
}

export interface PullOptions extends RegistryOptions {
  /** `linux/arm64/v8` or a Platform; default the host's. */
  platform?: string | Platform;
  /** Blobs downloaded at once (default 4). */
  concurrency?: number;
  onProgress?: (p: PullProgress) => void;
  /** Blobs at least this large are fetched as parallel byte ranges where the registry allows (default 32 MiB, off for localhost; 0 turns it off). */
  rangeThreshold?: number;
  /** Parallel ranges per large blob (default 4). */
  rangeParts?: number;
  /**
   * Unpack the layers with this snapshotter while the later ones still download (in order,
   * each once verified); the image is named only when every layer unpacked.
   */
  unpack?: Snapshotter;
  /**
   * Through an index, keep every image platform of it (not attestations), as `docker pull
   * --all-platforms`; the image runs as `platform` (default the host's, else the first).
   */
  allPlatforms?: boolean;
}

export interface PullResult {
  reference: Reference;
  /** The manifest chosen. */
  manifest: Descriptor;
  /** The digest the registry knows the reference by (index or manifest). */
  repoDigest: string;
  image: Image;
  /** Bytes fetched over the network for blobs (resumed parts not counted). */
  fetched: number;
}

/** Fetches a manifest or index by tag or digest, verifying its digest. */
export async function fetchManifest(client: RegistryClient, repo: string, tagOrDigest: string) {
  const res = await client.request('GET', repo, `/manifests/${tagOrDigest}`, {
    headers: { accept: MANIFEST_ACCEPT },
    what: `manifest for ${client.host}/${repo}:${tagOrDigest}`,
  });
  const len = Number(res.headers.get('content-length') ?? 0);
  if (len > MAX_MANIFEST) throw invalid(`manifest for ${repo}:${tagOrDigest} is ${len} bytes, over the ${MAX_MANIFEST} berth accepts`);
  const bytes = Buffer.from(await res.arrayBuffer());
  if (bytes.length > MAX_MANIFEST) throw invalid(`manifest for ${repo}:${tagOrDigest} is over ${MAX_MANIFEST} bytes`);
  const header = res.headers.get('docker-content-digest');
  let digest = digestOf(bytes);
  if (tagOrDigest.includes(':')) {
    const { algorithm } = parseDigest(tagOrDigest);
    digest = digestOf(bytes, algorithm);
    if (digest !== tagOrDigest)
      throw invalid(`digest mismatch for manifest ${repo}@${tagOrDigest}: the registry sent content with digest ${digest}`);
  } else if (header && header.startsWith('sha256:') && header !== digest) {
    throw invalid(`digest mismatch for manifest ${repo}:${tagOrDigest}: registry says ${header}, content is ${digest}`);
  }
  const parsed = parseManifestOrIndex(bytes, res.headers.get('content-type') ?? undefined);
  const desc: Descriptor = { mediaType: parsed.mediaType, digest, size: bytes.length };
  return { bytes, desc, parsed };
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length && failed === undefined) {
      const t = items[next++];
      try {
        await fn(t);
      } catch (e) {
        failed ??= e;
      }
    }
  });
  await Promise.all(workers);
  if (failed !== undefined) throw failed;
}

function normalizeForRecord(parsed: ReturnType<typeof parseManifestOrIndex>, digest: string): Platform | undefined {
  return parsed.kind === 'index' ? parsed.index.manifests.find((d) => d.digest === digest)?.platform : undefined;
}

/** Pulls `reference` into `store` and names it there. */
export async function pull(store: ImageStore, reference: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseReference(reference);
  const repo = ref.path;
  const progress = opts.onProgress ?? (() => {});
  const want = typeof opts.platform === 'string' ? parsePlatform(opts.platform) : (opts.platform ?? hostPlatform());
  progress({ id: formatReference(ref), status: 'Resolving' });

  // Mirrors first; the first that answers the manifest serves the blobs too.
  let lastErr: unknown;
  let client: RegistryClient | undefined;
  let top: Awaited<ReturnType<typeof fetchManifest>> | undefined;
  for (const c of RegistryClient.forPull(ref.domain, opts)) {
    try {
      top = await fetchManifest(c, repo, ref.digest ?? ref.tag!);
      client = c;
      break;
    } catch (e) {
      lastErr = e;
      if (e instanceof BerthError && e.kind === 'invalid' && /digest mismatch/.test(e.message)) throw e;
    }
  }
  if (!client || !top) throw lastErr;

  let manifestBytes = top.bytes;
  let manifestDesc = top.desc;
  let indexDesc: Descriptor | undefined;
  let manifest: Manifest;
  const others: { desc: Descriptor; bytes: Buffer; manifest: Manifest }[] = [];
  if (top.parsed.kind === 'index') {
    indexDesc = top.desc;
    const images = top.parsed.index.manifests.filter((d) => d.platform && d.platform.os !== 'unknown' && isManifestMediaType(d.mediaType));
    let chosen: Descriptor;
    try {
      chosen = selectManifest(top.parsed.index.manifests, want);
    } catch (e) {
      if (!opts.allPlatforms || images.length === 0) throw e;
      chosen = images[0];
    }
    const m = await fetchManifest(client, repo, chosen.digest);
    if (m.parsed.kind !== 'manifest') throw invalid(`index entry ${chosen.digest} of ${reference} is not an image manifest`);
    manifestBytes = m.bytes;
    manifestDesc = { mediaType: m.desc.mediaType, digest: m.desc.digest, size: m.desc.size };
    manifest = m.parsed.manifest;
    if (opts.allPlatforms) {
      for (const d of images) {
        if (d.digest === chosen.digest) continue;
        const o = await fetchManifest(client, repo, d.digest);
        if (o.parsed.kind !== 'manifest') throw invalid(`index entry ${d.digest} of ${reference} is not an image manifest`);
        others.push({
          desc: { mediaType: o.desc.mediaType, digest: o.desc.digest, size: o.desc.size, platform: d.platform },
          bytes: o.bytes,
          manifest: o.parsed.manifest,
        });
      }
    }
  } else {
    manifest = top.parsed.manifest;
  }
  for (const o of others) for (const l of o.manifest.layers) layerCompression(l.mediaType);
  for (const l of manifest.layers) layerCompression(l.mediaType); // unknown layer types fail before any download
  if (manifest.config.mediaType !== MediaType.ImageConfig && manifest.config.mediaType !== MediaType.DockerConfig) {
    throw invalid(`${reference}: config media type "${manifest.config.mediaType}" is not an image config (an artifact, not an image?)`);
  }

  if (manifest.config.size > MAX_CONFIG)
    throw invalid(`${reference}: image config of ${manifest.config.size} bytes is over the ${MAX_CONFIG} berth accepts`);
  const blobs: Descriptor[] = [manifest.config, ...manifest.layers];
  for (const o of others) {
    for (const b of [o.manifest.config, ...o.manifest.layers]) if (!blobs.some((x) => x.digest === b.digest)) blobs.push(b);
  }
  const unpin = store.pin([
    ...blobs.map((b) => b.digest),
    manifestDesc.digest,
    ...others.map((o) => o.desc.digest),
    ...(indexDesc ? [indexDesc.digest] : []),
  ]);
  let fetched = 0;
  // One promise per blob, settled when it is in the store (for the unpacker to wait on).
  const ready = new Map<string, { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void }>();
  for (const b of blobs) {
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    awaitedLater(promise); // by the unpacker; a fetch's error fails the pull itself too
    ready.set(b.digest, { promise, resolve, reject });
  }
  const unpacking = opts.unpack
    ? (async (snap: Snapshotter) => {
        await ready.get(manifest.config.digest)!.promise;
        const cfg = await store.content.readJSON<ImageConfig>(manifest.config.digest);
        const diffIDs = cfg.rootfs?.diff_ids ?? [];
        if (diffIDs.length !== manifest.layers.length) return; // reported below
        const chain = chainIDs(diffIDs);
        for (let i = 0; i < manifest.layers.length; i++) {
          await ready.get(manifest.layers[i].digest)!.promise;
          await snap.ensureLayer(store, manifest.layers[i], diffIDs[i], chain[i]);
        }
      })(opts.unpack)
    : Promise.resolve();
  awaitedLater(unpacking);
  try {
    const c = client;
    const configs = new Set([manifest.config.digest, ...others.map((o) => o.manifest.config.digest)]);
    await pool(blobs, opts.concurrency ?? 4, async (d) => {
      try {
        await fetchOne(d);
        ready.get(d.digest)!.resolve();
      } catch (e) {
        ready.get(d.digest)!.reject(e);
        throw e;
      }
    }).catch((e) => {
      for (const r of ready.values()) r.reject(e);
      throw e;
    });
    async function fetchOne(d: Descriptor) {
      const id = d.digest.slice(7, 19);
      const report = (p: PullProgress) => progress(configs.has(d.digest) ? { ...p, config: true } : p);
      if (await store.content.has(d.digest)) {
        report({ id, status: 'Already exists', total: d.size });
        return;
      }
      let current = await store.content.partialSize(d.digest);
      report({ id, status: 'Downloading', current, total: d.size });
      // Parallel ranges beat one stream over long or throttled links; on loopback they only cost.
      const threshold = opts.rangeThreshold ?? (/^(localhost|127\.|\[::1\])/.test(ref.domain) ? 0 : 32 << 20);
      if (threshold > 0 && d.size >= threshold && current === 0 && (await supportsRanges(c, repo, d.digest))) {
        const r = await store.content.ingestRanges(
          { digest: d.digest, size: d.size },
          (start, end) => blobRange(c, repo, d.digest, start, end),
          opts.rangeParts ?? 4,
          (n) => {
            current += n;
            report({ id, status: 'Downloading', current, total: d.size });
          },
        );
        fetched += r.fetched;
        report({ id, status: 'Download complete', current: d.size, total: d.size });
        return;
      }
      // With `unpack`, a layer downloaded from its first byte is unpacked from the same bytes as
      // they arrive (a resumed one is unpacked afterwards from the store).
      const stream = current === 0 && opts.unpack ? await streamUnpack(opts.unpack, d) : undefined;
      let r;
      try {
        r = await store.content.ingest({ digest: d.digest, size: d.size }, (offset) =>
          (async function* () {
            for await (const chunk of c.blob(repo, d.digest, offset)) {
              current += chunk.length;
              report({ id, status: 'Downloading', current, total: d.size });
              if (stream && offset === 0) await stream.feed(chunk);
              yield chunk;
            }
            stream?.end();
          })(),
        );
      } catch (e) {
        stream?.fail(e);
        throw e;
      }
      stream?.verified();
      if (stream) await stream.done;
      fetched += r.fetched;
      report({ id, status: 'Download complete', current: d.size, total: d.size });
    }

    /** Tees a layer's download into the snapshotter, or undefined when it is not wanted. */
    async function streamUnpack(snap: Snapshotter, d: Descriptor) {
      const i = manifest.layers.findIndex((l) => l.digest === d.digest);
      if (i < 0) return undefined;
      await ready.get(manifest.config.digest)!.promise;
      const cfg = await store.content.readJSON<ImageConfig>(manifest.config.digest);
      const diffIDs = cfg.rootfs?.diff_ids ?? [];
      if (diffIDs.length !== manifest.layers.length) return undefined;
      const chain = chainIDs(diffIDs)[i];
      if (snap.isUnpacking(chain) || (await snap.hasLayer(chain))) return undefined;
      const pt = new PassThrough({ highWaterMark: 4 << 20 });
      let verify!: () => void;
      let reject!: (e: unknown) => void;
      const verified = new Promise<void>((res, rej) => {
        verify = res;
        reject = rej;
      });
      awaitedLater(verified); // by unpackStreaming
      const done = snap.unpackStreaming(store, manifest.layers[i], diffIDs[i], chain, pt, verified);
      let failed: unknown;
      done.catch((e) => {
        failed = e;
        pt.resume();
      });
      return {
        done,
        async feed(chunk: Uint8Array) {
          if (failed) throw failed;
          if (!pt.write(chunk)) {
            await Promise.race([once(pt, 'drain'), settled(done)]);
            if (failed) throw failed;
          }
        },
        end() {
          pt.end();
        },
        fail(e: unknown) {
          pt.destroy(e instanceof Error ? e : new Error(String(e)));
          reject(e);
        },
        verified() {
          verify();
        },
      };
    }
    await unpacking;
    const config = await store.content.readJSON<ImageConfig>(manifest.config.digest);
    if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids)) throw invalid(`${reference}: image config has no rootfs.diff_ids`);
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw invalid(`${reference}: config lists ${config.rootfs.diff_ids.length} diff_ids for ${manifest.layers.length} layers`);
    }
    await store.content.put(manifestBytes, manifestDesc);
    for (const o of others) await store.content.put(o.bytes, { digest: o.desc.digest, size: o.desc.size });
    if (indexDesc) await store.content.put(top.bytes, indexDesc);
    const repoDigest = `${repositoryName(ref)}@${(indexDesc ?? manifestDesc).digest}`;
    const platforms =
      opts.allPlatforms && indexDesc
        ? [{ ...manifestDesc, platform: normalizeForRecord(top.parsed, manifestDesc.digest) }, ...others.map((o) => o.desc)]
        : undefined;
    await store.setReference(ref, manifestDesc, { index: indexDesc, repoDigest, platforms });
    progress({ id: formatReference(ref), status: 'Pull complete' });
    const image = await store.resolve(formatReference(ref));
    return { reference: ref, manifest: manifestDesc, repoDigest, image, fetched };
  } finally {
    unpin();
  }
}
