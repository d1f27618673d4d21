// What `docker system df` and `docker container prune` need of the whole engine: the bytes each
// part holds (images, containers' writable layers, volumes) and the removal of stopped
// containers. Images' own figures and prune live in images.ts.

import type { Engine } from './engine.js';
import type { ContainerRecord } from './types.js';
import type { ImageSummary } from '../image/index.js';
import { labelMatch } from '../common/filters.js';
import type { Volume } from './volumes.js';
import { dirSize } from '../common/dir-size.js';
import { initLayerBytes } from './changes.js';
import { BerthError } from '../errors.js';
import type { BuildCacheRecord } from '../build/cache.js';

export interface DiskUsage {
  /** Every layer images use, counted once at its unpacked size (dockerd's LayersSize). */
  layersSize: number;
  images: (ImageSummary & { sharedSize: number; containers: number })[];
  containers: (ContainerRecord & { sizeRw: number; sizeRootFs: number })[];
  volumes: (Volume & { size: number; refCount: number })[];
  /** The build cache's entries (Docker's BuildCache records). */
  buildCache: BuildCacheRecord[];
}

export interface ContainerSize {
  SizeRw: number;
  SizeRootFs: number;
}

/** Bytes the container wrote in its writable layer, as dockerd's `SizeRw` (its init layer's left out); 0 when it has none. */
async function ownBytes(engine: Engine, id: string): Promise<number> {
  let upper: string;
  try {
    upper = (await engine.snapshots.info(id)).upper;
  } catch (e) {
    if (e instanceof BerthError && e.kind === 'not-found') return 0; // removed meanwhile, or never made
    throw e;
  }
  return (await dirSize(upper)) - initLayerBytes(upper);
}

/**
 * Bytes of each container's writable layer and of its whole root (with its image's), as
 * `size=1` on a list or an inspect gives them (`docker ps -s`, `inspect --size`). Costly: every
 * file of the upper dirs is visited, as dockerd does.
 */
export async function containerSizes(
  engine: Engine,
  containers: ContainerRecord[],
  images?: ImageSummary[],
): Promise<Map<string, ContainerSize>> {
  const imageSize = new Map((images ?? (await engine.images.usage()).images).map((i) => [i.id, i.size]));
  return new Map(
    await Promise.all(
      containers.map(async (c): Promise<[string, ContainerSize]> => {
        const rw = await ownBytes(engine, c.Id);
        return [c.Id, { SizeRw: rw, SizeRootFs: rw + (imageSize.get(c.Image) ?? 0) }];
      }),
    ),
  );
}

export async function diskUsage(engine: Engine): Promise<DiskUsage> {
  const containers = engine.containers.list();
  const { layersSize, images } = await engine.images.usage();
  const sizes = await containerSizes(engine, containers, images);
  const refs = new Map<string, number>();
  for (const c of containers) for (const m of c.MountPoints ?? []) if (m.Name) refs.set(m.Name, (refs.get(m.Name) ?? 0) + 1);
  return {
    layersSize,
    images: images.map((i) => ({ ...i, containers: containers.filter((c) => c.Image === i.id).length })),
    containers: containers.map((c) => ({ ...c, sizeRw: sizes.get(c.Id)!.SizeRw, sizeRootFs: sizes.get(c.Id)!.SizeRootFs })),
    volumes: await Promise.all(
      engine.containers.volumes.list().map(async (v) => ({ ...v, size: await dirSize(v.Mountpoint), refCount: refs.get(v.Name) ?? 0 })),
    ),
    buildCache: await engine.builder.records(),
  };
}

/** `docker container prune`: stopped containers created before `until` (seconds) matching the label filters. */
export async function pruneContainers(
  engine: Engine,
  f: { until?: number; label?: string[]; notLabel?: string[] } = {},
): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
  const deleted: string[] = [];
  let space = 0;
  for (const c of engine.containers.list()) {
    if (['running', 'paused', 'restarting', 'removing'].includes(c.State.Status)) continue;
    // A pod's infra container goes with its pod only.
    if (c.IsInfra) continue;
    if (f.until !== undefined && Date.parse(c.Created) / 1000 >= f.until) continue;
    const labels = c.Config.Labels ?? {};
    if (f.label?.some((l) => !labelMatch(labels, l)) || f.notLabel?.some((l) => labelMatch(labels, l))) continue;
    const size = await ownBytes(engine, c.Id);
    await engine.containers.remove(c.Id);
    deleted.push(c.Id);
    space += size;
  }
  engine.events.emit('container', 'prune', '', { reclaimed: String(space) });
  return { ContainersDeleted: deleted, SpaceReclaimed: space };
}
