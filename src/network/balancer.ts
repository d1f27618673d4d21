// A port of the host spread across backends in the kernel, as kube-proxy's iptables mode does
// for a NodePort: connections to a local address on the port (from outside, from the host, from
// a container) are DNAT'd to one backend drawn at random (`-m statistic --mode random`, each rule
// taking 1/(n-i) of what the rules before it left, so every backend gets 1/n), and masqueraded so
// the reply comes back through the host. Chains: BERTH-SERVICES (jumped to from PREROUTING and
// OUTPUT for local destinations) holds one jump per balancer to its BERTH-SVC-<id> chain.

import { writeFile } from 'node:fs/promises';
import { runChild } from '../native/child.js';
import { errorMessage, systemError } from '../errors.js';

const SERVICES = 'BERTH-SERVICES';
const MASQ = 'BERTH-SVC-MASQ';
/** The packet mark of connections a balancer DNAT'd (kube-proxy uses 0x4000 and 0x8000). */
const MARK = '0x10000/0x10000';

export interface Backend {
  ip: string;
  port: number;
}

export interface BalancerRules {
  /** `BERTH-SVC-…`: the balancer's own chain. */
  chain: string;
  protocol: 'tcp' | 'udp';
  /** '' for every local address. */
  hostIp: string;
  hostPort: number;
  backends: Backend[];
}

/** The chain of the balancer with this ID (28 characters at most, as iptables allows). */
export const chainOf = (id: string) => `BERTH-SVC-${id.slice(0, 16).toUpperCase()}`;

async function iptables(...args: string[]): Promise<boolean> {
  let r;
  try {
    r = await runChild('iptables', ['-w', '-t', 'nat', ...args]);
  } catch (e) {
    throw systemError(`iptables -t nat ${args.join(' ')}: ${errorMessage(e)} (is iptables installed?)`, e);
  }
  return r.code === 0;
}

async function must(...args: string[]): Promise<void> {
  if (!(await iptables(...args))) throw systemError(`iptables -t nat ${args.join(' ')} failed`);
}

async function ensure(chain: string, rule: string[]): Promise<void> {
  if (!(await iptables('-C', chain, ...rule))) await must('-A', chain, ...rule);
}

/** The jump from BERTH-SERVICES to the balancer's chain. */
function entry(r: Pick<BalancerRules, 'chain' | 'protocol' | 'hostIp' | 'hostPort'>): string[] {
  return [...(r.hostIp ? ['-d', r.hostIp] : []), '-p', r.protocol, '--dport', String(r.hostPort), '-j', r.chain];
}

/** The rules of the balancer's chain: mark for masquerade, then one DNAT per backend. Pure. */
export function chainRules(r: BalancerRules): string[][] {
  const n = r.backends.length;
  if (!n) return [];
  const rules: string[][] = [['-j', 'MARK', '--set-xmark', MARK]];
  r.backends.forEach((b, i) => {
    const pick = i < n - 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', (1 / (n - i)).toFixed(10)] : [];
    rules.push([...pick, '-p', r.protocol, '-j', 'DNAT', '--to-destination', `${b.ip}:${b.port}`]);
  });
  return rules;
}

/** Sets the balancer's rules, replacing what its chain held (idempotent). */
export async function applyBalancer(r: BalancerRules, bridges: string[]): Promise<void> {
  await iptables('-N', SERVICES);
  await iptables('-N', MASQ);
  await ensure('PREROUTING', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', SERVICES]);
  await ensure('OUTPUT', ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', SERVICES]);
  await ensure('POSTROUTING', ['-j', MASQ]);
  await ensure(MASQ, ['-m', 'mark', '--mark', MARK, '-j', 'MASQUERADE']);
  await iptables('-N', r.chain);
  await must('-F', r.chain);
  for (const rule of chainRules(r)) await must('-A', r.chain, ...rule);
  await ensure(SERVICES, entry(r));
  // Connections from the host's 127.0.0.1 may then be routed out to a bridge (as portmap does for published ports).
  for (const br of bridges) await writeFile(`/proc/sys/net/ipv4/conf/${br}/route_localnet`, '1');
}

/** Removes the balancer's chain and its jump; with no balancer left, berth's service chains go too. */
export async function removeBalancer(r: Pick<BalancerRules, 'chain' | 'protocol' | 'hostIp' | 'hostPort'>): Promise<void> {
  while (await iptables('-D', SERVICES, ...entry(r)));
  await iptables('-F', r.chain);
  await iptables('-X', r.chain);
  const r2 = await runChild('iptables', ['-w', '-t', 'nat', '-S', SERVICES]);
  if (r2.code === 0 && !r2.stdout.split('\n').some((l) => l.startsWith('-A '))) {
    while (await iptables('-D', 'PREROUTING', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', SERVICES));
    while (await iptables('-D', 'OUTPUT', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', SERVICES));
    while (await iptables('-D', 'POSTROUTING', '-j', MASQ));
    for (const c of [SERVICES, MASQ]) {
      await iptables('-F', c);
      await iptables('-X', c);
    }
  }
}
