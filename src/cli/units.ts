// The docker CLI's units for flags: sizes (`64m`), Go durations (`200ms`, `1m30s`) and the
// times `--since`/`--until` take (Unix seconds, RFC 3339, or a duration before now), turned
// into what the API expects. Pure.

import { parseSize } from '../common/size.js';
import { BerthError } from '../errors.js';

/** `64m`, `1.5g`, `1024` → bytes (common/size.ts). */
export const bytes = parseSize;

const NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration (`300ms`, `1m30s`, `2h`) → nanoseconds. */
export function durationNs(s: string): number {
  if (s === '0') return 0;
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== s) throw new BerthError('invalid', `time: invalid duration "${s}"`);
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * NS[p[2]], 0));
}

/**
 * `--since`/`--until` as the API's timestamp, as docker's client converts them: a Go duration is
 * that long before `now` (whole seconds), a date (RFC 3339, with or without time, zone or
 * fraction) is `seconds.nanoseconds`, Unix seconds pass as given.
 */
export function apiTimestamp(s: string, now = Date.now()): string {
  if (s !== '0' && /^([+-]?(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h))+$/.test(s)) return String(Math.floor((now - durationNs(s) / 1e6) / 1000));
  if (/^\d+(\.\d{1,9})?$/.test(s)) return s;
  if (s.includes('-')) {
    const m = /^(\d{4}-\d\d-\d\d)(?:T(\d\d:\d\d(?::\d\d)?)(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d)?$/.exec(s);
    const t = m ? Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}${m[4] ?? ''}`) : NaN;
    if (!m || Number.isNaN(t)) throw new BerthError('invalid', `parsing time "${s}": cannot parse "${s}" as a date`);
    const nanos = (m[3] ?? '.').slice(1).padEnd(9, '0');
    return `${Math.floor(t / 1000)}.${nanos}`;
  }
  throw new BerthError('invalid', `failed to parse value as time or duration: "${s}"`);
}
