// HostConfig.StorageOpt as dockerd's overlay2 takes it: `size` is the only key, and a size
// above 0 needs project quotas (xfs mounted with pquota). berth applies no per-container size
// yet, so a size is refused: in overlay2's words where the backing file system has no project
// quotas (as dockerd answers there), in berth's own on xfs, where dockerd could apply it.

import { statfsSync } from 'node:fs';
import { BerthError, systemError, unsupported } from '../errors.js';
import { parseSize } from '../common/size.js';

const XFS_MAGIC = 0x58465342;

/** Refuses `opts` unless it asks for nothing (no keys, or size 0); `dataRoot`'s file system decides the words. */
export function checkStorageOpt(opts: Record<string, string> | null | undefined, dataRoot: string): void {
  const keys = Object.keys(opts ?? {});
  if (!keys.length) return;
  // overlay2 lowercases the keys it reads; dockerd 20.10 answers these as 500s.
  const unknown = keys.find((k) => k.toLowerCase() !== 'size');
  if (unknown !== undefined) throw systemError(`Unknown option ${unknown.toLowerCase()}`);
  let size: number;
  try {
    size = parseSize(opts![keys[0]]);
  } catch (e) {
    throw systemError((e as BerthError).message, e);
  }
  if (size === 0) return;
  if (statfsSync(dataRoot).type === XFS_MAGIC)
    throw unsupported('--storage-opt size is not applied by berthd yet (its overlayfs sets no project quotas)');
  throw systemError("--storage-opt is supported only for overlay over xfs with 'pquota' mount option");
}
