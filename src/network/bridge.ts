// A bridge network as a CNI configuration list: `bridge` (the host bridge, the veth pair, the
// gateway address) with `host-local` IPAM keeping its leases under berth's exec-root, and
// `portmap` when the container publishes ports (kernel DNAT, with SNAT for connections from
// the host's 127.0.0.1, which needs route_localnet on the bridge: the plugin sets it). NAT out,
// forwarding and isolation are the network's rules (iptables.ts), set once, not per container.

import { existsSync } from 'node:fs';
import { runChild } from '../native/child.js';
import { systemError } from '../errors.js';
import type { NetConfList, PluginConf } from './cni.js';
import { removeIdleChains, removeRules } from './iptables.js';
import { formatIp, parseCidr } from './subnet.js';

export interface BridgeNetwork {
  /** The network's name, which is the CNI network name too (rules carry it in their comments). */
  name: string;
  /** The host bridge device. */
  bridge: string;
  subnet: string;
  gateway: string;
  /** Leases come from this CIDR inside the subnet (Docker's --ip-range). */
  ipRange?: string;
  /** No outbound NAT and no default route. */
  internal: boolean;
  mtu?: number;
}

export function bridgeConfList(net: BridgeNetwork, ipamDir: string, opts: { ports: boolean }): NetConfList {
  const range: Record<string, string> = { subnet: net.subnet, gateway: net.gateway };
  if (net.ipRange) {
    // host-local leases [rangeStart, rangeEnd]: the range's addresses less the subnet's network and broadcast.
    const r = parseCidr(net.ipRange),
      sub = parseCidr(net.subnet);
    const end = (c: { addr: number; bits: number }) => c.addr + 2 ** (32 - c.bits) - 1;
    range.rangeStart = formatIp(Math.max(r.addr, sub.addr + 1));
    range.rangeEnd = formatIp(Math.min(end(r), end(sub) - 1));
  }
  const plugins: PluginConf[] = [
    {
      type: 'bridge',
      bridge: net.bridge,
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
      ...(net.mtu ? { mtu: net.mtu } : {}),
      capabilities: { mac: true, ips: true },
      ipam: { type: 'host-local', ranges: [[range]], routes: net.internal ? [] : [{ dst: '0.0.0.0/0' }], dataDir: ipamDir },
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
