// The embedded DNS of user-defined networks, as dockerd's: one server (network/dns.ts) on each
// user-defined bridge network's IPv4 gateway address once its bridge is up (UDP and TCP), and
// one at 127.0.0.11 in the network namespace of each container on a network that has no such
// address to reach (macvlan, ipvlan, a bridge with no IPv4 address) from its endpoint's making
// to its stop, and again under the next berthd while it runs, answering
// the names, short IDs and aliases of the containers on the asking container's networks (A with
// their IPv4 addresses, AAAA with their IPv6 ones), and forwarding the rest to the asker's
// `--dns` or the host's nameservers.

import { errorMessage } from '../../errors.js';
import { DnsServer, type Addresses } from '../../network/dns.js';
import { CONTAINER_DNS, hostResolvConf, nameservers } from '../init-files.js';
import type { ContainerRecord, NetworkRecord } from '../types.js';
import { parseLink } from '../links.js';
import { bridgeHasV4, gatewayOf, hasDns, ownNetns, v4Config, type NetworkStore } from './store.js';
import { isSubLink } from './sublink.js';

/** Whether a bridge network's DNS server can be: its bridge has the gateway's address. */
const served = (n: NetworkRecord) => n.Driver === 'bridge' && hasDns(n) && bridgeHasV4(n);

/**
 * Whether a container on `n` has its resolver at 127.0.0.11 in its own namespace, as every
 * container under dockerd has: where it cannot reach a server of berthd's on a bridge's gateway
 * (a macvlan or ipvlan network, whose parent does not lead to the host; a bridge network with
 * no IPv4 address, inhibit_ipv4 or gateway mode isolated). The others keep the gateway's server,
 * which costs a start nothing.
 */
export const resolverInNetns = (n: NetworkRecord): boolean =>
  isSubLink(n.Driver) || (n.Driver === 'bridge' && hasDns(n) && !bridgeHasV4(n));

export class EmbeddedDns {
  /** The server of each user-defined network whose bridge is up, by network ID. */
  private readonly servers = new Map<string, DnsServer>();
  /** The server at 127.0.0.11 in each container's namespace that has one, by container ID. */
  private readonly inContainers = new Map<string, DnsServer>();

  constructor(
    private readonly store: NetworkStore,
    private readonly containers: () => ContainerRecord[],
    private readonly log: (msg: string) => void,
  ) {}

  /**
   * The address a container's resolv.conf names: its first network's embedded DNS server, if it
   * has one (127.0.0.11 where that is in the container's namespace).
   */
  addressFor(rec: ContainerRecord): string | undefined {
    const first = Object.values(rec.NetworkSettings?.Networks ?? {})[0];
    const n = first && this.store.byIdOf(first.NetworkID);
    if (!n || !ownNetns(rec.HostConfig.NetworkMode)) return undefined;
    if (resolverInNetns(n)) return CONTAINER_DNS;
    return served(n) ? this.address(n) : undefined;
  }

  private address(n: NetworkRecord): string {
    return gatewayOf(v4Config(n)!);
  }

  /** Starts the network's DNS server on its gateway address (there once the bridge is). */
  async ensure(n: NetworkRecord): Promise<void> {
    if (this.servers.has(n.Id) || !served(n)) return;
    const asker = (from: string) => this.containers().find((x) => x.NetworkSettings?.Networks[n.Name]?.IPAddress === from);
    const server = new DnsServer({
      address: this.address(n),
      resolve: (name, from) => this.resolve(asker(from), name),
      upstream: (from) => upstreamOf(asker(from)),
      // The gateway is the host's address, which a container of another network reaches too: it
      // must not learn this network's names there (dockerd's resolver is each container's own).
      serves: (from) => asker(from) !== undefined,
      log: this.log,
    });
    this.servers.set(n.Id, server);
    try {
      await server.listen();
    } catch (e) {
      this.servers.delete(n.Id);
      server.close();
      this.log(`embedded DNS of network ${n.Name} on ${this.address(n)}:53: ${errorMessage(e)}`);
    }
  }

  /**
   * Starts the server at 127.0.0.11:53 in the container's namespace (pinned at `netns`), as
   * dockerd's resolver, unless it has one. Never rejects: a failure is logged, as dockerd logs
   * its resolver's, and the container runs without it.
   */
  async serveIn(id: string, netns: string): Promise<void> {
    if (this.inContainers.has(id)) return;
    const asker = () => this.containers().find((c) => c.Id === id);
    const server = new DnsServer({
      address: CONTAINER_DNS,
      netns,
      resolve: (name) => this.resolve(asker(), name),
      upstream: () => upstreamOf(asker()),
      log: this.log,
    });
    this.inContainers.set(id, server);
    try {
      await server.listen();
    } catch (e) {
      if (this.inContainers.get(id) === server) this.inContainers.delete(id);
      server.close();
      this.log(`embedded DNS of container ${id.slice(0, 12)} on ${CONTAINER_DNS}:53: ${errorMessage(e)}`);
    }
  }

  /** The container's server at 127.0.0.11 stops (its stop, or the disconnect of its last endpoint on a network that needs it). */
  stopIn(id: string): void {
    this.inContainers.get(id)?.close();
    this.inContainers.delete(id);
  }

  /**
   * The addresses of `name` (a container's name, short ID or alias) on the user-defined
   * networks of the asking container (none when it is gone), as dockerd's resolver: a container
   * reaches names on each network it is connected to.
   */
  private resolve(asker: ContainerRecord | undefined, name: string): Addresses | undefined {
    const want = name.replace(/\.$/, '').toLowerCase();
    const all = this.containers();
    const nets = Object.keys(asker?.NetworkSettings?.Networks ?? {})
      .map((name) => this.store.byName(name))
      .filter((x): x is NetworkRecord => !!x && hasDns(x));
    const lookup = (net: NetworkRecord, name: string): Addresses | undefined => {
      const eps = all
        .map((c) => c.NetworkSettings?.Networks[net.Name])
        .filter((ep) => ep?.IPAddress && ep.DNSNames?.some((d) => d.toLowerCase() === name));
      return eps.length ? { a: eps.map((ep) => ep!.IPAddress), aaaa: eps.map((ep) => ep!.GlobalIPv6Address).filter(Boolean) } : undefined;
    };
    // The asker's own links first (`--link name:alias` on a user-defined network): the alias is
    // the name on that endpoint's network, as libnetwork's sandbox resolves it.
    const linked = (net: NetworkRecord) => linkTarget(asker?.NetworkSettings?.Networks[net.Name]?.Links, want);
    for (const net of nets) {
      const target = linked(net);
      const ips = target ? lookup(net, target) : undefined;
      if (ips) return ips;
    }
    for (const net of nets) {
      if (linked(net)) continue;
      const ips = lookup(net, want);
      if (ips) return ips;
    }
    return undefined;
  }

  /** The network's server stops (its removal). */
  stop(n: NetworkRecord): void {
    this.servers.get(n.Id)?.close();
    this.servers.delete(n.Id);
  }

  /** berthd's end: every server stops (a container's own is served again by the next berthd while it runs). */
  close(): void {
    for (const d of [...this.servers.values(), ...this.inContainers.values()]) d.close();
    this.servers.clear();
    this.inContainers.clear();
  }
}

/** Where names the embedded DNS does not know are relayed for the asker: its `--dns`, else the host's nameservers. */
function upstreamOf(asker: ContainerRecord | undefined): string[] {
  return asker?.HostConfig.Dns?.length ? asker.HostConfig.Dns : nameservers(hostResolvConf());
}

/** The name a link of the endpoint's gives `alias` (lower case), if one does. */
function linkTarget(links: string[] | null | undefined, alias: string): string | undefined {
  for (const l of links ?? []) {
    const { name, alias: a } = parseLink(l);
    if (a.toLowerCase() === alias) return name.toLowerCase();
  }
  return undefined;
}
