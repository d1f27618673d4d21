// A rootless container's network through pasta (Debian's passt): a user-mode stack in the
// container's own network namespace that copies the host's addresses and routes there and
// carries its TCP and UDP out through the host's sockets, as podman's rootless networking does.
// Published ports are pasta's forwards (`-t`/`-u`): pasta listens on the host port and, for a
// client on another address than the host's loopback, hands the connection to the container
// from the client's own address. One pasta per container, started once its init runs and ended
// by its PID (kept in a file) when it stops. berthd tells pasta the addresses it copies (the
// host's uplink, read here as pasta reads it) and the MAC, so that inspect shows what the
// container has.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, readFile, rm } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { runChild } from '../native/child.js';
import { errorMessage, systemError, unsupported } from '../errors.js';
import { isErrno } from '../common/errno.js';
import { formatIp6 } from './ip6.js';
import type { PortMapping } from './ports.js';

const TUN = '/dev/net/tun';

/** One family's part of the host's uplink: its first address there, and the default route's gateway. */
export interface UplinkFamily {
  address: string;
  prefixLen: number;
  gateway: string;
}

/**
 * What pasta gives a container's namespace: the host's uplink copied (the interface of the
 * host's default route, its first address of each family and that route's gateway), and a MAC.
 * pasta maps the gateway's address to the host's loopback (no `--no-map-gw`): a connection to
 * the gateway's address is one to the host's 127.0.0.1 (::1 for IPv6).
 */
export interface PastaNet {
  v4?: UplinkFamily;
  v6?: UplinkFamily;
  mac: string;
}

const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;

/** /proc/net/route's default route of least metric (the first among equals): its interface and gateway. */
export function defaultRoute4(text: string): { ifname: string; gateway: string } | undefined {
  let best: { ifname: string; gateway: string; metric: number } | undefined;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] !== '00000000' || f[7] !== '00000000') continue;
    const flags = parseInt(f[3], 16);
    if (!(flags & RTF_UP) || !(flags & RTF_GATEWAY)) continue;
    // The kernel writes the address as the host's (little-endian) u32.
    const gateway = [6, 4, 2, 0].map((i) => parseInt(f[2].slice(i, i + 2), 16)).join('.');
    const metric = Number(f[6]);
    if (!best || metric < best.metric) best = { ifname: f[0], gateway, metric };
  }
  return best && { ifname: best.ifname, gateway: best.gateway };
}

/** /proc/net/ipv6_route's default route (::/0 through a gateway) of least metric: its interface and gateway. */
export function defaultRoute6(text: string): { ifname: string; gateway: string } | undefined {
  let best: { ifname: string; gateway: string; metric: number } | undefined;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^0{32}$/.test(f[0]) || f[1] !== '00' || /^0{32}$/.test(f[4])) continue;
    const flags = parseInt(f[8], 16);
    if (!(flags & RTF_UP) || !(flags & RTF_GATEWAY)) continue;
    const metric = parseInt(f[5], 16);
    if (!best || metric < best.metric) best = { ifname: f[9], gateway: formatIp6(BigInt(`0x${f[4]}`)), metric };
  }
  return best && { ifname: best.ifname, gateway: best.gateway };
}

/** A MAC of the container's own: locally administered, unicast, as dockerd's (since 26) are random. */
export function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0] & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * The host's uplink as pasta copies it by default: the interface of each family's default route
 * and its first address there (a global one for IPv6). berthd is in the host's network
 * namespace (its user namespace has no network namespace of its own), so these are the host's.
 * `mac`: the container's, asked for (`--mac-address`) or random.
 */
export async function pastaNet(mac?: string): Promise<PastaNet> {
  const [r4, r6] = await Promise.all(
    ['/proc/net/route', '/proc/net/ipv6_route'].map((p) =>
      readFile(p, 'utf8').catch((e: unknown) => {
        if (isErrno(e, 'ENOENT')) return ''; // no IPv6 in this kernel
        throw e;
      }),
    ),
  );
  const ifs = networkInterfaces();
  const family = (route: { ifname: string; gateway: string } | undefined, v6: boolean): UplinkFamily | undefined => {
    const a = route && ifs[route.ifname]?.find((x) => (v6 ? x.family === 'IPv6' && !x.scopeid : x.family === 'IPv4'));
    return a && route && { address: a.address, prefixLen: Number(a.cidr?.split('/')[1] ?? 0), gateway: route.gateway };
  };
  const net: PastaNet = { v4: family(defaultRoute4(r4), false), v6: family(defaultRoute6(r6), true), mac: mac || randomMac() };
  if (!net.v4 && !net.v6)
    throw unsupported(
      "rootless berthd: the host has no default route with an address to copy, which pasta (its containers' network) needs; use --network none",
    );
  return net;
}

/** pasta's forward spec of a mapping: `[ADDR/]HOSTPORT:CONTAINERPORT`. */
export function forwardSpec(m: PortMapping): string {
  const addr = m.hostIP && m.hostIP !== '0.0.0.0' ? `${m.hostIP}/` : '';
  return `${addr}${m.hostPort}:${m.containerPort}`;
}

/**
 * pasta's arguments for the network namespace pinned at `netns` with `ports` published. By path,
 * not the init's PID: the init waits to exec, not dumpable, and pasta keeps no capability to
 * open the namespaces of such a process; and pasta quits by itself once the pin goes.
 */
export function pastaArgs(netns: string, ports: PortMapping[], pidFile: string, net: PastaNet): string[] {
  const sctp = ports.find((p) => p.protocol === 'sctp');
  if (sctp) throw unsupported(`publishing ${sctp.containerPort}/sctp: pasta, a rootless berthd's network, carries TCP and UDP only`);
  const tcp = ports.filter((p) => p.protocol === 'tcp').map(forwardSpec);
  const udp = ports.filter((p) => p.protocol === 'udp').map(forwardSpec);
  return [
    // Root of a rootless berthd's user namespace is the user already: pasta stays it rather than
    // become nobody, who could not open the container's namespaces.
    '--runas',
    '0:0',
    '--config-net',
    '--quiet',
    '--pid',
    pidFile,
    // One option a forward: pasta takes an address for a whole option only.
    ...(tcp.length ? tcp.flatMap((f) => ['-t', f]) : ['-t', 'none']),
    ...(udp.length ? udp.flatMap((f) => ['-u', f]) : ['-u', 'none']),
    // Nothing from the container to the host's own ports unless published there.
    '-T',
    'none',
    '-U',
    'none',
    // What the host's uplink was read as (pastaNet), so that the container has what inspect shows.
    ...(net.v4 ? ['-a', net.v4.address, '-n', String(net.v4.prefixLen), '-g', net.v4.gateway] : []),
    ...(net.v6 ? ['-a', net.v6.address, '-g', net.v6.gateway] : []),
    ...(!net.v6 ? ['-4'] : !net.v4 ? ['-6'] : []),
    '--ns-mac-addr',
    net.mac,
    '--netns',
    netns,
  ];
}

/** Starts pasta for the container whose network namespace is pinned at `netns`; it runs on in the background until stopPasta. */
export async function startPasta(netns: string, ports: PortMapping[], pidFile: string, net: PastaNet): Promise<void> {
  const args = pastaArgs(netns, ports, pidFile, net);
  try {
    await access(TUN, constants.R_OK | constants.W_OK);
  } catch (e) {
    throw unsupported(
      `rootless berthd: its containers' network (pasta) needs ${TUN} readable and writable by its user (mode 0666, as udev makes it): ${errorMessage(e)}; as root: chmod 0666 ${TUN}, or run with --network none`,
    );
  }
  let r;
  try {
    r = await runChild('pasta', args);
  } catch (e) {
    if (isErrno(e, 'ENOENT'))
      throw systemError('pasta not found: a rootless berthd networks containers through it (apt-get install passt)', e);
    throw e;
  }
  if (r.code !== 0) throw systemError(`pasta ${args.join(' ')}: ${r.stderr.trim() || `exit status ${r.code ?? r.signal}`}`);
}

/** Ends the pasta whose PID `pidFile` holds (only if that PID is still pasta's) and removes the file. */
export async function stopPasta(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return;
    throw e;
  }
  try {
    // pasta runs as passt's binary (comm `passt`, `passt.avx2`) or as itself.
    if (pid > 0 && /^pas(ta|st)/.test(await readFile(`/proc/${pid}/comm`, 'utf8'))) process.kill(pid, 'SIGTERM');
  } catch (e) {
    if (!isErrno(e, 'ENOENT', 'ESRCH')) throw e; // gone already
  }
  await rm(pidFile, { force: true });
}
