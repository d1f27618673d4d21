// A bridge network's address leases, kept by berthd in CNI host-local's own format, which made
// them before: a file per leased address in the network's folder (named as the address, holding
// `<container id>\r\n<ifname>`, created exclusively). The address chosen is dockerd's: the lowest
// free one of the range (a freed address is handed out again at once, as dockerd 20.10 does),
// where host-local went round robin from its `last_reserved_ip.<range>` files (left alone when an
// older folder has them). Ranges are host-local's: the ip-range's addresses (or the subnet's) less
// the subnet's own address, IPv4's broadcast and the gateway. Leases made by the plugin before are
// honoured and released alike. One berthd owns an exec-root, so the folder
// is read once and the choice is made in memory, with no file operation awaited: the caller
// records the chosen addresses first (so a killed berthd's successor releases them), then writes
// the files (`commit`) beside its other work.

import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../common/errno.js';
import { systemError } from '../errors.js';
import { formatIp, parseCidr, parseIp } from './subnet.js';
import { formatIp6, lastIp6, parseCidr6, parseIp6 } from './ip6.js';

/** One subnet of the network, its gateway, and the --ip-range leases come from. */
export interface LeaseRange {
  subnet: string;
  gateway: string;
  ipRange?: string;
  /** The network has no gateway address (dockerd's IPAM allocated none): `gateway`'s address is leased like any other. */
  noGateway?: boolean;
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
  const gateway = r.noGateway ? -1n : parse(v6, r.gateway);
  return { v6, first, last: rangeLast < sub.last ? rangeLast : sub.last, bits: sub.bits, gateway };
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

/** host-local's (and an older berthd's) round-robin cursor files: no leases. */
const LAST = 'last_reserved_ip.';

/** A network's folder as read once: the leased addresses (as named there) with their holders ('' when read from the folder). */
interface Held {
  leased: Map<string, string>;
}

async function readHeld(dir: string): Promise<Held> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return { leased: new Map() };
    throw e;
  }
  return { leased: new Map(names.filter((n) => !n.startsWith(LAST) && n !== 'lock').map((n) => [n, ''])) };
}

/** One address of range number `index`: `asked`, or the lowest free one; marked leased in `h`. */
function pickOne(h: Held, holder: string, index: number, r: LeaseRange, asked?: string): Lease {
  const s = leaseSpan(r);
  const hold = (n: bigint): Lease => {
    const ip = format(s.v6, n);
    h.leased.set(ip, holder);
    return { address: `${ip}/${s.bits}`, gateway: r.gateway };
  };
  if (asked) {
    const n = parse(s.v6, asked);
    if (n < s.first || n > s.last) throw systemError(`failed to allocate for range ${index}: ${asked} not in range set ${spanText(s)}`);
    if (n === s.gateway) throw systemError(`failed to allocate for range ${index}: requested ip ${asked} is subnet's gateway`);
    if (h.leased.has(format(s.v6, n)))
      throw systemError(
        `failed to allocate for range ${index}: requested IP address ${asked} is not available in range set ${spanText(s)}`,
      );
    return hold(n);
  }
  for (let n = s.first; n <= s.last; n++) if (n !== s.gateway && !h.leased.has(format(s.v6, n))) return hold(n);
  throw systemError(`failed to allocate for range ${index}: no IP addresses available in range set: ${spanText(s)}`);
}

/** The leases of one berthd's bridge networks, a folder per network. */
export class Leases {
  private readonly held = new Map<string, Promise<Held>>();

  private load(dir: string): Promise<Held> {
    let h = this.held.get(dir);
    if (!h) {
      const reading = readHeld(dir);
      this.held.set(dir, reading);
      reading.catch(() => {
        if (this.held.get(dir) === reading) this.held.delete(dir); // read again next time
      });
      h = reading;
    }
    return h;
  }

  /**
   * Chooses an address of each range (`ranges[i]`, host-local's range `i`), `asked[i]` where
   * given, and holds them in memory; `commit` writes their files, `release` gives them back.
   */
  async pick(dir: string, id: string, ifName: string, ranges: LeaseRange[], asked: (string | undefined)[] = []): Promise<Lease[]> {
    const h = await this.load(dir);
    const out: Lease[] = [];
    try {
      for (const [i, r] of ranges.entries()) out.push(pickOne(h, owner(id, ifName), i, r, asked[i]));
    } catch (e) {
      for (const l of out) h.leased.delete(l.address.split('/')[0]);
      throw e;
    }
    return out;
  }

  /** Writes the picked leases' files, as host-local keeps them. */
  async commit(dir: string, id: string, ifName: string, leases: Lease[]): Promise<void> {
    await Promise.all(
      leases.map(async (l) => {
        const ip = l.address.split('/')[0];
        if (!(await take(dir, ip, owner(id, ifName)))) throw systemError(`lease ${join(dir, ip)}: another's file is there already`);
      }),
    );
  }

  /**
   * Releases the container's interface's leases: those of `ips` (checked to be its own, when
   * their files are there), or, when not known (an endpoint recorded before its addresses were),
   * every one of the folder that it holds, as host-local's DEL looks for them.
   */
  async release(dir: string, id: string, ifName: string, ips?: string[]): Promise<void> {
    const h = this.held.get(dir);
    let names = ips;
    if (!names) {
      try {
        names = (await readdir(dir)).filter((f) => !f.startsWith(LAST) && f !== 'lock');
      } catch (e) {
        if (isErrno(e, 'ENOENT')) return;
        throw e;
      }
    }
    for (const ip of names) {
      let held: string | undefined;
      try {
        held = (await readFile(join(dir, ip), 'utf8')).trim();
      } catch (e) {
        if (!isErrno(e, 'ENOENT')) throw e;
      }
      // host-local's own leases, and its older ones holding the ID alone; no file: picked, not yet written.
      const mine = owner(id, ifName);
      const memory = await h?.then(
        (x) => x,
        () => undefined, // the read failed for its own caller: nothing held in memory then
      );
      if (held === undefined ? memory?.leased.get(ip) === mine : held === mine || held === id) {
        if (held !== undefined) await rm(join(dir, ip), { force: true });
        memory?.leased.delete(ip);
      }
    }
  }

  /** The network is gone (its folder removed): read afresh should one of its name come back. */
  forget(dir: string): void {
    this.held.delete(dir);
  }
}
