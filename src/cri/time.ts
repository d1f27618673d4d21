// CRI times are int64 nanoseconds since the epoch, sent as decimal strings (proto.ts): 0 for never.

const ZERO = '0001-01-01T00:00:00Z';

export function nanos(iso: string | undefined): string {
  if (!iso || iso === ZERO) return '0';
  return String(BigInt(Date.parse(iso)) * 1_000_000n);
}

export const nowNanos = () => String(BigInt(Date.now()) * 1_000_000n);
