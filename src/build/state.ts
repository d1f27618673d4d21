// A build's state between steps: the image config (its `config`, `rootfs.diff_ids` and
// history) and the layer blobs under it. A step turns one state into the next; the cache maps a
// step's key to the state it made; an image is a state given a name. Pure.

import { createHash } from 'node:crypto';
import type { Descriptor, HistoryEntry, ImageConfig, ImageConfigConfig } from '../oci/image.js';

export interface BuildState {
  config: ImageConfig;
  /** The layer blobs, bottom first; one per `config.rootfs.diff_ids` entry. */
  layers: Descriptor[];
}

/** The empty state of `FROM scratch`, for this host's platform. */
export function scratchState(platform: { os: string; architecture: string; variant?: string }): BuildState {
  return {
    config: {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: {},
      rootfs: { type: 'layers', diff_ids: [] },
      history: [],
    },
    layers: [],
  };
}

/** Identifies a state exactly (its config, timestamps and all, and its layers): a step's parent in its cache key. */
export function stateDigest(s: BuildState): string {
  return `sha256:${createHash('sha256')
    .update(JSON.stringify([s.config, s.layers.map((l) => l.digest)]))
    .digest('hex')}`;
}

/** A metadata step: the config changed, a history line with `empty_layer`, no layer. */
export function withConfig(s: BuildState, change: (c: ImageConfigConfig) => ImageConfigConfig, createdBy: string): BuildState {
  const created = new Date().toISOString();
  return {
    config: {
      ...s.config,
      created,
      config: change({ ...(s.config.config ?? {}) }),
      history: [...(s.config.history ?? []), { created, created_by: createdBy, empty_layer: true }],
    },
    layers: s.layers,
  };
}

/** A step that made a layer (or, with none, an empty one: `empty_layer`, as Docker records an empty diff). */
export function withLayer(s: BuildState, layer: { layer: Descriptor; diffID: string } | undefined, createdBy: string): BuildState {
  const created = new Date().toISOString();
  const entry: HistoryEntry = layer ? { created, created_by: createdBy } : { created, created_by: createdBy, empty_layer: true };
  return {
    config: {
      ...s.config,
      created,
      rootfs: { type: 'layers', diff_ids: layer ? [...s.config.rootfs.diff_ids, layer.diffID] : s.config.rootfs.diff_ids },
      history: [...(s.config.history ?? []), entry],
    },
    layers: layer ? [...s.layers, layer.layer] : s.layers,
  };
}
