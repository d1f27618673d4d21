// What berthd applies of a CRI request, field by field: a request that sets a field berth does
// not apply is refused with INVALID_ARGUMENT naming it (`config.linux.security_context.apparmor`),
// never accepted and dropped. Proto3 cannot tell an unset field from its zero value, so zero
// values ('', 0, '0', false, empty lists and maps, enums' 0) count as unset.

import { invalid } from '../errors.js';

/** The fields applied: `true` for a leaf (or a map/list applied whole), a nested spec for a message or a list of them. */
export interface Applied {
  [field: string]: true | Applied;
}

/** Whether `v` is a zero value, all the way down. */
export function isUnset(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === '0' || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (Buffer.isBuffer(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v).every(isUnset);
  return false;
}

/** The path of the first field set in `msg` that `applied` does not list, or undefined. */
export function unappliedField(msg: unknown, applied: Applied, path = ''): string | undefined {
  if (!msg || typeof msg !== 'object') return undefined;
  for (const [k, v] of Object.entries(msg)) {
    if (isUnset(v)) continue;
    const at = path ? `${path}.${k}` : k;
    const spec = applied[k];
    if (spec === undefined) return at;
    if (spec === true) continue;
    for (const [i, item] of (Array.isArray(v) ? v : [v]).entries()) {
      const inner = unappliedField(item, spec, Array.isArray(v) ? `${at}[${i}]` : at);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** Throws `invalid` naming the first field of `msg` that berthd would not apply. */
export function refuseUnapplied(rpc: string, msg: unknown, applied: Applied): void {
  const field = unappliedField(msg, applied);
  if (field) throw invalid(`${rpc}: berthd does not apply ${field}`);
}
