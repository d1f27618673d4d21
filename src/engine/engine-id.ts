// The engine's ID, kept in the data root as dockerd keeps its engine-id: GET /info's ID, and the
// host ID the default IPv6 pool is derived from (network/ip6.ts' ulaPool), both stable across
// berthd's restarts. Read at start (made once, atomically, on the first).

import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../common/atomic.js';
import { isErrno } from '../common/errno.js';

export function engineId(dataRoot: string): string {
  const file = join(dataRoot, 'engine-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (id) return id;
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
  }
  const id = randomUUID();
  mkdirSync(dataRoot, { recursive: true });
  writeFileAtomicSync(file, `${id}\n`, { durable: true });
  return id;
}
