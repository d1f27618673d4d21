// IPv4 subnets: parsing, overlap, and the choice of a subnet for a new network that collides
// with none of the host's routes (/proc/net/route: the host's own subnets, docker0's, a VPN's)
// nor with the subnets berth's networks already hold. Pure but for reading /proc/net/route.

import { readFileSync } from 'node:fs';
import { invalid } from '../errors.js';

export interface Cidr {
  addr: number;
  bits: number;
}

export function parseIp(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw invalid(`invalid IPv4 address: ${s}`);
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const mask = (bits: number) => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

/** `a.b.c.d/n`, with the host bits cleared; `strict` refuses host bits set (Docker's subnet check). */
export function parseCidr(s: string): Cidr {
  const [ip, b, extra] = s.split('/');
  const bits = Number(b);
  if (extra !== undefined || b === undefined || !/^\d+$/.test(b) || bits > 32) throw invalid(`invalid CIDR address: ${s}`);
  return { addr: (parseIp(ip) & mask(bits)) >>> 0, bits };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.addr)}/${c.bits}`;
}

export function contains(c: Cidr, ip: number): boolean {
  return (ip & mask(c.bits)) >>> 0 === c.addr;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  return (a.addr & mask(bits)) >>> 0 === (b.addr & mask(bits)) >>> 0;
}

/** The first usable address (the gateway Docker picks): network + 1. */
export function firstHost(c: Cidr): string {
  return formatIp(c.addr + 1);
}

/** Destinations of the host's routes but the default one, from /proc/net/route's little-endian hex. */
export function parseRouteTable(text: string): Cidr[] {
  const out: Cidr[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const le = (h: string) => {
      const n = parseInt(h, 16);
      return (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) | (n >>> 24)) >>> 0;
    };
    const dst = le(f[1]),
      m = le(f[7]);
    let bits = 0;
    for (let x = m; x; x = (x << 1) >>> 0) bits++;
    if (bits === 0) continue; // the default route collides with nothing
    out.push({ addr: dst, bits });
  }
  return out;
}

export function hostRoutes(): Cidr[] {
  try {
    return parseRouteTable(readFileSync('/proc/net/route', 'utf8'));
  } catch {
    return [];
  }
}

/** Docker's default address pools: 172.17-31.0.0/16, then 192.168.0-240.0/20. */
export function defaultPools(): Cidr[] {
  const out: Cidr[] = [];
  for (let b = 17; b <= 31; b++) out.push({ addr: parseIp(`172.${b}.0.0`), bits: 16 });
  for (let c = 0; c <= 240; c += 16) out.push({ addr: parseIp(`192.168.${c}.0`), bits: 20 });
  return out;
}

/**
 * A pool subnet that overlaps none of `taken`. Picked at random among the free ones, not the
 * first: several berthds on one host (each with its own roots) cannot see each other's
 * networks until a bridge has its address, and a random pick keeps them apart.
 */
export function pickSubnet(taken: Cidr[], pools = defaultPools(), random = Math.random): Cidr {
  const free = pools.filter((p) => !taken.some((t) => overlaps(p, t)));
  if (!free.length)
    throw invalid('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
  return free[Math.floor(random() * free.length)];
}
