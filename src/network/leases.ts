// A bridge network's address leases, kept by berthd in CNI host-local's own format and with its
// rules, which made them before: a file per leased address in the network's folder (named as the
// address, holding `<container id>\r\n<ifname>`, created exclusively, so a lease is taken once),
// and `last_reserved_ip.<range>` per range, where the next search starts (round robin, so a freed
// address is not handed out again at once). Ranges are host-local's: the ip-range's addresses (or
// the subnet's) less the subnet's own address, IPv4's broadcast and the gateway. Leases made by
// the plugin before are honoured and released alike.

import { readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../common/errno.js';
import { systemError, withCleanup } from '../errors.js';
import { formatIp, parseCidr, parseIp } from './subnet.js';
import { formatIp6, lastIp6, parseCidr6, parseIp6 } from './ip6.js';

/** One subnet of the network, its gateway, and the --ip-range leases come from. */
export interface LeaseRange {
  subnet: string;
  gateway: string;
  ipRange?: string;
}

/** A leased address: `ip/prefix` (the subnet's) and the subnet's gateway. */
export interface Lease {
  address: string;
  gateway: string;
}

interface Span {
  v6: boolean;
  first: bigint;
  last: bigint;
  bits: number;
  gateway: bigint;
}

const parse = (v6: boolean, ip: string) => (v6 ? parseIp6(ip) : BigInt(parseIp(ip)));
const format = (v6: boolean, n: bigint) => (v6 ? formatIp6(n) : formatIp(Number(n)));

/** host-local's range: [subnet + 1, last] within the ip-range, the last being IPv4's broadcast − 1. */
export function leaseSpan(r: LeaseRange): Span {
  const v6 = r.subnet.includes(':');
  const cidr = (s: string) => {
    if (v6) {
      const c = parseCidr6(s);
      return { addr: c.addr, bits: c.bits, last: lastIp6(c) };
    }
    const c = parseCidr(s);
    return { addr: BigInt(c.addr), bits: c.bits, last: BigInt(c.addr) + (1n << BigInt(32 - c.bits)) - 2n };
  };
  const sub = cidr(r.subnet);
  const range = r.ipRange ? cidr(r.ipRange) : sub;
  const first = range.addr > sub.addr ? range.addr : sub.addr + 1n;
  const rangeLast = r.ipRange && !v6 ? range.last + 1n : range.last; // an ip-range's broadcast is a host of the subnet
  return { v6, first, last: rangeLast < sub.last ? rangeLast : sub.last, bits: sub.bits, gateway: parse(v6, r.gateway) };
}

/** host-local's words for a range set: `first-last`. */
const spanText = (s: Span) => `${format(s.v6, s.first)}-${format(s.v6, s.last)}`;

const owner = (id: string, ifName: string) => `${id}\r\n${ifName}`;

/** Creates the lease file; false when the address is leased already. */
async function take(dir: string, ip: string, content: string): Promise<boolean> {
  const file = join(dir, ip);
  try {
    await writeFile(file, content, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (e) {
    if (isErrno(e, 'EEXIST')) return false;
    if (!isErrno(e, 'ENOENT')) throw e;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return take(dir, ip, content);
}

async function lastReserved(dir: string, range: number): Promise<string | undefined> {
  try {
    return (await readFile(join(dir, `last_reserved_ip.${range}`), 'utf8')).trim();
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/** One address of range number `index` for the container's interface: `asked`, or the next free one after the last reserved. */
async function reserveOne(dir: string, index: number, r: LeaseRange, content: string, asked?: string): Promise<Lease> {
  const s = leaseSpan(r);
  const lease = (n: bigint): Lease => ({ address: `${format(s.v6, n)}/${s.bits}`, gateway: r.gateway });
  if (asked) {
    const n = parse(s.v6, asked);
    if (n < s.first || n > s.last) throw systemError(`failed to allocate for range ${index}: ${asked} not in range set ${spanText(s)}`);
    if (n === s.gateway) throw systemError(`failed to allocate for range ${index}: requested ip ${asked} is subnet's gateway`);
    if (!(await take(dir, format(s.v6, n), content)))
      throw systemError(
        `failed to allocate for range ${index}: requested IP address ${asked} is not available in range set ${spanText(s)}`,
      );
    await writeFile(join(dir, `last_reserved_ip.${index}`), format(s.v6, n));
    return lease(n);
  }
  const prev = await lastReserved(dir, index);
  let p: bigint | undefined;
  try {
    p = prev ? parse(s.v6, prev) : undefined;
  } catch {
    p = undefined; // a file of the other family or garbage: host-local starts from the range's start then
  }
  const start = p !== undefined && p >= s.first && p < s.last ? p + 1n : s.first;
  let n = start;
  do {
    if (n !== s.gateway && (await take(dir, format(s.v6, n), content))) {
      await writeFile(join(dir, `last_reserved_ip.${index}`), format(s.v6, n));
      return lease(n);
    }
    n = n === s.last ? s.first : n + 1n;
  } while (n !== start);
  throw systemError(`failed to allocate for range ${index}: no IP addresses available in range set: ${spanText(s)}`);
}

/**
 * Leases an address of each range (`ranges[i]`, host-local's range `i`) to the container's
 * interface, `asked[i]` where given; on a failure the ones taken are released.
 */
export async function reserveAddresses(
  dir: string,
  id: string,
  ifName: string,
  ranges: LeaseRange[],
  asked: (string | undefined)[] = [],
): Promise<Lease[]> {
  const out: Lease[] = [];
  for (const [i, r] of ranges.entries()) {
    try {
      out.push(await reserveOne(dir, i, r, owner(id, ifName), asked[i]));
    } catch (e) {
      const undo = await releaseAddresses(
        dir,
        id,
        ifName,
        out.map((l) => l.address.split('/')[0]),
      ).then(
        () => [],
        (d: Error) => [d],
      );
      throw withCleanup(e, undo);
    }
  }
  return out;
}

/**
 * Releases the container's interface's leases: those of `ips` (checked to be its own), or, when
 * not known (berthd was killed between leasing and recording them), every one of the folder that
 * it holds, as host-local's DEL looks for them.
 */
export async function releaseAddresses(dir: string, id: string, ifName: string, ips?: string[]): Promise<void> {
  let names = ips;
  if (!names) {
    try {
      names = (await readdir(dir)).filter((f) => !f.startsWith('last_reserved_ip') && f !== 'lock');
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return;
      throw e;
    }
  }
  for (const ip of names) {
    const file = join(dir, ip);
    let held: string;
    try {
      held = (await readFile(file, 'utf8')).trim();
    } catch (e) {
      if (isErrno(e, 'ENOENT')) continue;
      throw e;
    }
    // host-local's own leases, and its older ones holding the ID alone.
    if (held === owner(id, ifName) || held === id) await rm(file, { force: true });
  }
}
