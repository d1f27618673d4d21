// Push: an image of the store → a registry. Blobs the registry lacks are uploaded (HEAD check
// first; cross-repository mount from a repository of the same registry the image came from;
// else a monolithic upload, or chunked PATCHes when `chunkSize` is set), then the manifest.
// An image pulled with all its platforms is pushed whole, as its index; otherwise only its own
// platform manifest is pushed.

import { open } from 'node:fs/promises';
import { invalid } from '../../errors.js';
import { digestOf, type Descriptor, type Index } from '../../oci/image.js';
import { parseReference, repositoryName } from '../../common/reference.js';
import type { ImageStore } from '../store.js';
import { discard, RegistryClient, type RegistryOptions } from './client.js';

export interface PushOptions extends RegistryOptions {
  /** Upload in PATCH chunks of this many bytes (blobs larger than it); default monolithic. */
  chunkSize?: number;
  /** Repositories on the target registry to try mounting blobs from (added to those the image came from). */
  mountFrom?: string[];
  concurrency?: number;
  onProgress?: (p: {
    id: string;
    status: 'Preparing' | 'Layer already exists' | 'Mounted' | 'Pushing' | 'Pushed';
    current?: number;
    total?: number;
    /** `Mounted`: the repository it came from. */ from?: string;
  }) => void;
}

export interface PushResult {
  digest: string;
  size: number;
  /** What happened to each blob. */
  blobs: { digest: string; how: 'exists' | 'mounted' | 'uploaded' }[];
}

/** Pushes image `source` (a name or ID in the store) as `target` (default: `source`). */
export async function push(store: ImageStore, source: string, target?: string, opts: PushOptions = {}): Promise<PushResult> {
  const img = await store.resolve(source);
  const ref = parseReference(target ?? source);
  const repo = ref.path;
  const client = new RegistryClient(ref.domain, opts);
  const progress = opts.onProgress ?? (() => {});
  const mountCandidates = new Set<string>(opts.mountFrom ?? []);
  for (const rd of img.record.repoDigests) {
    const r = parseReference(rd);
    if (r.domain === ref.domain && r.path !== repo) mountCandidates.add(r.path);
  }
  const done: PushResult['blobs'] = [];
  const pushBlobs = async (blobs: Descriptor[]) => {
    const queue = blobs.filter((b) => !done.some((x) => x.digest === b.digest));
    await Promise.all(
      Array.from({ length: Math.min(opts.concurrency ?? 3, queue.length) }, async () => {
        for (let d = queue.shift(); d; d = queue.shift()) done.push({ digest: d.digest, how: await pushBlob(d) });
      }),
    );
  };
  const putManifest = async (tagOrDigest: string, bytes: Buffer, mediaType: string, digest: string) => {
    const res = await client.request('PUT', repo, `/manifests/${tagOrDigest}`, {
      scope: 'pull,push',
      body: bytes,
      ok: [201],
      what: `manifest ${repositoryName(ref)}:${tagOrDigest}`,
      headers: { 'content-type': mediaType },
    });
    await discard(res.body);
    const got = res.headers.get('docker-content-digest');
    if (got && got !== digest) throw invalid(`registry ${ref.domain} stored the manifest as ${got}, expected ${digest}`);
  };

  async function pushBlob(d: Descriptor): Promise<'exists' | 'mounted' | 'uploaded'> {
    const id = d.digest.slice(7, 19);
    progress({ id, status: 'Preparing' });
    const head = await client.request('HEAD', repo, `/blobs/${d.digest}`, { scope: 'pull,push', ok: [200, 404], what: `blob ${d.digest}` });
    if (head.status === 200) {
      progress({ id, status: 'Layer already exists' });
      return 'exists';
    }
    let location: string | undefined;
    for (const from of mountCandidates) {
      const res = await client.request(
        'POST',
        repo,
        `/blobs/uploads/?mount=${encodeURIComponent(d.digest)}&from=${encodeURIComponent(from)}`,
        {
          scope: 'pull,push',
          extraPull: [from],
          ok: [201, 202],
          what: `mount of ${d.digest} from ${from}`,
        },
      );
      await discard(res.body);
      if (res.status === 201) {
        progress({ id, status: 'Mounted', from });
        return 'mounted';
      }
      location = res.headers.get('location') ?? undefined;
      break;
    }
    if (!location) {
      const res = await client.request('POST', repo, '/blobs/uploads/', { scope: 'pull,push', ok: [202], what: `upload of ${d.digest}` });
      await discard(res.body);
      location = res.headers.get('location') ?? undefined;
    }
    if (!location) throw invalid(`registry ${ref.domain} started an upload without a Location`);
    let url = new URL(location, client.base);
    const path = store.content.path(d.digest);
    if (opts.chunkSize && d.size > opts.chunkSize) {
      const fh = await open(path, 'r');
      try {
        for (let off = 0; off < d.size; off += opts.chunkSize) {
          const n = Math.min(opts.chunkSize, d.size - off);
          const buf = Buffer.alloc(n);
          await fh.read(buf, 0, n, off);
          const res = await client.request('PATCH', repo, '', {
            url: url.toString(),
            scope: 'pull,push',
            body: buf,
            ok: [202],
            what: `chunk ${off}-${off + n - 1} of ${d.digest}`,
            headers: { 'content-type': 'application/octet-stream', 'content-range': `${off}-${off + n - 1}`, 'content-length': String(n) },
          });
          await discard(res.body);
          url = new URL(res.headers.get('location') ?? url.toString(), client.base);
          progress({ id, status: 'Pushing', current: off + n, total: d.size });
        }
      } finally {
        await fh.close();
      }
      url.searchParams.set('digest', d.digest);
      const res = await client.request('PUT', repo, '', {
        url: url.toString(),
        scope: 'pull,push',
        ok: [201],
        what: `upload of ${d.digest}`,
        headers: { 'content-length': '0' },
      });
      await discard(res.body);
    } else {
      url.searchParams.set('digest', d.digest);
      // Streamed from the store, never whole in memory; the token was fetched by the POST.
      const res = await client.request('PUT', repo, '', {
        url: url.toString(),
        scope: 'pull,push',
        body: await store.content.readStream(d.digest),
        ok: [201],
        what: `upload of ${d.digest}`,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(d.size) },
      });
      await discard(res.body);
    }
    progress({ id, status: 'Pushed', current: d.size, total: d.size });
    return 'uploaded';
  }

  const tagOrDigest = ref.digest ?? ref.tag!;
  const { record } = img;
  if (record.index && record.platforms?.length) {
    // Every platform pulled: push each image by digest, then the index under the name.
    for (const p of record.platforms) {
      const m = await store.readManifest(p.digest);
      await pushBlobs([...m.layers, m.config]);
      await putManifest(p.digest, await store.content.read(p.digest), p.mediaType, p.digest);
    }
    const stored = await store.readIndex(record.index.digest);
    const have = new Set(record.platforms.map((p) => p.digest));
    let bytes = await store.content.read(record.index.digest);
    let digest = record.index.digest;
    if (!stored.manifests.every((d) => have.has(d.digest))) {
      // Entries not pulled (attestations, other artifacts): push an index of what berth has.
      const index: Index = { schemaVersion: 2, mediaType: record.index.mediaType, manifests: record.platforms };
      bytes = Buffer.from(JSON.stringify(index));
      digest = digestOf(bytes);
    }
    await putManifest(tagOrDigest, bytes, record.index.mediaType, digest);
    await store.addRepoDigest(record.target.digest, `${repositoryName(ref)}@${digest}`);
    return { digest, size: bytes.length, blobs: done };
  }
  await pushBlobs([...img.manifest.layers, img.manifest.config]);
  await putManifest(tagOrDigest, await store.content.read(record.target.digest), record.target.mediaType, record.target.digest);
  await store.addRepoDigest(record.target.digest, `${repositoryName(ref)}@${record.target.digest}`);
  return { digest: record.target.digest, size: record.target.size, blobs: done };
}
