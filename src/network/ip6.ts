// IPv6 addresses and subnets as 128-bit integers: parsing (with `::` and a dotted IPv4 tail),
// the canonical text of RFC 5952 (what Go's net.IP prints, so inspect reads as dockerd's),
// containment and overlap. Pure; the IPv4 side is subnet.ts.

import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { invalid } from '../errors.js';

export interface Cidr6 {
  addr: bigint;
  bits: number;
}

const ALL = (1n << 128n) - 1n;

export function parseIp6(s: string): bigint {
  const t = s.trim();
  if (!isIPv6(t) || t.includes('%')) throw invalid(`invalid IPv6 address: ${s}`);
  const [head, tail] = t.includes('::') ? t.split('::') : [t, undefined];
  const groups = (part: string | undefined): number[] => {
    if (!part) return [];
    return part.split(':').flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16)];
      const o = g.split('.').map(Number);
      return [(o[0] << 8) | o[1], (o[2] << 8) | o[3]];
    });
  };
  const h = groups(head);
  const tl = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - tl.length).fill(0), ...tl];
  return all.reduce((n, g) => (n << 16n) | BigInt(g), 0n);
}

/** RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatIp6(n: bigint): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1,
    bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

const mask6 = (bits: number) => (bits === 0 ? 0n : (ALL << BigInt(128 - bits)) & ALL);

/** `addr/n`, with the host bits cleared. */
export function parseCidr6(s: string): Cidr6 {
  const [ip, b, extra] = s.split('/');
  const bits = Number(b);
  if (extra !== undefined || b === undefined || !/^\d+$/.test(b) || bits > 128 || !isIPv6(ip)) throw invalid(`invalid CIDR address: ${s}`);
  return { addr: parseIp6(ip) & mask6(bits), bits };
}

export function formatCidr6(c: Cidr6): string {
  return `${formatIp6(c.addr)}/${c.bits}`;
}

export function contains6(c: Cidr6, ip: bigint): boolean {
  return (ip & mask6(c.bits)) === c.addr;
}

export function overlaps6(a: Cidr6, b: Cidr6): boolean {
  const m = mask6(Math.min(a.bits, b.bits));
  return (a.addr & m) === (b.addr & m);
}

/** The first address after the subnet's own (the gateway dockerd picks): network + 1. */
export function firstHost6(c: Cidr6): string {
  return formatIp6(c.addr + 1n);
}

/** The last address of the subnet (IPv6 has no broadcast address to leave out). */
export function lastIp6(c: Cidr6): bigint {
  return c.addr | (ALL >> BigInt(c.bits));
}

/**
 * The host's ULA /48 (moby's DeriveULABaseNetwork, after RFC 4193 §3.2.2): fd00::/8 with a
 * 40-bit Global ID from the SHA-256 of the engine's ID, so each machine's default IPv6 pool is
 * its own and stays the same across restarts. Split into /64s for networks asking IPv6 with no
 * subnet, as dockerd 27 and later do.
 */
export function ulaPool(hostId: string): Cidr6 {
  const gid = createHash('sha256').update(hostId).digest().readBigUInt64BE(0) & ((1n << 40n) - 1n);
  return { addr: parseIp6('fd00::') + (gid << 80n), bits: 48 };
}

/** The first /64 of `pool` that overlaps none of `taken` (moby's allocator takes them in order). */
export function firstFree64(pool: Cidr6, taken: Cidr6[]): Cidr6 | undefined {
  for (let i = 0n; i < 1n << 16n; i++) {
    const c = { addr: pool.addr + (i << 64n), bits: 64 };
    if (!taken.some((t) => overlaps6(t, c))) return c;
  }
  return undefined;
}
