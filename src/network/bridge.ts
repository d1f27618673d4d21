// A container's endpoint on one of berth's bridge networks, made natively where CNI's bridge
// and host-local plugins made it (two programs of ~8-9 ms each to start, on every attach): the
// address leased by berthd (leases.ts, host-local's format), then the bridge (made when missing,
// with its gateway addresses), the veth pair on it with hairpin, and the container's interface
// with its addresses, sysctls and routes, through rtnetlink in the binding
// (native/binding/netlink.c); a network with inhibit_ipv4 or gateway mode isolated gives the
// bridge no IPv4 address, and IPv6 gateway mode isolated no IPv6 at all. Only the endpoint that gives the container its gateway gets the
// default routes (the caller chooses it, as dockerd does, and moves them with setGateway).
// Published ports are kernel NAT that berthd writes after the endpoint (port-nat.ts), as CNI's
// portmap did. NAT out, forwarding and isolation are the network's rules (iptables.ts), set once,
// not per container. A macvlan or ipvlan network's endpoint is made the same way, with one link
// on the network's parent made directly in the container's namespace in place of the bridge and
// the veth pair (`BridgeNetwork.link`); it has no rules.

import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { errorMessage, systemError, withCleanup } from '../errors.js';
import { bridgeAttach, linkDelete, setDefaultRoutes, subLinkAttach } from '../native/binding.js';
import type { CniResult } from './cni.js';
import { removeIdleChains, removeRules } from './iptables.js';
import type { Leases, LeaseRange } from './leases.js';

export type BridgeSubnet = LeaseRange;

export interface BridgeNetwork {
  /** The network's CNI name: its lease folder's, and the one its errors give. */
  name: string;
  /** The host bridge device. */
  bridge: string;
  v4: BridgeSubnet;
  /** An IPv6 network's (`--ipv6`). */
  v6?: BridgeSubnet;
  /** Whether the bridge takes the IPv4 gateway's address (not with inhibit_ipv4 or gateway mode isolated); true when absent. */
  v4Address?: boolean;
  /** Whether the bridge has IPv6 and the IPv6 gateway's address (not in IPv6 gateway mode isolated); true when absent. */
  v6Address?: boolean;
  /** No default route. */
  internal: boolean;
  mtu?: number;
  /** A macvlan or ipvlan network's: its endpoints are links on `parent` (`bridge` unused). */
  link?: SubLink;
}

/** How a macvlan or ipvlan network's endpoints are made (engine/networks/sublink.ts reads it from the network). */
export interface SubLink {
  kind: 'macvlan' | 'ipvlan';
  parent: string;
  /** The kernel's mode and (ipvlan) flags values. */
  mode: number;
  flags: number;
  /** ipvlan l3 and l3s: no gateway; the default routes are on the link. */
  onLink: boolean;
}

/** What an endpoint is made of, all chosen and recorded before anything is made, so that a killed berthd's successor undoes it. */
export interface BridgeEndpoint {
  bridge: string;
  /** The host end of the veth pair (deleting it takes the container's end too); '' for a macvlan or ipvlan link. */
  host: string;
  /** A macvlan or ipvlan endpoint: its link is the container's interface, deleted in the container's namespace. */
  link?: SubLink['kind'];
  /** The network's lease folder. */
  leases: string;
  /** The leased addresses, `ip/prefix` (absent in records of endpoints whose leases were taken after the record). */
  ips?: string[];
  /** The container's interface's MAC. */
  mac?: string;
}

/** The container's side: its ID, its pinned namespace, the interface's name. */
export interface BridgeAttachment {
  containerId: string;
  netns: string;
  ifName: string;
}

export interface EndpointAsk {
  /** Fixed addresses (--ip, --ip6). */
  ipv4?: string;
  ipv6?: string;
  /** --link-local-ip: added with dockerd's prefixes, /16 (169.254.0.0/16) and /64 (fe80::/64). */
  linkLocal?: string[];
  /** --mac-address; else `macFromIp` of its IPv4 address. */
  mac?: string;
}

/**
 * An endpoint's MAC where none is asked: dockerd 20.10's, 02:42 and its IPv4 address
 * (netutils.GenerateMACFromIP), so an address handed out again (the lowest free is) comes with
 * the MAC it had, and the neighbours' ARP caches stay right.
 */
export function macFromIp(ip: string): string {
  return ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

/** A random unicast, locally administered MAC (the kernel's eth_random_addr). */
function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0] & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

const ranges = (net: BridgeNetwork) => (net.v6 ? [net.v4, net.v6] : [net.v4]);

/** Which of its network's default routes an endpoint gives the container (the caller's choice: dockerd's gateway endpoint per family). */
export interface Gateway {
  v4: boolean;
  v6: boolean;
}

/**
 * The default routes an endpoint gives for `gw` (an internal network's none): through its
 * gateways; on the link (no gateway) for an ipvlan l3 or l3s network's, whatever `gw` says, as
 * dockerd's ipvlan Join adds them as static routes.
 */
function routes(net: BridgeNetwork, gw: Gateway): { dst: string; gw?: string }[] {
  if (net.internal) return [];
  if (net.link?.onLink) return [{ dst: '0.0.0.0/0' }, ...(net.v6 ? [{ dst: '::/0' }] : [])];
  return [...(gw.v4 ? [{ dst: '0.0.0.0/0', gw: net.v4.gateway }] : []), ...(gw.v6 && net.v6 ? [{ dst: '::/0', gw: net.v6.gateway }] : [])];
}
const routeSpec = (r: { dst: string; gw?: string }) => (r.gw ? `${r.dst} ${r.gw}` : r.dst);

/** What an endpoint is made with beyond its plan. */
export interface EndpointExtras {
  /** --link-local-ip: added with dockerd's prefixes, /16 (169.254.0.0/16) and /64 (fe80::/64). */
  linkLocal?: string[];
  /** `/proc/sys/…=value` for its interface (com.docker.network.endpoint.sysctls), set before it is up. */
  sysctls?: string[];
  /** The default routes it gives; none when absent. */
  gateway?: Gateway;
}

/**
 * The endpoint's parts, chosen before anything is made: the addresses (held in memory by
 * `leases` until `addBridgeEndpoint` writes them, or `delBridgeEndpoint` gives them back), the
 * MAC, and the host end's name (CNI's `veth` and 8 hex digits).
 */
export async function planBridgeEndpoint(
  leases: Leases,
  net: BridgeNetwork,
  dir: string,
  at: BridgeAttachment,
  ask: EndpointAsk,
): Promise<BridgeEndpoint> {
  const got = await leases.pick(dir, at.containerId, at.ifName, ranges(net), [ask.ipv4, ask.ipv6]);
  const ips = got.map((l) => l.address);
  const v4 = ips.find((ip) => !ip.includes(':'))!.split('/')[0];
  // An ipvlan link has its parent's MAC.
  const mac = net.link?.kind === 'ipvlan' ? undefined : (ask.mac ?? macFromIp(v4)).toLowerCase();
  return {
    bridge: net.bridge,
    host: net.link ? '' : `veth${randomBytes(4).toString('hex')}`,
    ...(net.link ? { link: net.link.kind } : {}),
    leases: dir,
    ips,
    mac,
  };
}

/**
 * Makes the planned endpoint: the lease files written while the binding makes the veth pair and
 * the interface. Its result reads as CNI's bridge plugin's (bridge, host veth, container
 * interface; the leased addresses on the last). On failure what was made stays for
 * `delBridgeEndpoint`, which the caller runs (as for a failed ADD).
 */
export async function addBridgeEndpoint(
  leases: Leases,
  net: BridgeNetwork,
  ep: BridgeEndpoint,
  at: BridgeAttachment,
  extras: EndpointExtras = {},
): Promise<CniResult> {
  const linkLocal = extras.linkLocal ?? [];
  const gw = routes(net, extras.gateway ?? { v4: false, v6: false });
  const ips = ep.ips ?? [];
  // An ipvlan l3 endpoint has no gateway (dockerd's inspect shows none).
  const gateway = (ip: string) => (net.link?.onLink ? '' : ip.includes(':') ? net.v6!.gateway : net.v4.gateway);
  const prefix = (s: BridgeSubnet) => s.subnet.split('/')[1];
  const addresses = [...ips, ...linkLocal.map((ip) => (ip.includes(':') ? `${ip}/64` : `${ip}/16`))];
  // Both run to their end (a teardown must not race a lease file still being written).
  const [files, made] = await Promise.allSettled([
    leases.commit(
      ep.leases,
      at.containerId,
      at.ifName,
      ips.map((address) => ({ address, gateway: gateway(address) })),
    ),
    net.link
      ? subLinkAttach({
          netns: at.netns,
          kind: net.link.kind,
          parent: net.link.parent,
          mode: net.link.mode,
          flags: net.link.flags,
          ifName: at.ifName,
          mac: ep.mac,
          mtu: net.mtu ?? 0,
          addresses,
          routes: gw.map(routeSpec),
          sysctls: extras.sysctls ?? [],
        })
      : bridgeAttach({
          netns: at.netns,
          bridge: net.bridge,
          bridgeMac: randomMac(),
          host: ep.host,
          ifName: at.ifName,
          mac: ep.mac!,
          mtu: net.mtu ?? 0,
          gateways: ranges(net)
            .filter((r) => (r === net.v4 ? net.v4Address : net.v6Address) !== false)
            .map((r) => `${r.gateway}/${prefix(r)}`),
          addresses,
          routes: gw.map(routeSpec),
          sysctls: extras.sysctls ?? [],
        }),
  ]);
  if (made.status === 'rejected') throw systemError(`network ${net.name}: ${errorMessage(made.reason)}`, made.reason);
  if (files.status === 'rejected') throw files.reason;
  // As dockerd's setupBridgeIPv6 for gateway mode isolated: not even a link-local address on the bridge.
  if (net.v6 && net.v6Address === false) {
    const knob = `/proc/sys/net/ipv6/conf/${net.bridge}/disable_ipv6`;
    await writeFile(knob, '1').catch((e: Error) => {
      throw systemError(
        `network ${net.name}: unable to disable IPv6 addresses on bridge for gateway mode 'isolated' (${knob}): ${errorMessage(e)}`,
        e,
      );
    });
  }
  return {
    cniVersion: '1.0.0',
    interfaces: [
      ...(net.link ? [] : [{ name: net.bridge }, { name: ep.host }]),
      { name: at.ifName, ...(ep.mac ? { mac: ep.mac } : {}), sandbox: at.netns },
    ],
    ips: ips.map((address) => ({ address, gateway: gateway(address), interface: net.link ? 0 : 2 })),
    routes: gw.map((r) => ({ dst: r.dst })),
  };
}

/**
 * Moves the container's default routes to the endpoints that give its gateway now: each given
 * as its network, its interface's name and what it gives; every other default route goes.
 */
export async function setGateway(netns: string, gateways: { net: BridgeNetwork; ifName: string; gateway: Gateway }[]): Promise<void> {
  await setDefaultRoutes(
    netns,
    gateways.flatMap((g) => routes(g.net, g.gateway).map((r) => `${routeSpec(r)} ${g.ifName}`)),
  );
}

/**
 * Undoes an endpoint, whatever part of it was made: the veth pair goes (a macvlan or ipvlan link
 * in the container's namespace, if that is still there), then the leases (those recorded, else
 * every one the container's interface holds).
 */
export async function delBridgeEndpoint(leases: Leases, ep: BridgeEndpoint, at: BridgeAttachment): Promise<void> {
  const errors: unknown[] = [];
  const gone = ep.link ? linkDelete(at.ifName, at.netns) : linkDelete(ep.host);
  await gone.catch((e: Error) =>
    errors.push(systemError(`delete ${ep.link ? `${ep.link} ${at.ifName} in ${at.netns}` : `veth ${ep.host}`}: ${errorMessage(e)}`, e)),
  );
  const ips = ep.ips?.map((ip) => ip.split('/')[0]);
  await leases.release(ep.leases, at.containerId, at.ifName, ips).catch((e: unknown) => errors.push(e));
  if (errors.length) throw withCleanup(errors[0], errors.slice(1) as Error[]);
}

/** Deletes the host bridge, which endpoints leave, and the rules naming it. */
export async function deleteBridge(dev: string): Promise<void> {
  await linkDelete(dev);
  await removeRules(dev);
  await removeIdleChains();
}
