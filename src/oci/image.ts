// Types of the OCI image specification (descriptor, manifest, index, image config) v1.1, and
// the Docker schema 2 media types berth also reads. Field names are the specs' own. Logic here
// is limited to digests (parse, compute, verify) and shape checks of parsed JSON; nothing here
// touches the disk or the network.

import { createHash } from 'node:crypto';
import { invalid, unsupported } from '../errors.js';

export const MediaType = {
  Descriptor: 'application/vnd.oci.descriptor.v1+json',
  ImageLayout: 'application/vnd.oci.layout.header.v1+json',
  ImageIndex: 'application/vnd.oci.image.index.v1+json',
  ImageManifest: 'application/vnd.oci.image.manifest.v1+json',
  ImageConfig: 'application/vnd.oci.image.config.v1+json',
  Layer: 'application/vnd.oci.image.layer.v1.tar',
  LayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  LayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  LayerNonDistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  LayerNonDistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  LayerNonDistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  Empty: 'application/vnd.oci.empty.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

/** A digest string, `algorithm:encoded` (e.g. `sha256:` and 64 lowercase hex digits). */
export type Digest = string;

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}

/** A descriptor: mediaType, digest and size are required; the rest optional. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

/** OCI image manifest, and Docker schema 2 manifest (same shape, other media types). */
export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** OCI image index, and Docker manifest list (same shape). */
export interface Index {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageLayout {
  imageLayoutVersion: string;
}

export interface HistoryEntry {
  created?: string;
  author?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfigConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  /** Docker's extension: the SHELL of the build that made the image, the shell form's for builds FROM it. */
  Shell?: string[] | null;
  /** Docker's extension: ONBUILD triggers, run by the first build FROM this image. */
  OnBuild?: string[] | null;
  /** Docker's extension (HEALTHCHECK; durations in ns), not in the OCI spec. */
  Healthcheck?: {
    Test?: string[] | null;
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    StartInterval?: number;
    Retries?: number;
  };
}

/** The image configuration (`application/vnd.oci.image.config.v1+json`). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: ImageConfigConfig;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: HistoryEntry[];
}

const DIGEST_RE = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
const ENCODED: Record<string, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

export interface ParsedDigest {
  algorithm: 'sha256' | 'sha512';
  encoded: string;
}

/** Parses and checks a digest; only sha256 and sha512 are accepted (as the spec registers). */
export function parseDigest(digest: string): ParsedDigest {
  const m = DIGEST_RE.exec(digest);
  if (!m) throw invalid(`invalid digest "${digest}": want algorithm:hex, e.g. sha256:<64 hex digits>`);
  const [, algorithm, encoded] = m;
  const re = ENCODED[algorithm];
  if (!re) throw unsupported(`unsupported digest algorithm "${algorithm}" in "${digest}": berth knows sha256 and sha512`);
  if (!re.test(encoded))
    throw invalid(`invalid digest "${digest}": ${algorithm} wants ${algorithm === 'sha256' ? 64 : 128} lowercase hex digits`);
  return { algorithm: algorithm as 'sha256' | 'sha512', encoded };
}

export function isDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

/** The sha256 digest of some bytes. */
export function digestOf(data: Uint8Array | string, algorithm: 'sha256' | 'sha512' = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Throws `invalid` unless `data` has the given digest (and size, when given). */
export function verifyDigest(data: Uint8Array, expected: Descriptor | Digest): void {
  const digest = typeof expected === 'string' ? expected : expected.digest;
  const { algorithm } = parseDigest(digest);
  if (typeof expected !== 'string' && expected.size !== data.length) {
    throw invalid(`size mismatch for ${digest}: descriptor says ${expected.size} bytes, got ${data.length}`);
  }
  const got = digestOf(data, algorithm);
  if (got !== digest) throw invalid(`digest mismatch: expected ${digest}, got ${got}`);
}

/** chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)). */
export function chainIDs(diffIDs: Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIDs) {
    out.push(
      out.length === 0
        ? d
        : `sha256:${createHash('sha256')
            .update(`${out[out.length - 1]} ${d}`)
            .digest('hex')}`,
    );
  }
  return out;
}

export const isIndexMediaType = (mt: string | undefined) => mt === MediaType.ImageIndex || mt === MediaType.DockerManifestList;
export const isManifestMediaType = (mt: string | undefined) => mt === MediaType.ImageManifest || mt === MediaType.DockerManifest;

export type LayerCompression = 'none' | 'gzip' | 'zstd';

/** The compression of a layer from its media type; `unsupported` for media types that are not layers. */
export function layerCompression(mediaType: string): LayerCompression {
  switch (mediaType) {
    case MediaType.Layer:
    case MediaType.LayerNonDistributable:
    case MediaType.DockerLayer:
      return 'none';
    case MediaType.LayerGzip:
    case MediaType.LayerNonDistributableGzip:
    case MediaType.DockerLayerGzip:
    case MediaType.DockerLayerForeignGzip:
      return 'gzip';
    case MediaType.LayerZstd:
    case MediaType.LayerNonDistributableZstd:
      return 'zstd';
    default:
      throw unsupported(`unknown layer media type "${mediaType}"`);
  }
}

function checkDescriptor(d: unknown, where: string): asserts d is Descriptor {
  const o = d as Descriptor;
  if (!o || typeof o !== 'object') throw invalid(`malformed ${where}: not an object`);
  if (typeof o.mediaType !== 'string') throw invalid(`malformed ${where}: mediaType missing`);
  if (typeof o.digest !== 'string') throw invalid(`malformed ${where}: digest missing`);
  parseDigest(o.digest);
  if (!Number.isSafeInteger(o.size) || o.size < 0) throw invalid(`malformed ${where}: size must be a non-negative integer`);
}

/**
 * Parses a manifest or index from its bytes, checking its shape; the media type comes from the
 * document or, failing that, from the HTTP Content-Type the caller passes.
 */
export function parseManifestOrIndex(
  bytes: Uint8Array,
  contentType?: string,
): { kind: 'index'; mediaType: string; index: Index } | { kind: 'manifest'; mediaType: string; manifest: Manifest } {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw invalid(`malformed manifest: not JSON (${(e as Error).message})`);
  }
  if (!doc || typeof doc !== 'object') throw invalid('malformed manifest: not a JSON object');
  if (doc.schemaVersion !== 2)
    throw unsupported(`unsupported manifest schemaVersion ${JSON.stringify(doc.schemaVersion)}: berth reads schema 2 only`);
  const ct = contentType?.split(';')[0].trim();
  let mt = typeof doc.mediaType === 'string' ? doc.mediaType : ct;
  if (!mt || mt === 'application/json' || mt === 'application/octet-stream') {
    mt = Array.isArray(doc.manifests) ? MediaType.ImageIndex : doc.config ? MediaType.ImageManifest : undefined;
  }
  if (isIndexMediaType(mt)) {
    if (!Array.isArray(doc.manifests)) throw invalid('malformed index: manifests missing');
    doc.manifests.forEach((d, i) => checkDescriptor(d, `index: manifests[${i}]`));
    return { kind: 'index', mediaType: mt!, index: doc as unknown as Index };
  }
  if (isManifestMediaType(mt)) {
    checkDescriptor(doc.config, 'manifest: config');
    if (!Array.isArray(doc.layers)) throw invalid('malformed manifest: layers missing');
    doc.layers.forEach((d, i) => checkDescriptor(d, `manifest: layers[${i}]`));
    return { kind: 'manifest', mediaType: mt!, manifest: doc as unknown as Manifest };
  }
  throw unsupported(`unknown manifest media type "${mt}"`);
}
