// The API's filters: the `filters` query parameter (JSON of `{"key": ["v", …]}` or the older
// `{"key": {"v": true}}`), parsed by the engine's one parser, the prunes' filters, and Docker's
// `until` times. Every route that takes filters reads them here.

import { invalid } from '../../errors.js';
import { parseFilters as parseRaw, type Filters } from '../../common/filters.js';

/** The request's `filters` parameter; a malformed one is the caller's 400. */
export function parseFilters(q: URLSearchParams): Filters {
  return parseRaw(q.get('filters'));
}

/** A prune's filters, refusing keys outside `allowed` as dockerd does. */
export function pruneFilters(q: URLSearchParams, allowed: string[]) {
  const f = parseFilters(q);
  for (const k of Object.keys(f)) if (!allowed.includes(k)) throw invalid(`invalid filter '${k}'`);
  return { until: f.until?.length ? untilTime(f.until[0]) : undefined, label: f.label, notLabel: f['label!'], raw: f };
}

/** Docker's `until`: unix seconds, an RFC 3339 time, or a duration before now (`10m`, `24h`). */
export function untilTime(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const d = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(v);
  if (d) {
    const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
    return Date.now() / 1000 - Number(d[1]) * unit[d[2]];
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalid(`invalid until filter "${v}": give a unix time, an RFC 3339 time or a duration like 24h`);
  return t / 1000;
}
