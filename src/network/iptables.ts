// The rules of a bridge network as a whole, set once when its bridge comes up rather than per
// container (CNI's ipMasq and firewall plugins run iptables several times for each container,
// ~150 ms of every `run`): outbound NAT for the subnet unless internal, forwarding accepted to
// and from the bridge (hosts whose FORWARD policy is DROP, as dockerd sets it), and dockerd's
// two-stage isolation — nothing goes from one berth bridge to another. Every rule names the
// bridge (`-i`/`-o`), so `removeRules` finds them all when the bridge goes.

import { execFileSync } from 'node:child_process';
import { systemError } from '../errors.js';

const ISOLATION_1 = 'BERTH-ISOLATION-STAGE-1';
const ISOLATION_2 = 'BERTH-ISOLATION-STAGE-2';
const FORWARD = 'BERTH-FORWARD';

function iptables(...args: string[]): boolean {
  try {
    execFileSync('iptables', ['-w', ...args], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `iptables -C` or else `-A`/`-I`: the rule exists once, whoever (another berthd) added it. */
function ensure(table: string, chain: string, rule: string[], insert = false): void {
  if (iptables('-t', table, '-C', chain, ...rule)) return;
  if (!iptables('-t', table, insert ? '-I' : '-A', chain, ...rule)) throw systemError(`iptables -t ${table} ${insert ? '-I' : '-A'} ${chain} ${rule.join(' ')} failed (is iptables installed?)`);
}

function ensureChains(): void {
  for (const c of [ISOLATION_1, ISOLATION_2, FORWARD]) iptables('-t', 'filter', '-N', c);
  // Isolation comes before the accepts, as in dockerd's FORWARD.
  ensure('filter', 'FORWARD', ['-j', FORWARD], true);
  ensure('filter', 'FORWARD', ['-j', ISOLATION_1], true);
}

export interface NetworkRuleOptions { bridge: string; subnet: string; internal: boolean }

/** Sets the network's rules (idempotent). */
export function ensureNetworkRules(o: NetworkRuleOptions): void {
  const br = o.bridge;
  ensureChains();
  ensure('filter', ISOLATION_1, ['-i', br, '!', '-o', br, '-j', ISOLATION_2]);
  ensure('filter', ISOLATION_2, ['-o', br, '-j', 'DROP']);
  ensure('filter', FORWARD, ['-i', br, '-o', br, '-j', 'ACCEPT']);
  if (o.internal) {
    // No way out and none in: only traffic within the bridge.
    ensure('filter', FORWARD, ['-i', br, '!', '-o', br, '-j', 'DROP']);
    ensure('filter', FORWARD, ['-o', br, '!', '-i', br, '-j', 'DROP']);
    return;
  }
  ensure('filter', FORWARD, ['-i', br, '!', '-o', br, '-j', 'ACCEPT']);
  // In: replies, and connections to published ports (DNAT'd by portmap).
  ensure('filter', FORWARD, ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'ACCEPT']);
  ensure('nat', 'POSTROUTING', ['-s', o.subnet, '!', '-o', br, '-j', 'MASQUERADE']);
}

/** Removes every rule naming the bridge in the filter and nat tables (ours, and any a CNI plugin left). */
export function removeRules(bridge: string): void {
  for (const table of ['filter', 'nat']) {
    let lines: string[];
    try { lines = execFileSync('iptables-save', ['-t', table], { encoding: 'utf8' }).split('\n'); } catch { return; }
    for (const line of lines) {
      const args = splitRule(line);
      if (args[0] !== '-A' || !args.some((a, i) => (a === '-i' || a === '-o') && args[i + 1] === bridge)) continue;
      iptables('-t', table, '-D', ...args.slice(1));
    }
  }
}

/**
 * With no rule of any berth bridge left on the host (this berthd's or another's), berth's chains
 * and FORWARD's jumps to them go too; and portmap's shared chains once they map no port at all
 * (the plugin makes them at its first mapping and never takes them away).
 */
export function removeIdleChains(): void {
  const save = (table: string) => { try { return execFileSync('iptables-save', ['-t', table], { encoding: 'utf8' }).split('\n'); } catch { return []; } };
  const filter = save('filter');
  if (filter.some((l) => l.startsWith(':BERTH-')) && !filter.some((l) => l.startsWith('-A BERTH-'))) {
    for (const c of [ISOLATION_1, FORWARD]) while (iptables('-t', 'filter', '-D', 'FORWARD', '-j', c));
    for (const c of [ISOLATION_1, ISOLATION_2, FORWARD]) iptables('-t', 'filter', '-X', c);
  }
  const nat = save('nat');
  if (nat.some((l) => l.startsWith(':CNI-HOSTPORT-DNAT')) && !nat.some((l) => l.startsWith('-A CNI-HOSTPORT-DNAT '))) {
    for (const line of nat) {
      const args = splitRule(line);
      if (args[0] === '-A' && ['PREROUTING', 'OUTPUT', 'POSTROUTING'].includes(args[1]) && /^CNI-HOSTPORT-/.test(args[args.length - 1])) iptables('-t', 'nat', '-D', ...args.slice(1));
    }
    for (const c of ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ']) {
      iptables('-t', 'nat', '-F', c);
      iptables('-t', 'nat', '-X', c);
    }
  }
}

/** An iptables-save line as arguments (double quotes group, as the shell would). */
export function splitRule(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]));
}
