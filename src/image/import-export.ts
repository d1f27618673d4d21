// import: a root file system tar (plain, gzip or zstd) → a one-layer image; export: a root file
// system directory (e.g. a mounted snapshot) → a plain tar stream. Neither mounts anything.

import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { TarWriter } from '../tar/index.js';
import { MediaType, type Descriptor, type ImageConfig, type Platform } from '../oci/image.js';
import { packDirectory } from './pack-dir.js';
import type { IdShift } from '../common/id-map.js';
import { hostPlatform, parsePlatform } from './platform.js';
import type { ImageStore } from './store.js';
import { decompress } from './decompress.js';
import { checkLayer } from './layer-check.js';
import { awaitedLater } from '../common/promises.js';

export interface ImportOptions {
  platform?: string | Platform;
  /** The image config's `config` (Cmd, Env, …). */
  config?: ImageConfig['config'];
  /** History line (`created_by`), default "berth import". */
  comment?: string;
  /** The history entry's `comment` (`docker import --message`). */
  message?: string;
}

/** Imports a root file system tar as a one-layer image (named `reference` when given). */
export async function importRootfs(
  store: ImageStore,
  source: AsyncIterable<Uint8Array> | Readable,
  reference?: string,
  opts: ImportOptions = {},
): Promise<Descriptor> {
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(c: Buffer, _e, cb) {
      hash.update(c);
      cb(null, c);
    },
  });
  const gzip = createGzip();
  const flowing = pipeline(decompress(source, 'auto'), tap, gzip);
  awaitedLater(flowing);
  const blob = await store.content.write(gzip);
  await flowing;
  const unpin = store.pin([blob.digest]);
  try {
    // The layer rules run before the image is made: an escaping root file system is refused now, not at run.
    await checkLayer(await store.content.readStream(blob.digest), 'gzip');
  } catch (e) {
    unpin();
    await store.deleteUnused([blob.digest]);
    throw e;
  }
  try {
    const p = typeof opts.platform === 'string' ? parsePlatform(opts.platform) : (opts.platform ?? hostPlatform());
    const now = new Date().toISOString();
    const config: ImageConfig = {
      created: now,
      architecture: p.architecture,
      os: p.os,
      ...(p.variant ? { variant: p.variant } : {}),
      config: opts.config ?? {},
      rootfs: { type: 'layers', diff_ids: [`sha256:${hash.digest('hex')}`] },
      history: [{ created: now, created_by: opts.comment ?? 'berth import', ...(opts.message ? { comment: opts.message } : {}) }],
    };
    return await store.createImage(reference, config, [{ mediaType: MediaType.LayerGzip, digest: blob.digest, size: blob.size }]);
  } finally {
    unpin();
  }
}

/** A tar stream of everything under `dir` (`export` of a container's mounted root); `ids`: owners as the container sees them. */
export function exportRootfs(dir: string, ids?: IdShift): Readable {
  const pack = new TarWriter();
  packDirectory(pack, dir, { ids })
    .then(() => pack.end())
    .catch((e: Error) => pack.destroy(e));
  return pack.stream;
}
