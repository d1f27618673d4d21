// The times Docker's API reads in filters (`until`, `since`): Go's time.ParseDuration and
// moby's GetTimestamp (api/types/time), with their error words, which dockerd returns as they
// are. A leaf of pure logic: the API server and the CLI both read times with it.

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const quote = (s: string) => JSON.stringify(s);

/** Go's time.ParseDuration, in nanoseconds ("1h30m", "-1.5s", "0"); throws Go's error text. */
export function parseGoDuration(orig: string): number {
  let s = orig;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  const bad = () => new Error(`time: invalid duration ${quote(orig)}`);
  if (s === '') throw bad();
  let total = 0;
  while (s !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    if (!num[1] && !num[2]) throw bad(); // no digits: ".s", "h", "-"
    s = s.slice(num[0].length);
    const unit = /^[^.\d]*/.exec(s)![0];
    if (!unit) throw new Error(`time: missing unit in duration ${quote(orig)}`);
    const ns = UNIT_NS[unit];
    if (ns === undefined) throw new Error(`time: unknown unit ${quote(unit)} in duration ${quote(orig)}`);
    s = s.slice(unit.length);
    total += Number(`${num[1] || '0'}.${num[2] || '0'}`) * ns;
  }
  return neg ? -total : total;
}

// The date forms GetTimestamp's layouts take: a date, an hour, minutes, seconds with a fraction,
// and an optional zone (none: the daemon's local time).
const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/;

/**
 * moby's GetTimestamp as unix seconds: a Go duration before `now`, an RFC 3339 date or time
 * (local when it names no zone), or unix seconds ("1700000000.5"). Throws dockerd's words.
 */
export function goTimestamp(value: string, now = Date.now()): number {
  if (value !== '0') {
    try {
      return (now - parseGoDuration(value) / 1e6) / 1000;
    } catch {
      // not a duration: a time
    }
  }
  const m = DATE.exec(value);
  if (m) {
    const [y, mo, d, h, mi, sec] = m.slice(1, 7).map((x) => Number(x ?? 0));
    const frac = Number(m[7] ?? 0);
    if (mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && sec < 60) {
      const zone = m[8];
      if (!zone) return new Date(y, mo - 1, d, h, mi, sec).getTime() / 1000 + frac;
      const off = /^[zZ]$/.test(zone) ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)));
      return Date.UTC(y, mo - 1, d, h, mi, sec) / 1000 - off * 60 + frac;
    }
  }
  // Go's own parse error is dockerd's answer here; its layouts' exact words are not kept.
  if (value.includes('-')) throw new Error(`parsing time ${quote(value)}: not a date or time in RFC 3339 form`);
  if (!/^-?\d+(\.\d+)?$/.test(value)) throw new Error(`failed to parse value as time or duration: ${quote(value)}`);
  return Number(value);
}
