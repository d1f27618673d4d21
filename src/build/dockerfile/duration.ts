// Go's time.ParseDuration, which HEALTHCHECK's --interval, --timeout, --start-period and
// --start-interval go through in Docker: `1h30m`, `1.5s`, `300ms`, `0`. Nanoseconds out.

import { fault } from './errors.js';

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Nanoseconds of a Go duration string; faults in Go's words (`time: invalid duration "x"`). */
export function parseGoDuration(text: string): number {
  const quoted = JSON.stringify(text);
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw fault(`time: invalid duration ${quoted}`);
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    if (m[0] === '' || m[0] === '.') throw fault(`time: invalid duration ${quoted}`);
    s = s.slice(m[0].length);
    const u = /^[^\d.]+/.exec(s);
    if (!u) throw fault(`time: missing unit in duration ${quoted}`);
    const unit = UNITS[u[0]];
    if (unit === undefined) throw fault(`time: unknown unit ${JSON.stringify(u[0])} in duration ${quoted}`);
    s = s.slice(u[0].length);
    total += Number(m[1] || '0') * unit + (m[2] ? Math.floor(Number('0.' + m[2]) * unit) : 0);
  }
  if (total > 2 ** 63 - 1) throw fault(`time: invalid duration ${quoted}`);
  return sign * total;
}
