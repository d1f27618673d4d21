// The rules of a bridge network as a whole, set once when its bridge comes up rather than per
// container (CNI's ipMasq and firewall plugins run iptables several times for each container,
// ~150 ms of every `run`): outbound NAT for the subnet unless internal or the network's
// enable_ip_masquerade is false, forwarding accepted to and from the bridge (hosts whose FORWARD
// policy is DROP, as dockerd sets it) and within it unless its enable_icc is false, and dockerd's
// two-stage isolation — nothing goes from one berth bridge to another — and, as dockerd 28 by
// gateway mode (openNetworkRules), what may come in from outside at the containers' own addresses.
// Every rule names the bridge (`-i`/`-o`), so `removeRules` finds them all when the bridge goes.
// iptables runs off the event loop (native/child.ts): berthd goes on serving while it runs and
// holds the xtables lock. Published ports' shared chains are set here too (nat: BERTH-PORTS from
// PREROUTING and OUTPUT, BERTH-PORTS-MASQ from POSTROUTING; filter: BERTH-PORTS from the top of
// BERTH-FORWARD); each container's own chains are port-nat.ts's. An IPv6 network gets the same
// rules in ip6tables for its IPv6 subnet, by its IPv6 gateway mode and host_ipv6, as dockerd 28
// sets them with its `ip6tables` on (its default; daemon.json `ip6tables: false` turns them off):
// each family has its own mode, as dockerd's Config4 and Config6. The chains that CNI's portmap made, in both tables, for
// the containers of a berthd before port-nat.ts are taken away once idle.

import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runChild } from '../native/child.js';
import { errorMessage, systemError } from '../errors.js';

const ISOLATION_1 = 'BERTH-ISOLATION-STAGE-1';
const ISOLATION_2 = 'BERTH-ISOLATION-STAGE-2';
const FORWARD = 'BERTH-FORWARD';
/**
 * nat: jumped to from PREROUTING and OUTPUT for local destinations; filter: from the top of
 * BERTH-FORWARD. One jump per container's published ports in each (its own chains, port-nat.ts).
 */
export const PORTS_CHAIN = 'BERTH-PORTS';
/** nat: jumped to from POSTROUTING; masquerades what the containers' chains marked. */
const PORTS_MASQ = 'BERTH-PORTS-MASQ';
/** The mark of connections to masquerade (portmap's is 0x2000, the balancers' 0x10000). */
export const PORTS_MARK = '0x20000/0x20000';

export type Binary = 'iptables' | 'ip6tables';

/**
 * Whether iptables (ip6tables) succeeded. A non-zero exit is an answer (`-C`: no such rule; `-N`:
 * the chain exists; `-D`: nothing to delete); the program missing or not starting is an error.
 */
async function xtables(bin: Binary, args: string[]): Promise<boolean> {
  let r;
  try {
    r = await runChild(bin, ['-w', ...args]);
  } catch (e) {
    throw systemError(`${bin} ${args.join(' ')}: ${errorMessage(e)} (is ${bin} installed?)`, e);
  }
  return r.code === 0;
}

/** Whether the host has ip6tables (a host without it has no rules there to remove). */
export const hasIp6tables = () =>
  (process.env.PATH ?? '/usr/sbin:/sbin').split(':').some((d) => d && existsSync(join(d, 'ip6tables-save')));
/** iptables, and ip6tables where the host has it. */
const binaries = (): Binary[] => (hasIp6tables() ? ['iptables', 'ip6tables'] : ['iptables']);

/** `iptables -C` or else `-A`/`-I`: the rule exists once, whoever (another berthd) added it. */
async function ensure(bin: Binary, table: string, chain: string, rule: string[], insert = false): Promise<void> {
  if (await xtables(bin, ['-t', table, '-C', chain, ...rule])) return;
  if (!(await xtables(bin, ['-t', table, insert ? '-I' : '-A', chain, ...rule])))
    throw systemError(`${bin} -t ${table} ${insert ? '-I' : '-A'} ${chain} ${rule.join(' ')} failed`);
}

async function ensureChains(bin: Binary): Promise<void> {
  for (const c of [ISOLATION_1, ISOLATION_2, FORWARD, PORTS_CHAIN]) await xtables(bin, ['-t', 'filter', '-N', c]);
  // Isolation comes before the accepts, as in dockerd's FORWARD.
  await ensure(bin, 'filter', 'FORWARD', ['-j', FORWARD], true);
  await ensure(bin, 'filter', 'FORWARD', ['-j', ISOLATION_1], true);
  // The containers' accepts of their published ports come before each network's drop.
  await ensure(bin, 'filter', FORWARD, ['-j', PORTS_CHAIN], true);
  await ensurePortChains(bin);
}

/** iptables-save's line of BERTH-FORWARD's jump to the ports' filter chain: set once, no network's. */
const PORTS_JUMP = `-A ${FORWARD} -j ${PORTS_CHAIN}`;

const LOCAL = ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', PORTS_CHAIN];
const MASQ_RULE = ['-m', 'mark', '--mark', PORTS_MARK, '-j', 'MASQUERADE'];

/**
 * The published ports' shared chains in the nat table (idempotent): containers' chains are
 * jumped to from BERTH-PORTS, and the masquerade comes first in POSTROUTING, as portmap's, so
 * that no other rule's verdict skips it.
 */
async function ensurePortChains(bin: Binary): Promise<void> {
  for (const c of [PORTS_CHAIN, PORTS_MASQ]) await xtables(bin, ['-t', 'nat', '-N', c]);
  await ensure(bin, 'nat', PORTS_MASQ, MASQ_RULE);
  await ensure(bin, 'nat', 'PREROUTING', LOCAL);
  await ensure(bin, 'nat', 'OUTPUT', LOCAL);
  await ensure(bin, 'nat', 'POSTROUTING', ['-j', PORTS_MASQ], true);
}

export async function save(table: string, bin: Binary = 'iptables'): Promise<string[]> {
  let r;
  try {
    r = await runChild(`${bin}-save`, ['-t', table], { maxBuffer: 64 << 20 });
  } catch (e) {
    throw systemError(`${bin}-save -t ${table}: ${errorMessage(e)}`, e);
  }
  if (r.code !== 0) throw systemError(`${bin}-save -t ${table}: ${r.stderr.trim() || `exit status ${r.code}`}`);
  return r.stdout.split('\n');
}

export interface NetworkRuleOptions {
  bridge: string;
  subnet: string;
  /** An IPv6 network's subnet, where berthd's ip6tables is on: its rules are set in ip6tables too (ipv6Options). */
  subnet6?: string;
  internal: boolean;
  /** Containers on the bridge reach each other (`com.docker.network.bridge.enable_icc`, true unless set false). */
  icc: boolean;
  /** Outbound NAT for the subnet (`com.docker.network.bridge.enable_ip_masquerade`, true unless set false). */
  masquerade: boolean;
  /** `com.docker.network.bridge.gateway_mode_ipv4` (isolated networks are internal). */
  gatewayMode: 'nat' | 'nat-unprotected' | 'routed' | 'isolated';
  /** `com.docker.network.host_ipv4`: the outbound NAT is SNAT to this address rather than MASQUERADE. */
  hostIp?: string;
  /** `com.docker.network.bridge.gateway_mode_ipv6`, for the IPv6 subnet's rules (nat when absent). */
  gatewayMode6?: NetworkRuleOptions['gatewayMode'];
  /** `com.docker.network.host_ipv6`: the IPv6 subnet's SNAT address. */
  hostIp6?: string;
}

/**
 * The rules of a network that is not internal, as dockerd 28's iptabler sets them, in berth's
 * chains (arguments after `-t TABLE`, the chain first; each added where absent, `insert`: at
 * the top). Direct access from outside to the containers' addresses is dropped, but for
 * published ports (the containers' own chains, port-nat.ts, jumped to from BERTH-PORTS before
 * it) and replies: in nat mode a published port is reached through its DNAT alone; in routed
 * mode at the container's address (no DNAT, no outbound NAT), ICMP (ICMPv6 in ip6tables) too,
 * and from other networks; nat-unprotected accepts it all. The family is the subnet's.
 */
export function openNetworkRules(o: NetworkRuleOptions): { table: string; rule: string[]; insert?: boolean }[] {
  const br = o.bridge;
  const out: { table: string; rule: string[]; insert?: boolean }[] = [];
  const filter = (rule: string[], insert = false) => out.push({ table: 'filter', rule, insert });
  if (o.gatewayMode === 'routed') {
    // Other networks reach a routed one (its port filter stands), and their replies come back.
    filter([ISOLATION_1, '-o', br, '-j', 'RETURN'], true);
    filter([ISOLATION_1, '-i', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'], true);
  }
  filter([FORWARD, '-i', br, '!', '-o', br, '-j', 'ACCEPT']);
  // In: replies, and connections to published ports (DNAT'd by port-nat.ts's rules).
  filter([FORWARD, '-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'ACCEPT']);
  if (o.gatewayMode === 'routed') filter([FORWARD, '-o', br, '-p', o.subnet.includes(':') ? 'icmpv6' : 'icmp', '-j', 'ACCEPT']);
  filter([FORWARD, '!', '-i', br, '-o', br, '-j', o.gatewayMode === 'nat-unprotected' ? 'ACCEPT' : 'DROP']);
  if (o.masquerade && o.gatewayMode !== 'routed')
    out.push({
      table: 'nat',
      rule: ['POSTROUTING', '-s', o.subnet, '!', '-o', br, '-j', ...(o.hostIp ? ['SNAT', '--to-source', o.hostIp] : ['MASQUERADE'])],
    });
  return out;
}

/**
 * Traffic between two ports of one bridge meets iptables (ip6tables) only with br_netfilter's
 * switch for the family on, so an icc=false network turns it on, as dockerd does; without the
 * module it cannot be enforced.
 */
async function bridgeNetfilter(bridge: string, bin: Binary): Promise<void> {
  const file = `/proc/sys/net/bridge/bridge-nf-call-${bin}`;
  let on;
  try {
    on = (await readFile(file, 'utf8')).trim() === '1';
  } catch (e) {
    throw systemError(
      `bridge ${bridge} with enable_icc=false: ${file}: ${errorMessage(e)} (load the br_netfilter module: modprobe br_netfilter)`,
      e,
    );
  }
  if (!on) await writeFile(file, '1');
}

/** The options of a network's IPv6 rules: its IPv6 subnet, gateway mode (nat unless given) and SNAT address. */
export function ipv6Options(o: NetworkRuleOptions): NetworkRuleOptions | undefined {
  if (!o.subnet6) return undefined;
  return { ...o, subnet: o.subnet6, subnet6: undefined, gatewayMode: o.gatewayMode6 ?? 'nat', hostIp: o.hostIp6 };
}

/** Sets the network's rules (idempotent): iptables', and ip6tables' for its IPv6 subnet if it has one. */
export async function ensureNetworkRules(o: NetworkRuleOptions): Promise<void> {
  const v6 = ipv6Options(o);
  for (const [bin, f] of [['iptables', o], ...(v6 ? [['ip6tables', v6]] : [])] as [Binary, NetworkRuleOptions][]) {
    const br = f.bridge;
    if (!f.icc) await bridgeNetfilter(br, bin);
    await ensureChains(bin);
    await ensure(bin, 'filter', ISOLATION_1, ['-i', br, '!', '-o', br, '-j', ISOLATION_2]);
    await ensure(bin, 'filter', ISOLATION_2, ['-o', br, '-j', 'DROP']);
    // icc=false: as dockerd's DOCKER-FORWARD, nothing from the bridge back onto it.
    await ensure(bin, 'filter', FORWARD, ['-i', br, '-o', br, '-j', f.icc ? 'ACCEPT' : 'DROP']);
    if (f.internal) {
      // No way out and none in: only traffic within the bridge.
      await ensure(bin, 'filter', FORWARD, ['-i', br, '!', '-o', br, '-j', 'DROP']);
      await ensure(bin, 'filter', FORWARD, ['-o', br, '!', '-i', br, '-j', 'DROP']);
      continue;
    }
    for (const r of openNetworkRules(f)) await ensure(bin, r.table, r.rule[0], r.rule.slice(1), r.insert);
  }
}

/** Removes every rule naming the bridge in the filter and nat tables of both families (ours, and any a CNI plugin left). */
export async function removeRules(bridge: string): Promise<void> {
  for (const bin of binaries()) {
    for (const table of ['filter', 'nat']) {
      for (const line of await save(table, bin)) {
        const args = splitRule(line);
        if (args[0] !== '-A' || !args.some((a, i) => (a === '-i' || a === '-o') && args[i + 1] === bridge)) continue;
        await xtables(bin, ['-t', table, '-D', ...args.slice(1)]);
      }
    }
  }
}

/**
 * With no rule of any berth bridge left on the host (this berthd's or another's), berth's chains
 * and FORWARD's jumps to them go too, and the published ports' shared chains once no container's
 * chain is jumped to; and portmap's shared chains once they map no port at all (the plugin makes
 * them at its first mapping and never takes them away).
 */
export async function removeIdleChains(): Promise<void> {
  for (const bin of binaries()) {
    const filter = await save('filter', bin);
    const bridges = filter.some((l) => l.startsWith('-A BERTH-') && l !== PORTS_JUMP);
    if (filter.some((l) => l.startsWith(':BERTH-')) && !bridges) {
      for (const c of [ISOLATION_1, FORWARD]) while (await xtables(bin, ['-t', 'filter', '-D', 'FORWARD', '-j', c]));
      await xtables(bin, ['-t', 'filter', '-F', FORWARD]);
      for (const c of [ISOLATION_1, ISOLATION_2, FORWARD, PORTS_CHAIN]) await xtables(bin, ['-t', 'filter', '-X', c]);
    }
    // A network whose rules are set keeps the chains its containers' ports will need.
    if (!bridges) await removeIdlePortChains(bin);
    await removeIdlePortmapChains(bin);
  }
}

async function removeIdlePortChains(bin: Binary): Promise<void> {
  const nat = await save('nat', bin);
  if (!nat.some((l) => l.startsWith(`:${PORTS_CHAIN} `)) || nat.some((l) => l.startsWith(`-A ${PORTS_CHAIN} `))) return;
  while (await xtables(bin, ['-t', 'nat', '-D', 'PREROUTING', ...LOCAL]));
  while (await xtables(bin, ['-t', 'nat', '-D', 'OUTPUT', ...LOCAL]));
  while (await xtables(bin, ['-t', 'nat', '-D', 'POSTROUTING', '-j', PORTS_MASQ]));
  for (const c of [PORTS_CHAIN, PORTS_MASQ]) {
    await xtables(bin, ['-t', 'nat', '-F', c]);
    await xtables(bin, ['-t', 'nat', '-X', c]);
  }
}

async function removeIdlePortmapChains(bin: Binary): Promise<void> {
  const nat = await save('nat', bin);
  if (!nat.some((l) => l.startsWith(':CNI-HOSTPORT-DNAT')) || nat.some((l) => l.startsWith('-A CNI-HOSTPORT-DNAT '))) return;
  for (const line of nat) {
    const args = splitRule(line);
    if (args[0] === '-A' && ['PREROUTING', 'OUTPUT', 'POSTROUTING'].includes(args[1]) && /^CNI-HOSTPORT-/.test(args[args.length - 1]))
      await xtables(bin, ['-t', 'nat', '-D', ...args.slice(1)]);
  }
  for (const c of ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ']) {
    await xtables(bin, ['-t', 'nat', '-F', c]);
    await xtables(bin, ['-t', 'nat', '-X', c]);
  }
}

/** An iptables-save line as arguments (double quotes group, as the shell would). */
export function splitRule(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]));
}
