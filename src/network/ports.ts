// Published ports: Docker's PortBindings (`"80/tcp": [{HostIp, HostPort}]`, a HostPort of ''
// or a range 'a-b') turned into the concrete mappings programmed as kernel NAT rules, so they
// keep answering while berthd is down. As dockerd 28 (its userland proxy off), a binding with no
// HostIp is one per address family the container has (`0.0.0.0` and `::`, on one host port);
// a binding on an IPv6 host address for a container with no IPv6 address maps nothing. Host
// ports are checked free (no other container's, no host socket's) before a container takes them.

import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { conflict, invalid } from '../errors.js';

export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}
/** Docker's PortMap: `<port>/<proto>` → bindings (null: exposed, not published). */
export type PortMap = Record<string, PortBinding[] | null>;

/** What portmap's `portMappings` capability takes. */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP: string;
}

/** A wanted mapping: hostPorts [lo, hi] (0, 0 for any), on each of hostIPs (one port for all of them). */
export interface PortRequest {
  containerPort: number;
  protocol: PortMapping['protocol'];
  hostIPs: string[];
  hostPorts: [number, number];
}

/** What the container has on the network that publishes its ports: the families it can be reached by. */
export interface PortFamilies {
  /** The HostIp of a binding without one (the network's host_binding_ipv4), else every address. */
  defaultIp?: string;
  /** The container has an IPv6 address there, reached by ip6tables' NAT. */
  v6?: boolean;
  /** A binding on an IPv6 address that maps nothing (no IPv6 address in the container): dockerd logs it. */
  skipped?: (key: string, hostIp: string) => void;
}

/** Whether a host address is IPv6's (`::` included). */
export const isV6 = (ip: string) => ip.includes(':');

/**
 * The host addresses of a binding, as dockerd 28's configurePortBindingIPv4/IPv6 choose them with
 * its userland proxy off: an IPv4 one if the container has IPv4 (always, on berth's networks);
 * an IPv6 one if it has IPv6; no HostIp is the default address, and a default of 0.0.0.0 is
 * both `0.0.0.0` and `::`.
 */
function hostIPsOf(hostIp: string | undefined, f: PortFamilies, key: string): string[] {
  const dflt = f.defaultIp ?? '0.0.0.0';
  const wanted = hostIp ? [hostIp] : dflt === '0.0.0.0' ? ['0.0.0.0', '::'] : [dflt];
  const out = wanted.filter((ip) => !isV6(ip) || f.v6);
  // Asked for explicitly (or as the network's default), not as the second family of "any address".
  const lost = wanted.filter((ip) => isV6(ip) && !f.v6 && (hostIp || dflt !== '0.0.0.0'));
  for (const ip of lost) f.skipped?.(key, ip);
  return out;
}

export function parsePortKey(key: string): { port: number; protocol: PortMapping['protocol'] } {
  const [p, proto = 'tcp'] = key.split('/');
  const port = Number(p);
  if (!/^\d+$/.test(p) || port < 1 || port > 65535) throw invalid(`invalid port specification: "${key}"`);
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw invalid(`invalid proto: ${proto}`);
  return { port, protocol: proto };
}

/**
 * The requests of PortBindings, and with PublishAllPorts every exposed port without one, on a
 * random host port; a binding's host addresses as `hostIPsOf` chooses them for the container.
 */
export function portRequests(
  bindings: PortMap | null | undefined,
  exposed: string[],
  publishAll: boolean,
  families: PortFamilies = {},
): PortRequest[] {
  const out: PortRequest[] = [];
  const keys = new Set(Object.keys(bindings ?? {}));
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { port, protocol } = parsePortKey(key);
    for (const b of list ?? []) {
      const hp = (b.HostPort ?? '').trim();
      const m = /^(\d+)(?:-(\d+))?$/.exec(hp);
      if (hp && !m) throw invalid(`invalid port specification: "${hp}"`);
      const lo = m ? Number(m[1]) : 0,
        hi = m?.[2] ? Number(m[2]) : lo;
      if (lo > 65535 || hi > 65535 || hi < lo) throw invalid(`invalid port specification: "${hp}"`);
      const hostIPs = hostIPsOf(b.HostIp, families, key);
      if (hostIPs.length) out.push({ containerPort: port, protocol, hostIPs, hostPorts: [lo, hi] });
    }
  }
  if (publishAll)
    for (const key of exposed)
      if (!keys.has(key)) {
        const { port, protocol } = parsePortKey(key);
        const hostIPs = hostIPsOf(undefined, families, key);
        if (hostIPs.length) out.push({ containerPort: port, protocol, hostIPs, hostPorts: [0, 0] });
      }
  return out;
}

/** Whether a host socket may bind the port now (a free port, as the kernel sees it). */
function bindable(ip: string, port: number, protocol: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      // An IPv6 address is tried alone: its family's bindings are apart from IPv4's, as the NAT rules are.
      const s = createSocket({ type: isV6(ip) ? 'udp6' : 'udp4', ipv6Only: isV6(ip) });
      s.once('error', () => {
        s.close();
        resolve(undefined);
      });
      s.bind(port, ip, () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
      return;
    }
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen({ port, host: ip, exclusive: true, ipv6Only: isV6(ip) }, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const key = (ip: string, port: number, proto: string) => `${ip}:${port}/${proto}`;
/** The unspecified address of ip's family. */
const anyOf = (ip: string) => (isV6(ip) ? '::' : '0.0.0.0');
/** Whether the port is taken for ip: by the same address or its family's unspecified one, or ip is that and any address of the family has it. */
const clash = (used: Set<string>, ip: string, port: number, proto: string) =>
  used.has(key(ip, port, proto)) ||
  used.has(key(anyOf(ip), port, proto)) ||
  (ip === anyOf(ip) && [...used].some((u) => u.endsWith(`:${port}/${proto}`) && isV6(u.slice(0, u.lastIndexOf(`:${port}/`))) === isV6(ip)));
/** Whether the port is free on every one of ips, for berth's containers and the host's sockets. */
async function freeOn(taken: Set<string>, ips: string[], port: number, proto: string): Promise<boolean> {
  for (const ip of ips) if (clash(taken, ip, port, proto) || (await bindable(ip, port, proto)) === undefined) return false;
  return true;
}
/** An address in Docker's `Bind for …` words: an IPv6 one in brackets. */
const shown = (ip: string) => (isV6(ip) ? `[${ip}]` : ip);

/**
 * Concrete mappings for `requests`, one per host address of each, on one port for all of them
 * (as dockerd gives `0.0.0.0` and `::` one port): a given port must be free (409 with Docker's
 * message if a container or a host socket holds it), a range takes its first free port, 0 a
 * kernel-chosen one.
 */
export async function allocatePorts(requests: PortRequest[], used: Set<string>): Promise<PortMapping[]> {
  const out: PortMapping[] = [];
  const taken = new Set(used);
  for (const r of requests) {
    let got: number | undefined;
    if (r.hostPorts[0] === 0) {
      for (let i = 0; i < 20 && got === undefined; i++) {
        const p = await bindable(r.hostIPs[0], 0, r.protocol);
        if (p && (await freeOn(taken, r.hostIPs, p, r.protocol))) got = p;
      }
    } else {
      for (let p = r.hostPorts[0]; p <= r.hostPorts[1] && got === undefined; p++) {
        if (await freeOn(taken, r.hostIPs, p, r.protocol)) got = p;
      }
    }
    if (got === undefined) {
      const p = r.hostPorts[0] === r.hostPorts[1] ? String(r.hostPorts[0]) : `${r.hostPorts[0]}-${r.hostPorts[1]}`;
      throw conflict(`Bind for ${shown(r.hostIPs[0])}:${p} failed: port is already allocated`);
    }
    for (const hostIP of r.hostIPs) {
      taken.add(key(hostIP, got, r.protocol));
      out.push({ hostPort: got, containerPort: r.containerPort, protocol: r.protocol, hostIP });
    }
  }
  return out;
}

/** The families a network publishes without NAT (its gateway mode routed for that family). */
export interface RoutedFamilies {
  v4: boolean;
  v6: boolean;
}

/** Whether a host address's family is routed. */
export const routedAddress = (ip: string, routed: RoutedFamilies) => (isV6(ip) ? routed.v6 : routed.v4);

/**
 * Concrete mappings for `requests`, each family as dockerd 28's port mappers make them: on a
 * routed family no host port, on the family's unspecified address ("Host port ignored, because
 * NAT is disabled", "Using address 0.0.0.0 / [::] because NAT is disabled"); on the others host
 * ports as `allocatePorts` takes them (one for a binding's addresses). In the order of the
 * requests' addresses: IPv4's first, as inspect lists them.
 */
export async function publishPorts(requests: PortRequest[], routed: RoutedFamilies, used: Set<string>): Promise<PortMapping[]> {
  const out: PortMapping[] = [];
  const taken = new Set(used);
  for (const r of requests) {
    const nat = r.hostIPs.filter((ip) => !routedAddress(ip, routed));
    const got = nat.length ? await allocatePorts([{ ...r, hostIPs: nat }], taken) : [];
    for (const m of got) taken.add(key(m.hostIP, m.hostPort, m.protocol));
    for (const ip of r.hostIPs)
      out.push(
        routedAddress(ip, routed)
          ? { hostPort: 0, containerPort: r.containerPort, protocol: r.protocol, hostIP: anyOf(ip) }
          : got.find((m) => m.hostIP === ip)!,
      );
  }
  return out;
}

/** Docker's NetworkSettings.Ports: every exposed or published port, with its host bindings (HostPort '' for none). */
export function portMap(mappings: PortMapping[], exposed: string[]): PortMap {
  const out: PortMap = {};
  for (const e of exposed) out[e] = null;
  for (const m of mappings)
    (out[`${m.containerPort}/${m.protocol}`] ??= []).push({ HostIp: m.hostIP, HostPort: m.hostPort ? String(m.hostPort) : '' });
  return out;
}

export const usedKey = key;
