// Files written into a created, not yet started, container through the archive endpoint (PUT
// /containers/{id}/archive), with the folders above them: Kubernetes ConfigMaps and Secrets
// (kube play), and Compose's secrets and configs given by `environment` or `content`.

import { Readable } from 'node:stream';
import type { ApiClient } from './client.js';
import { tarBuffer, type TarHeaderInput } from '../tar/index.js';

export interface ContainerFile {
  /** Absolute, in the container. */
  path: string;
  data: Buffer;
  mode: number;
  uid?: number;
  gid?: number;
}

/** Writes the files into the container, making their folders (0755, root's) where missing. */
export async function putFiles(client: ApiClient, container: string, files: ContainerFile[]): Promise<void> {
  if (!files.length) return;
  const entries: { header: TarHeaderInput; body?: Uint8Array }[] = [];
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (dirs.has(d)) continue;
      dirs.add(d);
      entries.push({ header: { name: `${d}/`, type: 'directory', mode: 0o755 } });
    }
    entries.push({
      header: { name: parts.join('/'), type: 'file', mode: f.mode, size: f.data.length, uid: f.uid ?? 0, gid: f.gid ?? 0 },
      body: f.data,
    });
  }
  const tar = await tarBuffer(entries);
  const res = await client.upload('PUT', `/containers/${encodeURIComponent(container)}/archive`, Readable.from([tar]), {
    query: { path: '/' },
  });
  res.resume();
}
