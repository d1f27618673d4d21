// Link-local addresses (Docker's --link-local-ip) on a container's interface: CNI's bridge plugin
// sets only the IPAM's addresses, so these are added after its ADD, in the pinned network
// namespace, by `ip` under nsenter (berthd cannot setns itself). They go with the interface.

import { runChild } from '../native/child.js';
import { errorMessage, systemError } from '../errors.js';

/** Adds each address with the prefix dockerd gives it: /16 for IPv4 (169.254.0.0/16), /64 for IPv6 (fe80::/64). */
export async function addLinkLocal(netns: string, ifName: string, ips: string[]): Promise<void> {
  for (const ip of ips) {
    const args = ip.includes(':')
      ? ['-6', 'addr', 'add', `${ip}/64`, 'dev', ifName]
      : ['addr', 'add', `${ip}/16`, 'brd', '+', 'dev', ifName];
    let r;
    try {
      r = await runChild('nsenter', [`--net=${netns}`, 'ip', ...args]);
    } catch (e) {
      throw systemError(`nsenter ip ${args.join(' ')}: ${errorMessage(e)} (are util-linux and iproute2 installed?)`, e);
    }
    if (r.code !== 0) throw systemError(`link-local address ${ip} on ${ifName}: ${r.stderr.trim() || `exit status ${r.code}`}`);
  }
}
