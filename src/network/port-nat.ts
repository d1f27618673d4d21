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
// filter table too, jumped to from filter's BERTH-PORTS, with dockerd 28's per-port ACCEPTs.
// The shared chains are the network rules' (iptables.ts), set once per network. IPv4 only: a port
// on an IPv6 host address is refused at create (berthd sets no ip6tables NAT, as dockerd 20.10 by
// default). Pure planning here, except the functions that run the programs off the event loop.

import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { runChild } from '../native/child.js';
import { errorMessage, systemError } from '../errors.js';
import type { PortMapping } from './ports.js';
import { PORTS_CHAIN, PORTS_MARK, save, splitRule } from './iptables.js';

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
}

/** How a network lets its containers' published ports be reached at their own addresses. */
export interface DirectAccess {
  bridge: string;
  /** Gateway mode routed: from anywhere but the bridge, and no host port (no DNAT). */
  routed: boolean;
  /** com.docker.network.bridge.trusted_host_interfaces: from these interfaces (nat mode). */
  trusted: string[];
}

/** The chain of a container's ports (28 characters at most, as iptables allows). */
export const chainOf = (containerId: string) => `BERTH-P-${containerId.slice(0, 16)}`;

/** A berthd's mark on its rules, its exec-root hashed: whose they are where several berthds run on one host. */
export const ownerTag = (execRoot: string) => createHash('sha256').update(execRoot).digest('hex').slice(0, 12);

/**
 * The rules of `ports` for a container at `addr` (`ip/prefix`; its subnet is the hairpin
 * source): per mapping with a host port, portmap's three; and, as dockerd 28's per-port
 * ACCEPTs, the direct access `direct` allows to the container's port (a routed network's
 * mappings have no host port: dockerd ignores it there).
 */
export function planPortNat(containerId: string, owner: string, ports: PortMapping[], addr: string, direct?: DirectAccess): PortNat {
  const ip = addr.split('/')[0];
  const mark = ['-j', 'MARK', '--set-xmark', PORTS_MARK];
  const rules = ports
    .filter((m) => m.hostPort)
    .flatMap((m) => {
      const base = ['-p', m.protocol, '-m', m.protocol, '--dport', String(m.hostPort)];
      if (m.hostIP !== '0.0.0.0') base.unshift('-d', m.hostIP);
      return [
        // iptables keeps the network of `ip/prefix`: hairpin from any container of the subnet.
        ['-s', addr, ...base, ...mark],
        ['-s', '127.0.0.1', ...base, ...mark],
        [...base, '-j', 'DNAT', '--to-destination', `${ip}:${m.containerPort}`],
      ];
    });
  const p: PortNat = { chain: chainOf(containerId), comment: `berth ports ${owner} ${containerId}`, rules };
  const from = !direct ? [] : direct.routed ? [['!', '-i', direct.bridge]] : direct.trusted.map((i) => ['-i', i]);
  const seen = new Set<string>();
  const filter = ports.flatMap((m) =>
    from.flatMap((f) => {
      const rule = [
        '-d',
        `${ip}/32`,
        ...f,
        '-o',
        direct!.bridge,
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
  return filter.length ? { ...p, filter, bridge: direct!.bridge } : p;
}

/** One argument as iptables-restore reads it: quoted when it has spaces or quotes. */
function word(a: string): string {
  return /^[^\s"'\\]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, '\\$1')}"`;
}
const line = (args: string[]) => args.map(word).join(' ');

type Table = 'nat' | 'filter';

/** The tables holding a container's chain: nat where it has host ports, filter where it has direct access. */
const tablesOf = (p: PortNat): Table[] => [...(p.rules.length ? ['nat' as const] : []), ...(p.filter?.length ? ['filter' as const] : [])];

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

/** iptables-restore input adding the rules: per table, the chain (made, or emptied if it was left), its rules, the jump. */
export function addInput(p: PortNat): string {
  return [
    ...tablesOf(p).flatMap((t) => [
      `*${t}`,
      `:${p.chain} - [0:0]`,
      ...(t === 'nat' ? p.rules : p.filter!).map((r) => `-A ${line([p.chain, ...r])}`),
      `-A ${line(jump(p, t))}`,
      'COMMIT',
    ]),
    '',
  ].join('\n');
}

/** iptables-restore input removing them: fails (nothing removed from that table on) if a jump is not there. */
export function removeInput(p: PortNat): string {
  return [...tablesOf(p).flatMap((t) => [`*${t}`, `:${p.chain} - [0:0]`, `-D ${line(jump(p, t))}`, `-X ${p.chain}`, 'COMMIT']), ''].join(
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

async function restore(input: string): Promise<{ ok: boolean; stderr: string }> {
  let r;
  try {
    r = await runChild('iptables-restore', ['--noflush', '-w'], { input });
  } catch (e) {
    throw systemError(`iptables-restore: ${errorMessage(e)} (is iptables installed?)`, e);
  }
  return { ok: r.code === 0, stderr: r.stderr.trim() };
}

/** Adds a container's rules: one iptables-restore. */
export async function addPortNat(p: PortNat): Promise<void> {
  const r = await restore(addInput(p));
  if (!r.ok) throw systemError(`publish ports (iptables-restore of ${p.chain}): ${r.stderr}`);
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
 * Removes them: one iptables-restore of exactly what `addPortNat` added. Should that fail (the
 * add never ran: a berthd killed before it, or an attach that failed; or the rules were changed
 * by hand), what iptables-save shows of the container's chain in each of its tables goes instead.
 */
export async function removePortNat(p: PortNat): Promise<void> {
  if ((await restore(removeInput(p))).ok) return;
  for (const t of tablesOf(p)) await removeLeftover(p.chain, t);
}

/** What iptables-save shows now of a container's chain in `table`, removed: its jumps and the chain. */
async function removeLeftover(chain: string, table: Table): Promise<void> {
  const left = leftoverInput(await save(table), chain, table);
  if (!left) return;
  const r = await restore(left);
  if (!r.ok) throw systemError(`remove published ports (iptables-restore of ${chain} in ${table}): ${r.stderr}`);
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
 * Removes the port rules (nat and filter) `owner` made for containers `recorded` holds no
 * endpoint record of: a record is written before the rules are added and removed after them,
 * so rules with none were left by something else (an exec-root lost or cleared under a berthd,
 * rules copied by hand). Each chain is read again before its removal, so a teardown that ran
 * meanwhile is not undone twice. Returns the containers' IDs.
 */
export async function sweepPortNat(owner: string, recorded: (id: string) => boolean): Promise<string[]> {
  const swept = new Set<string>();
  for (const t of ['nat', 'filter'] as const) {
    for (const [id, chain] of ownedPortNat(await save(t), owner)) {
      if (recorded(id)) continue;
      await removeLeftover(chain, t);
      swept.add(id);
    }
  }
  return [...swept];
}
