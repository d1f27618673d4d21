// The build cache: step key → the image state that step made (its config and layers), kept in
// one JSON file under the data root (`<data-root>/build/cache.json`, written atomically), so it
// outlives berthd. A key (keys.ts) covers everything a step's result depends on, so a hit is
// never stale. The layers an entry names are pinned in the image store for as long as the entry
// lives, so removing images never takes a cached layer's blob; `prune` drops entries and the
// blobs only they held.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { errno } from '../common/errno.js';
import { settled } from '../common/promises.js';
import type { ImageStore } from '../image/index.js';
import type { Digest } from '../oci/image.js';
import type { BuildState } from './state.js';

export interface CacheEntry {
  state: BuildState;
  /** The step, for `builder du`/`system df -v`: `RUN make`. */
  description: string;
  /** The step's own layer, when it made one. */
  layer?: { digest: Digest; size: number };
  created: string;
  lastUsed: string;
  uses: number;
}

interface CacheFile {
  version: 1;
  entries: Record<string, CacheEntry>;
}

/** One record of the cache as `system df` and /build/prune count it (Docker's BuildCache fields). */
export interface BuildCacheRecord {
  ID: string;
  Type: 'regular' | 'exec.cachemount';
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string;
  UsageCount: number;
}

export class BuildCache {
  private readonly path: string;
  private entries = new Map<string, CacheEntry>();
  private readonly unpins = new Map<string, () => void>();
  private loaded: Promise<void> | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    dir: string,
    private readonly store: ImageStore,
  ) {
    this.path = join(dir, 'cache.json');
  }

  /** Reads the file once and pins every cached layer. */
  load(): Promise<void> {
    this.loaded ??= (async () => {
      let file: CacheFile = { version: 1, entries: {} };
      try {
        file = JSON.parse(await readFile(this.path, 'utf8')) as CacheFile;
      } catch (e) {
        if (errno(e) !== 'ENOENT') throw e;
      }
      for (const [k, v] of Object.entries(file.entries)) this.add(k, v);
    })();
    return this.loaded;
  }

  private add(key: string, e: CacheEntry): void {
    this.entries.set(key, e);
    this.unpins.get(key)?.();
    this.unpins.set(key, this.store.pin(e.state.layers.map((l) => l.digest)));
  }

  /** The state a step with this key made, when every blob of it is still stored. */
  async get(key: string): Promise<BuildState | undefined> {
    await this.load();
    const e = this.entries.get(key);
    if (!e) return undefined;
    for (const l of e.state.layers) if (!(await this.store.content.has(l.digest))) return undefined;
    e.lastUsed = new Date().toISOString();
    e.uses++;
    return e.state;
  }

  async put(key: string, entry: Omit<CacheEntry, 'created' | 'lastUsed' | 'uses'>): Promise<void> {
    await this.load();
    const now = new Date().toISOString();
    this.add(key, { ...entry, created: now, lastUsed: now, uses: 1 });
  }

  /** Writes the entries (after a build); writes run one at a time, the last one wins. */
  save(): Promise<void> {
    const run = this.writing.then(() =>
      writeFileAtomic(this.path, JSON.stringify({ version: 1, entries: Object.fromEntries(this.entries) } satisfies CacheFile)),
    );
    this.writing = settled(run);
    return run;
  }

  /** Every entry, for `system df` (Size: the bytes of the layer the step made; Shared: an image uses it). */
  async records(): Promise<BuildCacheRecord[]> {
    await this.load();
    const used = new Set<string>();
    for (const img of await this.store.list()) {
      const { manifest } = await this.store.resolve(img.manifestDigest.slice(7));
      for (const l of manifest.layers) used.add(l.digest);
    }
    return [...this.entries].map(([key, e]) => ({
      ID: key.slice(7, 32),
      Type: 'regular',
      Description: e.description,
      InUse: false,
      Shared: !!e.layer && used.has(e.layer.digest),
      Size: e.layer?.size ?? 0,
      CreatedAt: e.created,
      LastUsedAt: e.lastUsed,
      UsageCount: e.uses,
    }));
  }

  /**
   * Drops entries (`all`, or those `keep` refuses) and deletes the blobs only they held; returns
   * the dropped records and the bytes freed.
   */
  async prune(keep: (r: BuildCacheRecord) => boolean = () => false): Promise<{ deleted: string[]; reclaimed: number }> {
    const records = await this.records();
    const drop = new Map<string, BuildCacheRecord>();
    for (const [key, r] of [...this.entries.keys()].map((k, i) => [k, records[i]] as const)) if (!keep(r)) drop.set(key, r);
    const digests = new Set<Digest>();
    const sizes = new Map<Digest, number>();
    for (const key of drop.keys()) {
      const e = this.entries.get(key)!;
      for (const l of e.state.layers) {
        digests.add(l.digest);
        sizes.set(l.digest, l.size);
      }
      this.entries.delete(key);
      this.unpins.get(key)?.();
      this.unpins.delete(key);
    }
    await this.save();
    const freed = await this.store.deleteUnused([...digests]);
    return { deleted: [...drop.values()].map((r) => r.ID), reclaimed: freed.reduce((a, d) => a + (sizes.get(d) ?? 0), 0) };
  }
}
