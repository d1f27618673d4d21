// Published ports: Docker's PortBindings (`"80/tcp": [{HostIp, HostPort}]`, a HostPort of ''
// or a range 'a-b') turned into the concrete mappings the portmap plugin programs as kernel
// NAT rules, so they keep answering while berthd is down. Host ports are checked free (no
// other container's, no host socket's) before a container takes them.

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

/** A wanted mapping: hostPorts [lo, hi] (0, 0 for any). */
export interface PortRequest {
  containerPort: number;
  protocol: PortMapping['protocol'];
  hostIP: string;
  hostPorts: [number, number];
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
 * random host port; a binding without a HostIp on `defaultIp` (the network's host_binding_ipv4).
 */
export function portRequests(
  bindings: PortMap | null | undefined,
  exposed: string[],
  publishAll: boolean,
  defaultIp = '0.0.0.0',
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
      out.push({ containerPort: port, protocol, hostIP: b.HostIp || defaultIp, hostPorts: [lo, hi] });
    }
  }
  if (publishAll)
    for (const key of exposed)
      if (!keys.has(key)) {
        const { port, protocol } = parsePortKey(key);
        out.push({ containerPort: port, protocol, hostIP: defaultIp, hostPorts: [0, 0] });
      }
  return out;
}

/** Whether a host socket may bind the port now (a free port, as the kernel sees it). */
function bindable(ip: string, port: number, protocol: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const s = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
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
    s.listen({ port, host: ip, exclusive: true }, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const key = (ip: string, port: number, proto: string) => `${ip}:${port}/${proto}`;
const clash = (used: Set<string>, ip: string, port: number, proto: string) =>
  used.has(key(ip, port, proto)) ||
  used.has(key('0.0.0.0', port, proto)) ||
  (ip === '0.0.0.0' && [...used].some((u) => u.endsWith(`:${port}/${proto}`)));

/**
 * Concrete mappings for `requests`: a given port must be free (409 with Docker's message if a
 * container or a host socket holds it), a range takes its first free port, 0 a kernel-chosen one.
 */
export async function allocatePorts(requests: PortRequest[], used: Set<string>): Promise<PortMapping[]> {
  const out: PortMapping[] = [];
  const taken = new Set(used);
  for (const r of requests) {
    let got: number | undefined;
    if (r.hostPorts[0] === 0) {
      for (let i = 0; i < 20 && got === undefined; i++) {
        const p = await bindable(r.hostIP, 0, r.protocol);
        if (p && !clash(taken, r.hostIP, p, r.protocol)) got = p;
      }
    } else {
      for (let p = r.hostPorts[0]; p <= r.hostPorts[1] && got === undefined; p++) {
        if (!clash(taken, r.hostIP, p, r.protocol) && (await bindable(r.hostIP, p, r.protocol)) !== undefined) got = p;
      }
    }
    if (got === undefined) {
      const p = r.hostPorts[0] === r.hostPorts[1] ? String(r.hostPorts[0]) : `${r.hostPorts[0]}-${r.hostPorts[1]}`;
      throw conflict(`Bind for ${r.hostIP}:${p} failed: port is already allocated`);
    }
    taken.add(key(r.hostIP, got, r.protocol));
    out.push({ hostPort: got, containerPort: r.containerPort, protocol: r.protocol, hostIP: r.hostIP });
  }
  return out;
}

/**
 * A routed network's mappings (gateway mode routed): no host port, on every address, as
 * dockerd 28's port mapper makes them ("Host port ignored, because NAT is disabled").
 */
export function routedPorts(requests: PortRequest[]): PortMapping[] {
  return requests.map((r) => ({ hostPort: 0, containerPort: r.containerPort, protocol: r.protocol, hostIP: '0.0.0.0' }));
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
