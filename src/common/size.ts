// Sizes as Docker's flags and options write them (go-units' RAMInBytes): a number, then
// optionally a unit of binary multiples (`k`, `m`, `g`, `t`, `p`, with `i` and `b` allowed
// after it, any case): `64m`, `1.5g`, `512KiB`, `1024`. berth's one size parser.

import { invalid } from '../errors.js';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** `64m` → 67108864. A malformed size is `invalid: invalid size: '<s>'`. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s?([kmgtp]?)i?b?$/i.exec(s.trim());
  if (!m) throw invalid(`invalid size: '${s}'`);
  return Math.round(Number(m[1]) * UNITS[m[2].toLowerCase()]);
}
