// The docker CLI's units for flags: sizes (`64m`), Go durations (`200ms`, `1m30s`) and the
// times `--since`/`--until` take (Unix seconds, RFC 3339, or a duration before now), turned
// into what the API expects. Pure.

import { parseSize } from '../common/size.js';
import { BerthError } from '../errors.js';

/** `64m`, `1.5g`, `1024` → bytes (common/size.ts). */
export const bytes = parseSize;

const NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration (`300ms`, `1m30s`, `2h`) → nanoseconds. */
export function durationNs(s: string): number {
  if (s === '0') return 0;
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== s) throw new BerthError('invalid', `time: invalid duration "${s}"`);
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * NS[p[2]], 0));
}

/** `--since`/`--until` as the API's `seconds.nanoseconds`: Unix seconds as given, a duration before `now`, or a date. */
export function apiTimestamp(s: string, now = Date.now()): string {
  if (/^\d+(\.\d{1,9})?$/.test(s)) return s;
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s)) return ((now - durationNs(s) / 1e6) / 1000).toFixed(9);
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new BerthError('invalid', `failed to parse time "${s}": give Unix seconds, an RFC 3339 date or a duration (10m)`);
  return (t / 1000).toFixed(9);
}
