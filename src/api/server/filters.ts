// The API's filters: the `filters` query parameter (JSON of `{"key": ["v", …]}` or the older
// `{"key": {"v": true}}`), parsed by the engine's one parser, the prunes' filters, and Docker's
// `until` times. Every route that takes filters reads them here.

import { errorMessage, invalid } from '../../errors.js';
import { goTimestamp } from '../../common/go-time.js';
import { parseFilters as parseRaw, type Filters } from '../../common/filters.js';

/** The request's `filters` parameter; a malformed one is the caller's 400. */
export function parseFilters(q: URLSearchParams): Filters {
  return parseRaw(q.get('filters'));
}

/** A prune's filters, refusing keys outside `allowed` in dockerd 20.10's words. */
export function pruneFilters(q: URLSearchParams, allowed: string[]) {
  const f = parseFilters(q);
  for (const k of Object.keys(f)) if (!allowed.includes(k)) throw invalid(`Invalid filter '${k}'`);
  return { until: f.until?.length ? untilTime(f.until[0]) : undefined, label: f.label, notLabel: f['label!'], raw: f };
}

/** Docker's `until` as unix seconds (moby's GetTimestamp); a bad one is the caller's 400 in dockerd's words. */
export function untilTime(v: string): number {
  try {
    return goTimestamp(v);
  } catch (e) {
    throw invalid(errorMessage(e));
  }
}
