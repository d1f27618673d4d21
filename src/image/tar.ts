// A whole tar archive in memory from a list of entries (small layers, configs, tests), over
// berth's own tar writer (src/tar). Streaming writers (commit, save, export) use TarWriter.

import { tarBuffer, type TarHeaderInput } from '../tar/index.js';

export interface TarEntry {
  header: TarHeaderInput;
  body?: Uint8Array | string;
}

/** Packs entries into one tar archive in memory. */
export function packTar(entries: TarEntry[]): Promise<Buffer> {
  return tarBuffer(entries);
}
