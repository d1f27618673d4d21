// The container's own files, Docker's "init layer": `hostname`, `hosts` and `resolv.conf`,
// written per container in its state folder and bind-mounted at /etc/hostname, /etc/hosts and
// /etc/resolv.conf. They are never written into the container's root (its upper dir), so no
// commit takes them. It never writes a nameserver the user or the host did not give: where the
// host's resolv.conf names only loopback servers (unreachable from the container's own network
// namespace), the file says so in a comment and names none (Docker would fall back to public
// servers here).

import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mount as OciMount } from '../oci/runtime-spec.js';

/** `--add-host NAME:host-gateway` entries with the address dockerd gives that word (its host-gateway-ip). */
export function resolveHostGateway(hosts: string[] | null | undefined, gateway: string): string[] | undefined {
  return hosts?.map((h) => (h.endsWith(':host-gateway') ? `${h.slice(0, -'host-gateway'.length)}${gateway}` : h));
}

export interface InitFileOptions {
  hostname: string;
  domainname?: string;
  /** `--add-host` entries, `name:ip` (Docker's ExtraHosts). */
  extraHosts?: string[] | null;
  dns?: string[] | null;
  dnsSearch?: string[] | null;
  dnsOptions?: string[] | null;
  /**
   * The embedded DNS server's address (a user-defined bridge network's gateway, or CONTAINER_DNS,
   * in the container's own namespace), written where dockerd writes its resolver's.
   */
  embeddedDns?: string;
  /**
   * The container's addresses on its networks, in the order it joined them (each network's IPv4,
   * then its IPv6 where it has one): a line for the hostname at each, as dockerd writes.
   */
  addresses?: string[];
  /**
   * On the host's network (`--network host`): the host's /etc/hosts (localhost's and the --add-host
   * lines instead where there are some, as dockerd's), and its resolv.conf's servers as they are, loopback ones too, which are reachable there.
   */
  hostNetwork?: boolean;
  /**
   * An address of the container's own network at which the host's 127.0.0.1 answers (a rootless
   * container's pasta gateway, network/pasta.ts): a host resolver on 127.0.0.1 is named by it.
   */
  loopbackVia?: string;
}

export interface InitPaths {
  HostnamePath: string;
  HostsPath: string;
  ResolvConfPath: string;
}

export function initPaths(dir: string): InitPaths {
  return { HostnamePath: join(dir, 'hostname'), HostsPath: join(dir, 'hosts'), ResolvConfPath: join(dir, 'resolv.conf') };
}

/** dockerd's embedded resolver address, in a container's own network namespace. */
export const CONTAINER_DNS = '127.0.0.11';

const isLoopback = (ip: string) => /^127\./.test(ip) || ip === '::1' || ip === '0:0:0:0:0:0:0:1';

/** The host's resolv.conf, or systemd-resolved's upstream one when the host names only its stub. */
const readHostFile = (p: string) => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};

export function hostResolvConf(): string {
  const main = readHostFile('/etc/resolv.conf');
  const servers = nameservers(main);
  if (servers.length && servers.every(isLoopback)) {
    const upstream = readHostFile('/run/systemd/resolve/resolv.conf');
    if (nameservers(upstream).some((s) => !isLoopback(s))) return upstream;
  }
  return main;
}

export function nameservers(text: string): string[] {
  return text
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((s): s is string => !!s);
}

/**
 * resolv.conf's text: the user's --dns/--dns-search/--dns-option, else the host's lines without
 * loopback servers (but 127.0.0.1, where the container reaches it at `loopbackVia`).
 */
export function resolvConf(
  host: string,
  o: Pick<InitFileOptions, 'dns' | 'dnsSearch' | 'dnsOptions' | 'embeddedDns' | 'hostNetwork' | 'loopbackVia'>,
): string {
  const lines = host.split('\n');
  const keep = (kw: string) => lines.filter((l) => new RegExp(`^\\s*${kw}\\s`).test(l)).map((l) => l.trim());
  const search = o.dnsSearch?.length ? [`search ${o.dnsSearch.join(' ')}`] : keep('(?:search|domain)');
  const options = o.dnsOptions?.length ? [`options ${o.dnsOptions.join(' ')}`] : keep('options');
  if (o.embeddedDns) {
    // As dockerd 20.10's sandbox (rebuildDNS), with berth's server (127.0.0.11, or a bridge's
    // gateway) in place of its resolver: the server, then the IPv6 servers (its resolver relays to
    // IPv4 ones only; berth's relays to both), and ndots:0 unless an option sets ndots. --dns
    // names where the server relays (engine/networks/dns.ts), as dockerd's.
    const given = o.dns?.length ? o.dns : nameservers(host).filter((s) => !isLoopback(s));
    const words = options.flatMap((l) => l.split(/\s+/).slice(1));
    if (!words.some((w) => w.startsWith('ndots:'))) words.push('ndots:0');
    return (
      [
        ...search,
        ...[o.embeddedDns, ...given.filter((s) => s.includes(':'))].map((s) => `nameserver ${s}`),
        `options ${words.join(' ')}`,
      ].join('\n') + '\n'
    );
  }
  const servers = o.dns?.length
    ? o.dns
    : nameservers(host)
        .map((s) => (o.loopbackVia && s === '127.0.0.1' ? o.loopbackVia : s))
        .filter((s) => o.hostNetwork || !isLoopback(s));
  const out = [...search, ...servers.map((s) => `nameserver ${s}`), ...options];
  if (!servers.length) {
    out.unshift(
      '# berth: the host names no nameserver reachable from the container (loopback only, or none);',
      '# give one with --dns. No public server is written here.',
    );
  }
  return out.join('\n') + '\n';
}

/**
 * /etc/hosts as dockerd's libnetwork writes it (20.10 and 28 alike): on the host's network with no
 * --add-host, the host's own file; else localhost's lines, the --add-host lines and, where the
 * container has an address, its name at that address. No address (`none`, `host`), no name line.
 */
export function hostsFile(o: InitFileOptions, hostHosts?: string): string {
  const extra = (o.extraHosts ?? [])
    .map((h) => {
      const i = h.indexOf(':');
      return i > 0 ? `${h.slice(i + 1).replace(/^\[|\]$/g, '')}\t${h.slice(0, i)}` : '';
    })
    .filter(Boolean);
  if (hostHosts !== undefined && !extra.length) return hostHosts;
  return (
    [
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'ff00::0\tip6-mcastprefix',
      'ff02::1\tip6-allnodes',
      'ff02::2\tip6-allrouters',
      ...extra,
      ...hostnameLines(o, o.addresses ?? []),
    ].join('\n') + '\n'
  );
}

/**
 * The hostname's lines at `addresses` (moby's updateHostsFile, at each network the container
 * joins): the FQDN, and the bare name where it has a dot (moby's makeHostsRecs).
 */
export function hostnameLines(o: Pick<InitFileOptions, 'hostname' | 'domainname'>, addresses: string[]): string[] {
  const fqdn = o.domainname ? `${o.hostname}.${o.domainname}` : o.hostname;
  const name = fqdn.includes('.') ? `${fqdn} ${fqdn.split('.')[0]}` : fqdn;
  return addresses.map((a) => `${a}\t${name}`);
}

/**
 * Writes the three files in `dir` and returns their bind mounts, skipping destinations the user
 * mounts; read-only in a container whose root is (`--read-only`), as dockerd binds them.
 */
export async function writeInitFiles(
  dir: string,
  o: InitFileOptions,
  userDestinations: string[] = [],
  readOnly = false,
): Promise<OciMount[]> {
  const p = initPaths(dir);
  // Off the thread: a file made on a busy disk can wait on its journal.
  await Promise.all([
    writeFile(p.HostnamePath, `${o.hostname}\n`, { mode: 0o644 }),
    writeFile(p.HostsPath, hostsFile(o, o.hostNetwork ? readHostFile('/etc/hosts') : undefined), { mode: 0o644 }),
    writeFile(p.ResolvConfPath, resolvConf(hostResolvConf(), o), { mode: 0o644 }),
  ]);
  return (
    [
      ['/etc/resolv.conf', p.ResolvConfPath],
      ['/etc/hostname', p.HostnamePath],
      ['/etc/hosts', p.HostsPath],
    ] as const
  )
    .filter(([d]) => !userDestinations.includes(d))
    .map(([destination, source]) => ({ destination, type: 'bind', source, options: ['rbind', 'rprivate', ...(readOnly ? ['ro'] : [])] }));
}

/**
 * A container that joins another's network namespace: its /etc/hosts and /etc/resolv.conf are
 * the donor's own files (as dockerd shares them for `container:` modes), so its address, its
 * search domains and its embedded DNS server are the donor's; `hostname`: its /etc/hostname too
 * (dockerd's joiner, not a pod's member).
 */
export function shareNetworkFiles(mounts: OciMount[], donor: InitPaths, hostname: boolean): OciMount[] {
  const from: Record<string, string> = {
    '/etc/hosts': donor.HostsPath,
    '/etc/resolv.conf': donor.ResolvConfPath,
    ...(hostname ? { '/etc/hostname': donor.HostnamePath } : {}),
  };
  return mounts.map((m) => (from[m.destination] ? { ...m, source: from[m.destination] } : m));
}
