// A container's interfaces on its bridge networks: their names (com.docker.network.endpoint.ifname,
// else the first free `eth<N>`) and which endpoints give its default routes, as dockerd 28
// chooses them (libnetwork's Endpoint.Less: the highest GwPriority, then a network that is not
// internal, then a dual-stack one, then the network's name; for each family the first endpoint
// in that order with a gateway of that family). Pure: endpoints.ts makes the interfaces and routes.

import type { Gateway } from '../../network/bridge.js';

export interface GatewayCandidate {
  /** The network's name: dockerd's last tie-break (byte order). */
  network: string;
  priority: number;
  /** An internal network gives no gateway. */
  internal: boolean;
  /** Whether the network has IPv6 (a bridge network always has IPv4). */
  v6: boolean;
}

const gateways = (c: GatewayCandidate) => (c.internal ? 0 : c.v6 ? 2 : 1);
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** dockerd's order of gateway candidates, the best first. */
function compare(a: GatewayCandidate, b: GatewayCandidate): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.internal !== b.internal) return a.internal ? 1 : -1;
  if (gateways(a) !== gateways(b)) return gateways(b) - gateways(a);
  return byteOrder(a.network, b.network);
}

/** For each candidate (in the order given), the default routes it gives the container. */
export function chooseGateways(candidates: GatewayCandidate[]): Gateway[] {
  const order = candidates.map((_, i) => i).sort((i, j) => compare(candidates[i], candidates[j]));
  const v4 = order.find((i) => !candidates[i].internal);
  const v6 = order.find((i) => !candidates[i].internal && candidates[i].v6);
  return candidates.map((_, i) => ({ v4: i === v4, v6: i === v6 }));
}

/**
 * The first `<prefix><N>` not in `used`: dockerd's names for endpoints that ask none (the prefix
 * `eth`, or the network's com.docker.network.container_iface_prefix, numbered on its own).
 */
export function nextIfName(used: Iterable<string>, prefix = 'eth'): string {
  const taken = new Set(used);
  let i = 0;
  while (taken.has(`${prefix}${i}`)) i++;
  return `${prefix}${i}`;
}

/**
 * The interfaces' names of endpoints made together (a start): those asked for kept, the others
 * given the first free `<prefix><N>` in order (`prefixes`: each endpoint's network's, `eth` where none). Unlike dockerd 28, which numbers an endpoint before it
 * sees a later one's name and then fails on the clash (moby#49155), a name asked for is never
 * given to another endpoint. `asked`: one entry an endpoint, undefined where none is asked.
 */
export function ifNames(asked: (string | undefined)[], prefixes: (string | undefined)[] = []): string[] {
  const used = new Set(asked.filter((n): n is string => !!n));
  return asked.map((n, i) => {
    if (n) return n;
    const name = nextIfName(used, prefixes[i]);
    used.add(name);
    return name;
  });
}

/** The first name asked twice among a container's endpoints, if any. */
export function duplicateIfName(asked: (string | undefined)[]): string | undefined {
  const seen = new Set<string>();
  for (const n of asked) {
    if (!n) continue;
    if (seen.has(n)) return n;
    seen.add(n);
  }
  return undefined;
}
