// Published ports of berth's bridge endpoints as kernel NAT, written by berthd where CNI's
// portmap plugin wrote them (a Go program per ADD and per DEL running iptables once per rule:
// ~129 and ~105 ms, against ~17 for one iptables-restore of the same rules). The effect is
// portmap's: local destinations (PREROUTING and OUTPUT, `--dst-type LOCAL`) jump to BERTH-PORTS,
// which holds one jump per container to its own chain BERTH-P-<ID>: per mapping a mark for
// masquerade of hairpin traffic (from the container's subnet) and of the host's 127.0.0.1
// (routed out to the bridge with route_localnet), then the DNAT. A container's rules are added,
// and taken away, by one `iptables-restore --noflush` each (atomic: all or none), and the plan
// is recorded before they are added, so a teardown after a berthd crash removes exactly them.
// Where the network lets published ports be reached at the container's own address (gateway
// mode routed, trusted host interfaces), the container has a chain of the same name in the
// filter table too, jumped to from filter's BERTH-PORTS, with dockerd 28's per-port ACCEPTs
// (in ip6tables' filter table for its IPv6 address, by the network's IPv6 gateway mode).
// The shared chains are the network rules' (iptables.ts), set once per network. A binding on an
// IPv6 host address (`::` too) goes to the container's IPv6 address by the same nat rules in
// ip6tables (one ip6tables-restore), as dockerd 28 with its userland proxy off: the kernel has no
// route_localnet for IPv6, so what reaches `[::1]` is the kernel's to drop, as under dockerd.
// Pure planning here, except the functions that run the programs off the event loop and the
// deletion of stale UDP conntrack entries, IPv4's and IPv6's (native binding, NETLINK_NETFILTER).

import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { conntrackDeleteUdp } from '../native/binding.js';
import { runChild } from '../native/child.js';
import { errorMessage, systemError } from '../errors.js';
import { isV6, type PortMapping, type RoutedFamilies } from './ports.js';
import { hasIp6tables, PORTS_CHAIN, PORTS_MARK, save, splitRule, type Binary } from './iptables.js';

/** What a container's ports are in the kernel: recorded whole before it is added. */
export interface PortNat {
  /** The container's chain, in the nat table and (with `filter`) the filter table. */
  chain: string;
  /** On the jumps to `chain`: which berthd (by exec-root) and which container. */
  comment: string;
  /** The nat chain's rules (iptables arguments after `-A <chain>`); none for a routed network's ports. */
  rules: string[][];
  /** The filter chain's rules, accepting direct access to the published ports (absent: none). */
  filter?: string[][];
  /** The bridge the filter chain's jump names (`-o`), so that the network's removal finds it too. */
  bridge?: string;
  /** The nat chain's rules in ip6tables, for bindings on IPv6 host addresses (absent: none, as in records of a berthd before them). */
  rules6?: string[][];
  /** The filter chain's rules in ip6tables, accepting direct access to the IPv6 address's published ports (absent: none). */
  filter6?: string[][];
}

/** How a network lets its containers' published ports be reached at their own addresses. */
export interface DirectAccess {
  bridge: string;
  /** The families in gateway mode routed: from anywhere but the bridge, and no host port (no DNAT). */
  routed: RoutedFamilies;
  /** com.docker.network.bridge.trusted_host_interfaces: from these interfaces (a family in nat mode). */
  trusted: string[];
}

/** The chain of a container's ports (28 characters at most, as iptables allows). */
export const chainOf = (containerId: string) => `BERTH-P-${containerId.slice(0, 16)}`;

/** A berthd's mark on its rules, its exec-root hashed: whose they are where several berthds run on one host. */
export const ownerTag = (execRoot: string) => createHash('sha256').update(execRoot).digest('hex').slice(0, 12);

/**
 * Per mapping with a host port of the family, portmap's three nat rules to the container at
 * `addr` (`ip/prefix`; its subnet is the hairpin source). The IPv6 DNAT skips link-local
 * sources, as dockerd's (their replies could not be routed back).
 */
function natRules(ports: PortMapping[], addr: string, v6: boolean): string[][] {
  const ip = addr.split('/')[0];
  const mark = ['-j', 'MARK', '--set-xmark', PORTS_MARK];
  return ports
    .filter((m) => m.hostPort && isV6(m.hostIP) === v6)
    .flatMap((m) => {
      const base = ['-p', m.protocol, '-m', m.protocol, '--dport', String(m.hostPort)];
      if (m.hostIP !== (v6 ? '::' : '0.0.0.0')) base.unshift('-d', m.hostIP);
      return [
        // iptables keeps the network of `ip/prefix`: hairpin from any container of the subnet.
        ['-s', addr, ...base, ...mark],
        ['-s', v6 ? '::1' : '127.0.0.1', ...base, ...mark],
        v6
          ? ['!', '-s', 'fe80::/10', ...base, '-j', 'DNAT', '--to-destination', `[${ip}]:${m.containerPort}`]
          : [...base, '-j', 'DNAT', '--to-destination', `${ip}:${m.containerPort}`],
      ];
    });
}

/**
 * dockerd 28's per-port ACCEPTs of the direct access `direct` allows to the container at `addr`
 * (`ip/prefix`), for the mappings of its family: from anywhere but the bridge where the family is
 * routed, else from the trusted interfaces. Each once.
 */
function directRules(ports: PortMapping[], addr: string, v6: boolean, direct: DirectAccess): string[][] {
  const dst = `${addr.split('/')[0]}/${v6 ? 128 : 32}`;
  const from = (v6 ? direct.routed.v6 : direct.routed.v4) ? [['!', '-i', direct.bridge]] : direct.trusted.map((i) => ['-i', i]);
  const seen = new Set<string>();
  return ports
    .filter((m) => isV6(m.hostIP) === v6)
    .flatMap((m) =>
      from.flatMap((f) => {
        const rule = [
          '-d',
          dst,
          ...f,
          '-o',
          direct.bridge,
          '-p',
          m.protocol,
          '-m',
          m.protocol,
          '--dport',
          String(m.containerPort),
          '-j',
          'ACCEPT',
        ];
        const key = rule.join(' ');
        return seen.has(key) ? [] : (seen.add(key), [rule]);
      }),
    );
}

/**
 * The rules of `ports` for a container at `addr`, and at `addr6` for the mappings on IPv6 host
 * addresses: per mapping with a host port, portmap's three; and, as dockerd 28's per-port
 * ACCEPTs, the direct access `direct` allows to the container's ports, in each family (a
 * routed family's mappings have no host port: dockerd ignores it there).
 */
export function planPortNat(
  containerId: string,
  owner: string,
  ports: PortMapping[],
  addr: string,
  direct?: DirectAccess,
  addr6?: string,
): PortNat {
  const v6 = ports.filter((m) => m.hostPort && isV6(m.hostIP));
  if (v6.length && !addr6) throw systemError(`publish ports: a mapping on ${v6[0].hostIP} and no IPv6 address for the container`);
  const rules6 = addr6 ? natRules(ports, addr6, true) : [];
  const p: PortNat = {
    chain: chainOf(containerId),
    comment: `berth ports ${owner} ${containerId}`,
    rules: natRules(ports, addr, false),
    ...(rules6.length ? { rules6 } : {}),
  };
  const filter = direct ? directRules(ports, addr, false, direct) : [];
  const filter6 = direct && addr6 ? directRules(ports, addr6, true, direct) : [];
  return {
    ...p,
    ...(filter.length ? { filter } : {}),
    ...(filter6.length ? { filter6 } : {}),
    ...(filter.length || filter6.length ? { bridge: direct!.bridge } : {}),
  };
}

/** One argument as iptables-restore reads it: quoted when it has spaces or quotes. */
function word(a: string): string {
  return /^[^\s"'\\]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`;
}
const line = (args: string[]) => args.map(word).join(' ');

type Table = 'nat' | 'filter';
type Family = 4 | 6;
const BIN: Record<Family, Binary> = { 4: 'iptables', 6: 'ip6tables' };

/**
 * The tables holding a container's chain in the family's program: nat where it has host ports on
 * the family's addresses, filter where it has direct access to its address of the family.
 */
const rulesIn = (p: PortNat, t: Table, f: Family): string[][] =>
  (f === 6 ? (t === 'nat' ? p.rules6 : p.filter6) : t === 'nat' ? p.rules : p.filter) ?? [];
const tablesOf = (p: PortNat, f: Family = 4): Table[] => (['nat', 'filter'] as const).filter((t) => rulesIn(p, t, f).length);

/** The jump from BERTH-PORTS to the container's chain (in the filter table, naming the bridge). */
const jump = (p: PortNat, t: Table) => [
  PORTS_CHAIN,
  ...(t === 'filter' ? ['-o', p.bridge!] : []),
  '-m',
  'comment',
  '--comment',
  p.comment,
  '-j',
  p.chain,
];

/** iptables-restore (ip6tables-restore) input adding the family's rules: per table, the chain (made, or emptied if it was left), its rules, the jump. */
export function addInput(p: PortNat, f: Family = 4): string {
  return [
    ...tablesOf(p, f).flatMap((t) => [
      `*${t}`,
      `:${p.chain} - [0:0]`,
      ...rulesIn(p, t, f).map((r) => `-A ${line([p.chain, ...r])}`),
      `-A ${line(jump(p, t))}`,
      'COMMIT',
    ]),
    '',
  ].join('\n');
}

/** iptables-restore (ip6tables-restore) input removing the family's: fails (nothing removed from that table on) if a jump is not there. */
export function removeInput(p: PortNat, f: Family = 4): string {
  return [...tablesOf(p, f).flatMap((t) => [`*${t}`, `:${p.chain} - [0:0]`, `-D ${line(jump(p, t))}`, `-X ${p.chain}`, 'COMMIT']), ''].join(
    '\n',
  );
}

/**
 * What iptables-save shows of a container's chain in `table`: the jumps to it (whatever their
 * comment) and whether the chain exists, as iptables-restore input that removes them; '' when
 * nothing is left.
 */
export function leftoverInput(save: string[], chain: string, table: Table = 'nat'): string {
  const jumps = save.filter((l) => {
    const a = splitRule(l);
    return a[0] === '-A' && a[a.length - 2] === '-j' && a[a.length - 1] === chain;
  });
  const exists = save.includes(`:${chain} - [0:0]`) || save.some((l) => l.startsWith(`:${chain} `));
  if (!jumps.length && !exists) return '';
  return [
    `*${table}`,
    ...(exists ? [`:${chain} - [0:0]`] : []),
    ...jumps.map((l) => `-D ${line(splitRule(l).slice(1))}`),
    ...(exists ? [`-X ${chain}`] : []),
    'COMMIT',
    '',
  ].join('\n');
}

async function restore(f: Family, input: string): Promise<{ ok: boolean; stderr: string }> {
  const bin = BIN[f];
  let r;
  try {
    r = await runChild(`${bin}-restore`, ['--noflush', '-w'], { input });
  } catch (e) {
    throw systemError(`${bin}-restore: ${errorMessage(e)} (is ${bin} installed?)`, e);
  }
  return { ok: r.code === 0, stderr: r.stderr.trim() };
}

/** Adds a container's rules: one iptables-restore, and one ip6tables-restore for bindings on IPv6 addresses. */
export async function addPortNat(p: PortNat): Promise<void> {
  for (const f of [4, 6] as Family[]) {
    if (f === 6 && !tablesOf(p, f).length) continue;
    const r = await restore(f, addInput(p, f));
    if (!r.ok) throw systemError(`publish ports (${BIN[f]}-restore of ${p.chain}): ${r.stderr}`);
  }
}

/**
 * Deletes the host's conntrack entries of UDP flows to the mappings' host ports, as portmap did
 * once its rules were in: a flow seen before the port was published (answered by the host, or by
 * no one) keeps its entry, which NAT never looks at again, so its datagrams would bypass the DNAT
 * for as long as they keep coming. TCP needs none: a new connection is a new entry. Each family's
 * flows to the ports published on its addresses (IPv6's on an IPv6 host address). How many went.
 */
export async function forgetUdpFlows(ports: PortMapping[]): Promise<number> {
  let n = 0;
  for (const f of [4, 6] as Family[]) {
    const udp = [
      ...new Set(ports.filter((m) => m.protocol === 'udp' && m.hostPort && isV6(m.hostIP) === (f === 6)).map((m) => m.hostPort)),
    ];
    if (udp.length) n += await conntrackDeleteUdp(f, udp);
  }
  return n;
}

/** Lets the bridge route the host's 127.0.0.1 out to its containers (the kernel drops it as martian otherwise), as portmap sets it. */
export async function routeLocalnet(bridge: string): Promise<void> {
  try {
    await writeFile(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, '1');
  } catch (e) {
    throw systemError(`set route_localnet on ${bridge}: ${errorMessage(e)}`, e);
  }
}

/**
 * Removes them: per family, one restore of exactly what `addPortNat` added. Should that fail (the
 * add never ran: a berthd killed before it, or an attach that failed; or the rules were changed
 * by hand), what iptables-save (ip6tables-save) shows of the container's chain in each of its
 * tables goes instead.
 */
export async function removePortNat(p: PortNat): Promise<void> {
  for (const f of [4, 6] as Family[]) {
    if (f === 6 && !tablesOf(p, f).length) continue;
    if ((await restore(f, removeInput(p, f))).ok) continue;
    for (const t of tablesOf(p, f)) await removeLeftover(p.chain, t, f);
  }
}

/** What iptables-save (ip6tables-save) shows now of a container's chain in `table`, removed: its jumps and the chain. */
async function removeLeftover(chain: string, table: Table, f: Family): Promise<void> {
  const left = leftoverInput(await save(table, BIN[f]), chain, table);
  if (!left) return;
  const r = await restore(f, left);
  if (!r.ok) throw systemError(`remove published ports (${BIN[f]}-restore of ${chain} in ${table}): ${r.stderr}`);
}

/** The containers whose jumps from BERTH-PORTS in `save` (iptables-save of one table) carry `owner`'s mark, by ID, with their chains. */
export function ownedPortNat(save: string[], owner: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of save) {
    const a = splitRule(l);
    if (a[0] !== '-A' || a[1] !== PORTS_CHAIN || a[a.length - 2] !== '-j') continue;
    const c = a.indexOf('--comment');
    const m = c > 0 ? /^berth ports (\S+) ([0-9a-f]{64})$/.exec(a[c + 1] ?? '') : null;
    if (m && m[1] === owner) out.set(m[2], a[a.length - 1]);
  }
  return out;
}

/**
 * Removes the port rules (nat and filter, in iptables and ip6tables) `owner` made for containers
 * `recorded` holds no endpoint record of: a record is written before the rules are added and
 * removed after them, so rules with none were left by something else (an exec-root lost or
 * cleared under a berthd, rules copied by hand). Each chain is read again before its removal, so
 * a teardown that ran meanwhile is not undone twice. Returns the containers' IDs.
 */
export async function sweepPortNat(owner: string, recorded: (id: string) => boolean): Promise<string[]> {
  const swept = new Set<string>();
  const places: [Table, Family][] = [
    ['nat', 4],
    ['filter', 4],
    ...(hasIp6tables()
      ? ([
          ['nat', 6],
          ['filter', 6],
        ] as [Table, Family][])
      : []),
  ];
  for (const [t, f] of places) {
    for (const [id, chain] of ownedPortNat(await save(t, BIN[f]), owner)) {
      if (recorded(id)) continue;
      await removeLeftover(chain, t, f);
      swept.add(id);
    }
  }
  return [...swept];
}
