// Docker's `filters` for listings and prunes: the JSON a client sends (`{"key": ["v", …]}`, or
// the older `{"key": {"v": true}}`), its validation, and the matching of a value (moby's `Match`)
// and of labels (`MatchKVList`). berth's one filters module: the API parses with it, the engine
// matches with it.

import { invalid } from '../errors.js';

export type Filters = Record<string, string[]>;

/** The value of a `filters` query parameter (absent or empty: no filters). */
export function parseFilters(raw: string | null | undefined): Filters {
  if (!raw) return {};
  let f: unknown;
  try {
    f = JSON.parse(raw);
  } catch {
    throw invalid(`invalid filter: ${raw}`);
  }
  if (f === null) return {};
  if (typeof f !== 'object' || Array.isArray(f)) throw invalid(`invalid filter: ${raw}`);
  const out: Filters = {};
  for (const [k, v] of Object.entries(f as Record<string, unknown>)) {
    if (Array.isArray(v)) out[k] = v.map(String);
    else if (v && typeof v === 'object') out[k] = Object.keys(v).filter((x) => (v as Record<string, unknown>)[x]);
    else throw invalid(`invalid filter: ${raw}`);
  }
  return out;
}

/** Refuses a key that is not accepted, as Docker: `Invalid filter 'key'`. */
export function validateFilters(f: Filters, accepted: readonly string[]): void {
  for (const k of Object.keys(f)) if (!accepted.includes(k)) throw invalid(`Invalid filter '${k}'`);
}

/**
 * Docker's `Match`: true when the key is absent, when a value equals `source`, or when one is a
 * regular expression found in it (an invalid one matches nothing).
 */
export function matches(f: Filters, key: string, source: string): boolean {
  const values = f[key];
  if (!values?.length) return true;
  return values.some((v) => {
    if (v === source) return true;
    try {
      return new RegExp(v).test(source);
    } catch {
      return false;
    }
  });
}

/** Docker's `MatchKVList` (label): every value, `key` or `key=value`, holds in `labels`. */
export function matchesLabels(f: Filters, key: string, labels: Record<string, string> | null | undefined): boolean {
  const values = f[key];
  if (!values?.length) return true;
  return values.every((v) => labelMatch(labels, v));
}

/** One label filter, `key` or `key=value`, holds in `labels`. */
export function labelMatch(labels: Record<string, string> | null | undefined, f: string): boolean {
  const eq = f.indexOf('=');
  return eq < 0 ? f in (labels ?? {}) : labels?.[f.slice(0, eq)] === f.slice(eq + 1);
}
