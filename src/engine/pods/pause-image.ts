// The image of a pod's infra container: native/build/berth-pause alone, as `/pause`, imported
// once per build of the binary under `localhost/berth-pause:<its digest>` (podman makes its
// `podman-pause` image the same way, locally, from catatonit). Nothing is pulled.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { BerthError } from '../../errors.js';
import { helperPath } from '../../runtime/native/helper.js';
import { tarBuffer } from '../../tar/index.js';
import { dirname, join } from 'node:path';

export const PAUSE_REPOSITORY = 'localhost/berth-pause';

/** native/build/berth-pause, beside berth-nsexec (BERTH_PAUSE overrides it). */
export function pausePath(): string {
  return process.env.BERTH_PAUSE ?? join(dirname(helperPath()), 'berth-pause');
}

export interface PauseImageDeps {
  /** Resolves when the store has the reference; rejects with a `not-found` BerthError when not. */
  resolve(ref: string): Promise<unknown>;
  /** `docker import` of a root file system tar under `reference`. */
  import(source: Readable, o: { reference: string; changes: string[] }): Promise<string>;
}

/** The pause image's reference, imported if the store does not have this build of it yet. */
export async function ensurePauseImage(deps: PauseImageDeps): Promise<string> {
  const bin = await readFile(pausePath());
  const ref = `${PAUSE_REPOSITORY}:${createHash('sha256').update(bin).digest('hex').slice(0, 12)}`;
  try {
    await deps.resolve(ref);
    return ref;
  } catch (e) {
    if (!(e instanceof BerthError && e.kind === 'not-found')) throw e;
  }
  const tar = await tarBuffer([{ header: { name: 'pause', type: 'file', mode: 0o755, size: bin.length, mtime: 0 }, body: bin }]);
  await deps.import(Readable.from([tar]), { reference: ref, changes: ['CMD ["/pause"]', 'STOPSIGNAL SIGTERM'] });
  return ref;
}
