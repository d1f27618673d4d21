// The image library's public surface, for the engine, the API server and the CLI. Nothing here
// knows of containers: a snapshot is named by a key the caller chooses.

export {
  parseReference,
  formatReference,
  familiarName,
  familiarString,
  repositoryName,
  withTag,
  DEFAULT_DOMAIN,
  type Reference,
} from '../common/reference.js';
export { ContentStore, type BlobInfo, type BlobSource, type Expected, type IngestResult } from './content.js';
export { ImageStore, type Image, type ImageRecord, type ImageSummary } from './store.js';
export { pull, fetchManifest, type PullOptions, type PullProgress, type PullResult } from './registry/pull.js';
export { push, type PushOptions, type PushResult } from './registry/push.js';
export { RegistryClient, type RegistryOptions } from './registry/client.js';
export { searchRegistry, type SearchResult } from './registry/search.js';
export { hostPlatform, parsePlatform, formatPlatform, selectManifest, normalizePlatform, checkImagePlatform } from './platform.js';
export { unpackLayer, decompress, detectCompression, type UnpackOptions, type UnpackResult } from './unpack.js';
export { indexArchiveThreaded, unpackLayerThreaded } from './unpack-thread.js';
export type { ArchiveIndex, IndexedEntry } from './archive-index.js';
export { LayerCheck, checkLayer, type LayerCheckOptions, type Plan } from './layer-check.js';
export { mknodSync } from './xattr.js';
export { chainIDs } from '../oci/image.js';
export { Snapshotter, toOciLayer, type Change, type CommitOptions, type SnapshotIdMap, type SnapshotInfo } from './snapshot.js';
export { saveImages, saveOciLayout, loadImages, type LoadResult } from './archive.js';
export { importRootfs, exportRootfs, type ImportOptions } from './import-export.js';
export { mountOverlay, unmount } from './mount.js';
