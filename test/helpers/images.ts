// Test images the tests build themselves: a busybox root file system from Debian's
// busybox-static, small crafted layers, images written straight into an ImageStore, and OCI
// image layouts on disk for skopeo/umoci. No network.

import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { packTar, type TarEntry } from '../../src/image/tar.js';
import { MediaType, digestOf, type Descriptor, type ImageConfig, type Index, type Manifest, type Platform } from '../../src/oci/image.js';
import type { ImageStore } from '../../src/image/store.js';

const mtime = new Date('2024-01-01T00:00:00Z');

/** A busybox root file system as one tar (uncompressed): /bin/busybox and some applet links. */
export async function busyboxTar(): Promise<Buffer> {
  const bin = await readFile('/bin/busybox');
  const entries: TarEntry[] = [
    { header: { name: 'bin/', type: 'directory', mode: 0o755, mtime } },
    { header: { name: 'bin/busybox', mode: 0o755, mtime }, body: bin },
    ...['sh', 'ls', 'cat', 'echo', 'true'].map((a): TarEntry => ({
      header: { name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mtime },
    })),
    { header: { name: 'etc/', type: 'directory', mode: 0o755, mtime } },
    { header: { name: 'etc/passwd', mode: 0o644, mtime }, body: 'root:x:0:0:root:/root:/bin/sh\n' },
    { header: { name: 'tmp/', type: 'directory', mode: 0o1777, mtime } },
  ];
  return packTar(entries);
}

export interface BuiltLayer {
  desc: Descriptor;
  diffID: string;
  blob: Buffer;
}

export function gzLayer(tar: Buffer): BuiltLayer {
  const blob = gzipSync(tar);
  return { desc: { mediaType: MediaType.LayerGzip, digest: digestOf(blob), size: blob.length }, diffID: digestOf(tar), blob };
}

export function configFor(
  layers: BuiltLayer[],
  platform: Platform = { os: 'linux', architecture: 'amd64' },
  extra: Partial<ImageConfig> = {},
): ImageConfig {
  return {
    created: '2024-01-01T00:00:00Z',
    ...platform,
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) },
    history: layers.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `berth test layer ${i}` })),
    ...extra,
  };
}

/** Writes layers into the store's content and names an image made of them. */
export async function storeImage(store: ImageStore, ref: string, tars: Buffer[], platform?: Platform): Promise<Descriptor> {
  const layers = tars.map(gzLayer);
  for (const l of layers) await store.content.put(l.blob, l.desc);
  return store.createImage(
    ref,
    configFor(layers, platform),
    layers.map((l) => l.desc),
  );
}

/** A small layer of text files (and optional extra entries). */
export function filesTar(files: Record<string, string>, extra: TarEntry[] = []): Promise<Buffer> {
  return packTar([...Object.entries(files).map(([name, body]): TarEntry => ({ header: { name, mode: 0o644, mtime }, body })), ...extra]);
}

/**
 * Writes an OCI image layout at `dir` holding one image per platform; with more than one,
 * `index.json` points at an inner index (a multi-platform image) tagged `tag`.
 */
export async function writeOciLayout(
  dir: string,
  images: { platform: Platform; tars: Buffer[] }[],
  tag = 'latest',
): Promise<{ top: Descriptor; manifests: Descriptor[] }> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (b: Buffer) => {
    await writeFile(join(blobs, digestOf(b).slice(7)), b);
    return { digest: digestOf(b), size: b.length };
  };
  const manifests: Descriptor[] = [];
  for (const img of images) {
    const layers = img.tars.map(gzLayer);
    for (const l of layers) await put(l.blob);
    const cfg = await put(Buffer.from(JSON.stringify(configFor(layers, img.platform))));
    const m: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: { mediaType: MediaType.ImageConfig, ...cfg },
      layers: layers.map((l) => l.desc),
    };
    const mb = await put(Buffer.from(JSON.stringify(m)));
    manifests.push({ mediaType: MediaType.ImageManifest, ...mb, platform: img.platform });
  }
  let top: Descriptor;
  if (manifests.length === 1) {
    top = { ...manifests[0] };
    delete top.platform;
  } else {
    const inner: Index = { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests };
    top = { mediaType: MediaType.ImageIndex, ...(await put(Buffer.from(JSON.stringify(inner)))) };
  }
  const outer: Index = { schemaVersion: 2, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': tag } }] };
  await writeFile(join(dir, 'index.json'), JSON.stringify(outer));
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return { top, manifests };
}
