// A bridge network as a CNI configuration list: `bridge` (the host bridge, the veth pair, the
// gateway addresses) with `host-local` IPAM keeping its leases under berth's exec-root (one
// range set per family: an IPv6 network's containers get an address of each), and
// `portmap` when the container publishes ports (kernel DNAT, with SNAT for connections from
// the host's 127.0.0.1, which needs route_localnet on the bridge: the plugin sets it). NAT out,
// forwarding and isolation are the network's rules (iptables.ts), set once, not per container.

import { existsSync } from 'node:fs';
import { runChild } from '../native/child.js';
import { systemError } from '../errors.js';
import type { NetConfList, PluginConf } from './cni.js';
import { removeIdleChains, removeRules } from './iptables.js';
import { formatIp, parseCidr } from './subnet.js';
import { formatIp6, lastIp6, parseCidr6 } from './ip6.js';

/** One subnet of the network, and its gateway. */
export interface BridgeSubnet {
  subnet: string;
  gateway: string;
  /** Leases come from this CIDR inside the subnet (Docker's --ip-range). */
  ipRange?: string;
}

export interface BridgeNetwork {
  /** The network's name, which is the CNI network name too (rules carry it in their comments). */
  name: string;
  /** The host bridge device. */
  bridge: string;
  v4: BridgeSubnet;
  /** An IPv6 network's (`--ipv6`). */
  v6?: BridgeSubnet;
  /** No outbound NAT and no default route. */
  internal: boolean;
  mtu?: number;
}

/** host-local's range: leases [rangeStart, rangeEnd], the ip-range's addresses less the subnet's own (and IPv4's broadcast). */
function ipamRange(s: BridgeSubnet, v6: boolean): Record<string, string> {
  const range: Record<string, string> = { subnet: s.subnet, gateway: s.gateway };
  if (!s.ipRange) return range;
  if (v6) {
    const r = parseCidr6(s.ipRange),
      sub = parseCidr6(s.subnet);
    range.rangeStart = formatIp6(r.addr > sub.addr ? r.addr : sub.addr + 1n);
    range.rangeEnd = formatIp6(lastIp6(r) < lastIp6(sub) ? lastIp6(r) : lastIp6(sub));
    return range;
  }
  const r = parseCidr(s.ipRange),
    sub = parseCidr(s.subnet);
  const end = (c: { addr: number; bits: number }) => c.addr + 2 ** (32 - c.bits) - 1;
  range.rangeStart = formatIp(Math.max(r.addr, sub.addr + 1));
  range.rangeEnd = formatIp(Math.min(end(r), end(sub) - 1));
  return range;
}

export function bridgeConfList(net: BridgeNetwork, ipamDir: string, opts: { ports: boolean }): NetConfList {
  const ranges = [[ipamRange(net.v4, false)], ...(net.v6 ? [[ipamRange(net.v6, true)]] : [])];
  const routes = net.internal ? [] : [{ dst: '0.0.0.0/0' }, ...(net.v6 ? [{ dst: '::/0' }] : [])];
  const plugins: PluginConf[] = [
    {
      type: 'bridge',
      bridge: net.bridge,
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
      ...(net.mtu ? { mtu: net.mtu } : {}),
      capabilities: { mac: true, ips: true },
      ipam: { type: 'host-local', ranges, routes, dataDir: ipamDir },
    },
  ];
  if (opts.ports) plugins.push({ type: 'portmap', capabilities: { portMappings: true }, snat: true });
  return { cniVersion: '1.0.0', name: net.name, plugins };
}

/** Deletes the host bridge, which CNI's DEL leaves, and the rules naming it. */
export async function deleteBridge(dev: string): Promise<void> {
  if (existsSync(`/sys/class/net/${dev}`)) {
    const r = await runChild('ip', ['link', 'del', dev]);
    // A failure with the device gone is a race with another deletion: done either way.
    if (r.code !== 0 && existsSync(`/sys/class/net/${dev}`))
      throw systemError(`ip link del ${dev}: ${r.stderr.trim() || `exit status ${r.code}`}`);
  }
  await removeRules(dev);
  await removeIdleChains();
}
