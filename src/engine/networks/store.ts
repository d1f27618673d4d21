// The networks' store and IPAM: records of Docker's network objects under
// `<data-root>/networks/<id>.json` (the predefined `bridge`, `host` and `none`, and user-defined
// bridge, macvlan and ipvlan networks), found as dockerd finds them, and the subnets they take: a free IPv4 one
// picked for a new network or the default bridge, a user's (IPv4 or IPv6) checked against the
// other networks, the endpoint addresses a container asks for checked against them. Knows
// nothing of containers or of CNI.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DurableWriter, writeFileAtomicSync } from '../../common/atomic.js';
import { isIPv4, isIPv6 } from 'node:net';
import { BerthError, conflict, forbidden, invalid, NOT_SWARM_MANAGER, notFound, systemError, unsupported } from '../../errors.js';
import { contains, firstHost, formatCidr, hostRoutes, overlaps, parseCidr, parseIp, pickSubnet, type Cidr } from '../../network/subnet.js';
import {
  contains6,
  firstFree64,
  firstHost6,
  formatCidr6,
  overlaps6,
  parseCidr6,
  parseIp6,
  ulaPool,
  type Cidr6,
} from '../../network/ip6.js';
import { engineId } from '../engine-id.js';
import { labelMatch } from '../../common/filters.js';
import { parseLink } from '../links.js';
import { checkSubLinkOptions, isSubLink, planParent, type ParentPlan, type SubLinkDriver } from './sublink.js';
import type { EndpointIpamConfig, EndpointRequest, EndpointSettings, IpamConfig, NetworkCreateRequest, NetworkRecord } from '../types.js';

export const BRIDGE_NAME_OPT = 'com.docker.network.bridge.name';
/** The MTU of the bridge and its containers' interfaces, as dockerd's bridge driver takes it. */
export const MTU_OPT = 'com.docker.network.driver.mtu';
/** Whether containers on the network reach each other (dockerd's bridge option; true unless false). */
export const ICC_OPT = 'com.docker.network.bridge.enable_icc';
/** Whether the subnet's traffic out is masqueraded (true unless false). */
export const MASQUERADE_OPT = 'com.docker.network.bridge.enable_ip_masquerade';
/** The host address a port published on the network binds when its HostIp is empty. */
export const HOST_BINDING_OPT = 'com.docker.network.bridge.host_binding_ipv4';
/** The names of the network's interfaces in its containers: PREFIX0, PREFIX1… where `eth` would be. */
export const IFACE_PREFIX_OPT = 'com.docker.network.container_iface_prefix';
/** How the network's IPv4 reaches out and is reached (dockerd 28): nat, nat-unprotected, routed or isolated. */
export const GW_MODE4_OPT = 'com.docker.network.bridge.gateway_mode_ipv4';
/** The same for its IPv6 (dockerd 28), in ip6tables. */
export const GW_MODE6_OPT = 'com.docker.network.bridge.gateway_mode_ipv6';
/** The bridge gets no IPv4 address (its gateway is elsewhere, or there is none). */
export const INHIBIT_IPV4_OPT = 'com.docker.network.bridge.inhibit_ipv4';
/** The source address of the subnet's traffic out (SNAT), in place of MASQUERADE's choice. */
export const HOST_IPV4_OPT = 'com.docker.network.host_ipv4';
/** The same for the IPv6 subnet's traffic out (ip6tables' SNAT). */
export const HOST_IPV6_OPT = 'com.docker.network.host_ipv6';
/** Host interfaces (`a:b`) from which the containers' published ports are reached at their own addresses. */
export const TRUSTED_IFS_OPT = 'com.docker.network.bridge.trusted_host_interfaces';
/** The bridge options berth applies; any other is refused at create. */
const BRIDGE_OPTS = [
  BRIDGE_NAME_OPT,
  MTU_OPT,
  ICC_OPT,
  MASQUERADE_OPT,
  HOST_BINDING_OPT,
  IFACE_PREFIX_OPT,
  GW_MODE4_OPT,
  GW_MODE6_OPT,
  INHIBIT_IPV4_OPT,
  HOST_IPV4_OPT,
  HOST_IPV6_OPT,
  TRUSTED_IFS_OPT,
];
export const GATEWAY_MODES = ['nat', 'nat-unprotected', 'routed', 'isolated'] as const;
export type GatewayMode = (typeof GATEWAY_MODES)[number];
export const PREDEFINED = ['bridge', 'host', 'none'];

/** Go's strconv.ParseBool, which dockerd's bridge driver reads its switches with; undefined where it fails. */
export function goBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** A bridge network's switch (ICC_OPT, MASQUERADE_OPT): on unless set false (checked at create). */
export const bridgeSwitch = (n: NetworkRecord, opt: string): boolean => goBool(n.Options[opt] ?? 'true') !== false;

/** The HostIp of a port published on the network without one: its host_binding_ipv4 (IPv4 or IPv6, as dockerd 28 takes it), else every address. */
export const defaultHostIp = (n: NetworkRecord): string => n.Options[HOST_BINDING_OPT] || '0.0.0.0';

/** The network's IPv4 gateway mode (checked at create): nat unless set. */
export const gatewayMode4 = (n: NetworkRecord): GatewayMode => (n.Options[GW_MODE4_OPT] as GatewayMode | undefined) ?? 'nat';
/** The network's IPv6 gateway mode (checked at create): nat unless set. */
export const gatewayMode6 = (n: NetworkRecord): GatewayMode => (n.Options[GW_MODE6_OPT] as GatewayMode | undefined) ?? 'nat';

/** The trusted host interfaces, split as dockerd splits them (Go's FieldsFunc on ':': no empty names). */
export const trustedInterfaces = (n: NetworkRecord): string[] => (n.Options[TRUSTED_IFS_OPT] ?? '').split(':').filter(Boolean);

/** Whether the bridge has an IPv4 address: not with inhibit_ipv4 or gateway mode isolated, as dockerd's setupBridgeIPv4. */
export const bridgeHasV4 = (n: NetworkRecord): boolean =>
  goBool(n.Options[INHIBIT_IPV4_OPT] ?? 'false') !== true && gatewayMode4(n) !== 'isolated';

/**
 * Whether the bridge has an IPv6 address (and IPv6 at all): not in IPv6 gateway mode isolated,
 * where dockerd's setupBridgeIPv6 sets the bridge's disable_ipv6 and IPAM gives no IPv6 gateway.
 */
export const bridgeHasV6 = (n: NetworkRecord): boolean => gatewayMode6(n) !== 'isolated';

/**
 * Whether a new network with these options gets no IPv4 gateway address from IPAM (dockerd's
 * GetSkipGwAlloc): isolated, or inhibit_ipv4 on an internal network (no default route would use it).
 */
export const skipGateway4 = (opts: Record<string, string>, internal: boolean): boolean =>
  opts[GW_MODE4_OPT] === 'isolated' || (internal && goBool(opts[INHIBIT_IPV4_OPT] ?? 'false') === true);

/**
 * The checks of dockerd 28's bridge driver (fromLabels, parseNetworkOptions) on the options
 * added with gateway modes, in its words: Go's ParseBool and ParseIP, its gateway modes.
 */
export function checkGatewayOptions(opts: Record<string, string>, internal: boolean): void {
  for (const k of [GW_MODE4_OPT, GW_MODE6_OPT]) {
    const mode = opts[k];
    if (mode !== undefined && !(GATEWAY_MODES as readonly string[]).includes(mode))
      throw invalid(`failed to parse ${k} value: ${mode} (unknown gateway mode ${mode})`);
  }
  const inhibit = opts[INHIBIT_IPV4_OPT];
  if (inhibit !== undefined && goBool(inhibit) === undefined)
    throw invalid(
      `failed to parse ${INHIBIT_IPV4_OPT} value: ${inhibit} (strconv.ParseBool: parsing ${JSON.stringify(inhibit)}: invalid syntax)`,
    );
  for (const [k, family, fits] of [
    [HOST_IPV4_OPT, 'IPv4', isIPv4],
    [HOST_IPV6_OPT, 'IPv6', isIPv6],
  ] as const) {
    const host = opts[k];
    if (host !== undefined && !isIPv4(host) && !isIPv6(host)) throw invalid(`failed to parse ${k} value: ${host} (nil ip)`);
    // dockerd fails in iptables (SNAT to the other family's address); berth says why at once.
    if (host !== undefined && !fits(host))
      throw invalid(`${k} ${host}: the source address of ${family} traffic must be an ${family} address`);
  }
  for (const name of (opts[TRUSTED_IFS_OPT] ?? '').split(':').filter(Boolean))
    if (Buffer.byteLength(name) > 15 || /[\s"'\\]/.test(name))
      throw invalid(
        `${TRUSTED_IFS_OPT}: ${JSON.stringify(name)} is not an interface name iptables takes (1 to 15 bytes, no white space or quotes)`,
      );
  // dockerd's parseNetworkOptions, an error of no type: its API answers 500.
  if ((opts[GW_MODE4_OPT] === 'isolated' || opts[GW_MODE6_OPT] === 'isolated') && !internal)
    throw systemError("gateway mode 'isolated' can only be used for an internal network");
}
/** An endpoint's interface name in the container (dockerd 28), instead of the next `eth<N>`. */
export const IFNAME_OPT = 'com.docker.network.endpoint.ifname';
/** An endpoint's interface sysctls (dockerd 25): `net.X.Y.IFNAME.Z=V`, comma-separated. */
export const SYSCTLS_OPT = 'com.docker.network.endpoint.sysctls';
/** A `cni` network's config file. */
export const CNI_CONF_OPT = 'berth.cni.conf-file';
/** The names CNI takes for a network (libcni's rule); its address leases are kept in a folder of that name (network/leases.ts). */
const CNI_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const CNI_NAME_MAX = 255;

/**
 * The network's name to CNI: its own where CNI takes it (every network made before names were
 * free keeps its leases folder), else its ID — dockerd takes any name, spaces and slashes too.
 */
export function cniName(n: Pick<NetworkRecord, 'Name' | 'Id'>): string {
  return CNI_NAME.test(n.Name) && n.Name.length <= CNI_NAME_MAX ? n.Name : n.Id;
}

/** An ID prefix of more than one network: a 400, in dockerd's words (inspect words it its own way). */
export class AmbiguousNetwork extends BerthError {
  constructor(
    readonly ref: string,
    readonly count: number,
  ) {
    super('invalid', `network ${ref} is ambiguous (${count} matches found based on ID prefix)`);
  }
}

/** The modes that make no endpoint of berth's: no network of its own, or another container's. */
export function ownNetns(mode: string | undefined): boolean {
  return mode !== 'host' && !mode?.startsWith('container:');
}

/**
 * User-defined bridge, macvlan and ipvlan networks have the embedded DNS server (their
 * endpoints' names resolve); the default `bridge` has not, as dockerd's.
 */
export const hasDns = (n: NetworkRecord) => (n.Driver === 'bridge' && n.Name !== 'bridge') || isSubLink(n.Driver);

const isV6 = (c: IpamConfig) => c.Subnet.includes(':');

/** The network's IPv4 subnet (every bridge network has one). */
export function v4Config(n: NetworkRecord): IpamConfig | undefined {
  return n.IPAM.Config.find((c) => !isV6(c));
}

/** The network's IPv6 subnet where IPv6 is enabled (dockerd keeps one given without --ipv6, and leaves it unused). */
export function v6Config(n: NetworkRecord): IpamConfig | undefined {
  return n.EnableIPv6 ? n.IPAM.Config.find(isV6) : undefined;
}

/** A subnet's gateway: the one given, else the subnet's first address, as dockerd's default IPAM picks it. */
export function gatewayOf(c: IpamConfig): string {
  return c.Gateway || (isV6(c) ? firstHost6(parseCidr6(c.Subnet)) : firstHost(parseCidr(c.Subnet)));
}

/** The addresses asked for, as inspect shows them (Go's omitempty); null when none. */
function ipamAsked(c: EndpointIpamConfig | null | undefined): EndpointIpamConfig | null {
  const out: EndpointIpamConfig = {};
  if (c?.IPv4Address) out.IPv4Address = c.IPv4Address;
  if (c?.IPv6Address) out.IPv6Address = c.IPv6Address;
  if (c?.LinkLocalIPs?.length) out.LinkLocalIPs = [...c.LinkLocalIPs];
  return Object.keys(out).length ? out : null;
}

/** A container's endpoint on a network before it runs: what it asked for, no addresses yet. */
export const blankEndpoint = (networkId: string, req: EndpointRequest = {}): EndpointSettings => ({
  IPAMConfig: ipamAsked(req.IPAMConfig),
  Links: req.Links?.length ? [...req.Links] : null,
  Aliases: req.Aliases?.length ? [...req.Aliases] : null,
  MacAddress: req.MacAddress ?? '',
  NetworkID: networkId,
  EndpointID: '',
  Gateway: '',
  IPAddress: '',
  IPPrefixLen: 0,
  IPv6Gateway: '',
  GlobalIPv6Address: '',
  GlobalIPv6PrefixLen: 0,
  DNSNames: null,
  DriverOpts: req.DriverOpts && Object.keys(req.DriverOpts).length ? { ...req.DriverOpts } : null,
  GwPriority: req.GwPriority ?? 0,
  ...(req.MacAddress ? { DesiredMacAddress: req.MacAddress } : {}),
});

/** An endpoint as the API shows it: without the record's own DesiredMacAddress. */
export function apiEndpoint(ep: EndpointSettings): Omit<EndpointSettings, 'DesiredMacAddress'> {
  const { DesiredMacAddress: _asked, ...shown } = ep;
  return { ...shown, GwPriority: ep.GwPriority ?? 0 };
}

/**
 * moby's checks of `com.docker.network.endpoint.sysctls` (daemon/container_operations.go), its
 * words: each entry `net.X.Y.IFNAME.Z=V` with X ipv4, ipv6 or mpls and the interface's name
 * written IFNAME (or ifname: the docker CLI lowercases driver options). Then what dockerd 25+
 * finds only at start, when it writes them (libnetwork/osl), in its words too.
 */
export function endpointSysctlErrors(value: string): string[] {
  const errors: string[] = [];
  for (const sc of value.split(',')) {
    const p = sc.split('.');
    const head = [p[0], p[1], p[2], p[3], p.slice(4).join('.')];
    if (p.length < 5 || !['ipv4', 'ipv6', 'mpls'].includes(head[1]) || (head[3] !== 'IFNAME' && head[3] !== 'ifname'))
      errors.push(
        `unrecognised network interface sysctl '${sc}'; represent 'net.X.Y.ethN.Z=V' as 'net.X.Y.IFNAME.Z=V', 'X' must be 'ipv4', 'ipv6' or 'mpls'`,
      );
    else if (!sc.includes('=')) errors.push(`expected sysctl '${sc}' to have format name=value`);
    else if (sc.slice(0, sc.indexOf('=')).split('.').length !== 5) errors.push(`expected sysctl '${sc}' to have format net.X.Y.IFNAME.Z`);
  }
  return errors;
}

/** The endpoint's sysctls as files of the container's /proc/sys and their values, its interface named `ifName` (checked by endpointSysctlErrors). */
export function endpointSysctls(value: string | undefined, ifName: string): string[] {
  if (value === undefined) return [];
  return value.split(',').map((sc) => {
    const at = sc.indexOf('=');
    const [net, x, y, , z] = sc.slice(0, at).split('.');
    return `/proc/sys/${net}/${x}/${y}/${ifName}/${z}=${sc.slice(at + 1)}`;
  });
}

/**
 * An interface name the kernel takes (dev_valid_name): 1 to 15 bytes, not `.` or `..`, no `/`,
 * `:` or white space; and no `%`, which the kernel would take as a pattern to number. dockerd
 * checks none and fails the start in the kernel's words; berth refuses at create.
 */
export function ifNameError(name: string): string | undefined {
  const why =
    !name || Buffer.byteLength(name) > 15
      ? 'an interface name has 1 to 15 bytes'
      : name === '.' || name === '..'
        ? 'it is not a name'
        : /[/:%\s]/.test(name)
          ? 'an interface name has no /, :, % or white space'
          : name === 'lo'
            ? "the container's loopback interface has it"
            : undefined;
  return why && `invalid ${IFNAME_OPT} ${JSON.stringify(name)}: ${why}`;
}

/** moby's multierror.Join: one error as it is, several as a list. */
const joinErrors = (errors: string[]) =>
  errors.length === 1 ? errors[0] : `* ${errors.map((e) => e.replace(/\n/g, '\n\t')).join('\n* ')}`;

/**
 * A bridge endpoint's driver options: the interface's name and sysctls (dockerd 25 and 28 apply
 * them, and so does berth); the ones dockerd 20.10 reads as typed values and fails the start on,
 * refused in its words; and any other, which dockerd's bridge keeps in inspect with no effect (a
 * yes that does nothing), refused. `create`: dockerd words a create's errors with the network.
 */
export function checkBridgeDriverOpts(opts: Record<string, string>, container: string, network: string, create = true): void {
  const errors: string[] = [];
  for (const [k, v] of Object.entries(opts)) {
    if (['com.docker.network.endpoint.macaddress', 'com.docker.network.portmap', 'com.docker.network.endpoint.exposedports'].includes(k))
      throw invalid(
        `failed to create endpoint ${container} on network ${network}: trying to create an endpoint with an invalid endpoint configuration`,
      );
    if (k === SYSCTLS_OPT) errors.push(...endpointSysctlErrors(v));
    else if (k === IFNAME_OPT) {
      const e = ifNameError(v);
      if (e) errors.push(e);
    } else
      throw invalid(
        `endpoint driver option ${k} on network ${network}: berth's bridge driver applies no endpoint options but ${IFNAME_OPT} and ${SYSCTLS_OPT} (dockerd's keeps others without effect)`,
      );
  }
  if (!errors.length) return;
  const msg = `invalid endpoint settings:\n${joinErrors(errors)}`;
  throw invalid(create ? `invalid config for network ${network}: ${msg}` : msg);
}

/**
 * An endpoint's options checked against its network: fixed addresses in its subnets, link-local
 * ones, aliases, a MAC, driver options. dockerd 20.10 finds the address errors at start (the
 * IPv6 ones with a 500); berth at create, in the same words. `container`: its name, for dockerd's words.
 */
export function checkEndpoint(n: NetworkRecord, req: EndpointRequest, container: string, create = true): void {
  const { IPv4Address: ip, IPv6Address: ip6, LinkLocalIPs: local = [] } = req.IPAMConfig ?? {};
  if (n.Driver === 'cni') {
    // Its plugins own addresses and names; berth's DNS does not serve it.
    const what =
      ip || ip6 || local.length
        ? 'a fixed IP address'
        : req.Aliases?.length
          ? 'network-scoped aliases'
          : req.Links?.length
            ? 'links'
            : req.MacAddress
              ? 'a MAC address'
              : req.GwPriority
                ? 'a gateway priority (its plugins make its routes)'
                : '';
    if (what)
      throw invalid(`network ${n.Name} is configured by CNI config ${n.Options[CNI_CONF_OPT]}: berth cannot give its endpoints ${what}`);
    return;
  }
  checkBridgeDriverOpts(req.DriverOpts ?? {}, container, n.Name, create);
  // dockerd's ipvlan CreateEndpoint (an error of no type: a 500); an ipvlan link has its parent's MAC.
  if (req.MacAddress && n.Driver === 'ipvlan') throw systemError('ipvlan interfaces do not support custom mac address assignment');
  if ((ip || ip6 || local.length) && n.Name === 'bridge')
    throw invalid('user specified IP address is supported on user defined networks only');
  if (ip && !contains(parseCidr(v4Config(n)!.Subnet), parseIp(ip)))
    throw invalid(`no configured subnet or ip-range contain the IP address ${ip}`);
  if (ip6) {
    const c = n.IPAM.Config.find(isV6);
    if (!c) throw invalid('user specified IP address is supported only when connecting to networks with user configured subnets');
    const addr = parseIp6(ip6);
    if (!n.EnableIPv6) throw invalid(`Invalid address ${ip6}: network ${n.Name} has IPv6 disabled (create it with --ipv6)`);
    if (!contains6(parseCidr6(c.Subnet), addr))
      throw invalid(`Invalid address ${ip6}: It does not belong to any of this network's subnets`);
  }
  if (local.some((a) => !isIPv4(a) && !isIPv6(a))) throw invalid(`Invalid link-local IP address: [${local.join(' ')}]`);
  const notLocal = local.find((a) =>
    isIPv4(a) ? !contains(parseCidr('169.254.0.0/16'), parseIp(a)) : !contains6(parseCidr6('fe80::/10'), parseIp6(a)),
  );
  if (notLocal) throw invalid(`invalid link local IP address: ${notLocal}`);
  if (req.Aliases?.length && n.Name === 'bridge')
    throw invalid('network-scoped alias is supported only for containers in user defined networks');
  for (const l of req.Links ?? []) parseLink(l);
  if (req.MacAddress && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(req.MacAddress))
    throw invalid(`invalid MAC address: ${req.MacAddress}`);
}

export class NetworkStore {
  private readonly root: string;
  private readonly byId = new Map<string, NetworkRecord>();
  /** Records saved in a request's path: fsync'ed off the event loop, in order per record. */
  private readonly writer = new DurableWriter();

  /** `dataRoot`: the default bridge's device is `berth0` under the default roots only. */
  constructor(private readonly dataRoot: string) {
    this.root = join(dataRoot, 'networks');
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    for (const f of readdirSync(this.root)) {
      if (!f.endsWith('.json')) continue;
      try {
        const n = JSON.parse(readFileSync(join(this.root, f), 'utf8')) as NetworkRecord;
        this.byId.set(n.Id, n);
      } catch (e) {
        if (!(e instanceof SyntaxError)) throw e; // a torn write of a create that never answered
      }
    }
    for (const name of PREDEFINED) if (!this.byName(name)) this.predefine(name);
  }

  all(): NetworkRecord[] {
    return [...this.byId.values()];
  }

  byIdOf(id: string): NetworkRecord | undefined {
    return this.byId.get(id);
  }

  /** `host-gateway` in an --add-host: the default bridge's gateway, as dockerd's host-gateway-ip defaults to. */
  hostGatewayIp(): string {
    return gatewayOf(v4Config(this.byName('bridge')!)!);
  }

  byName(name: string): NetworkRecord | undefined {
    for (const n of this.byId.values()) if (n.Name === name) return n;
    return undefined;
  }

  /** By full ID, name, or unique ID prefix, as dockerd finds networks. */
  get(ref: string): NetworkRecord {
    const n = this.byId.get(ref) ?? this.byName(ref);
    if (n) return n;
    const hits = [...this.byId.values()].filter((x) => ref && x.Id.startsWith(ref));
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) throw new AmbiguousNetwork(ref, hits.length);
    throw notFound(`network ${ref} not found`);
  }

  /** Docker's filters: driver, id, label, name, scope, type (builtin/custom). */
  list(filters: Record<string, string[]> = {}): NetworkRecord[] {
    return [...this.byId.values()]
      .filter((n) => {
        if (filters.driver?.length && !filters.driver.includes(n.Driver)) return false;
        if (filters.id?.length && !filters.id.some((i) => n.Id.startsWith(i))) return false;
        if (filters.name?.length && !filters.name.some((x) => n.Name.includes(x))) return false;
        if (filters.label?.length && !filters.label.every((l) => labelMatch(n.Labels, l))) return false;
        if (filters.scope?.length && !filters.scope.includes('local')) return false;
        if (filters.type?.length && !filters.type.includes(PREDEFINED.includes(n.Name) ? 'builtin' : 'custom')) return false;
        return true;
      })
      .sort((a, b) => a.Created.localeCompare(b.Created));
  }

  private path(n: NetworkRecord): string {
    return join(this.root, `${n.Id}.json`);
  }

  /** At start-up, before berthd serves anything: written at once. */
  private saveAtStart(n: NetworkRecord): void {
    writeFileAtomicSync(this.path(n), JSON.stringify(n));
    this.byId.set(n.Id, n);
  }

  /**
   * In a request's path: in the store at once (so a second create of the name is a conflict),
   * durable when the promise resolves; a record that could not be written leaves the store.
   */
  private async save(n: NetworkRecord, isNew: boolean): Promise<void> {
    this.byId.set(n.Id, n);
    try {
      await this.writer.write(this.path(n), JSON.stringify(n));
    } catch (e) {
      if (isNew) this.byId.delete(n.Id);
      throw e;
    }
  }

  /** The record goes from the store and then the disk, after any write of it still in flight. */
  async delete(n: NetworkRecord): Promise<void> {
    this.byId.delete(n.Id);
    await this.writer.settled(this.path(n));
    await rm(this.path(n), { force: true });
  }

  private record(
    name: string,
    driver: NetworkRecord['Driver'],
    config: NetworkRecord['IPAM']['Config'],
    o: Partial<NetworkRecord> = {},
  ): NetworkRecord {
    return {
      Name: name,
      Id: randomBytes(32).toString('hex'),
      Created: new Date().toISOString(),
      Scope: 'local',
      Driver: driver,
      EnableIPv4: true,
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: config },
      Internal: false,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Options: {},
      Labels: {},
      ...o,
    };
  }

  /**
   * `--bip` given: the default bridge takes that subnet and gateway. A bridge with endpoints
   * (`inUse`) keeps its subnet until they are gone (their addresses are in use); its device is
   * made anew on the next start, with the new gateway address.
   */
  applyBip(bip: string, inUse: (n: NetworkRecord) => boolean, log: (msg: string) => void, deleteBridge: (dev: string) => void): void {
    const [gateway] = bip.split('/');
    const subnet = parseCidr(bip);
    if (subnet.bits > 30) throw invalid(`--bip ${bip}: the subnet is too small`);
    if (subnet.addr === parseIp(gateway))
      throw invalid(`--bip ${bip}: give the gateway's address in the subnet (e.g. ${firstHost(subnet)}/${subnet.bits}), not the subnet's`);
    const n = this.byName('bridge')!;
    const want = { Subnet: formatCidr(subnet), Gateway: gateway };
    const have = n.IPAM.Config[0];
    if (have?.Subnet === want.Subnet && have.Gateway === want.Gateway) return;
    if (inUse(n)) {
      log(`--bip ${bip}: the bridge network keeps ${have?.Subnet} while containers are on it`);
      return;
    }
    const clash = [...this.byId.values()].find((o) => o !== n && this.v4Subnets(o).some((c) => overlaps(c, subnet)));
    if (clash) throw conflict(`--bip ${bip} overlaps network ${clash.Name} (${clash.IPAM.Config[0].Subnet})`);
    // The old bridge and its rules (NAT for the old subnet) go; the next start makes them anew.
    const dev = n.Options[BRIDGE_NAME_OPT];
    if (dev) deleteBridge(dev);
    n.IPAM.Config = [want];
    this.saveAtStart(n);
  }

  /**
   * daemon.json `ipv6`: the default bridge takes `fixed-cidr-v6` (its gateway the first address,
   * as dockerd's), or without it a /64 of the host's ULA pool, as dockerd 27 and later (the one it
   * has kept, else the first no network takes); without `ipv6` it has none. A change waits, as
   * `--bip`'s, for the bridge to have no endpoints; then its device is made anew.
   */
  applyDefaultV6(
    ipv6: boolean,
    cidr: string | undefined,
    inUse: (n: NetworkRecord) => boolean,
    log: (msg: string) => void,
    deleteBridge: (dev: string) => void,
  ): void {
    const n = this.byName('bridge')!;
    const have = v6Config(n);
    const pooled = (c: IpamConfig) =>
      parseCidr6(c.Subnet).bits === 64 && contains6(ulaPool(engineId(this.dataRoot)), parseCidr6(c.Subnet).addr);
    const chosen = !ipv6 ? undefined : cidr ? parseCidr6(cidr) : have && pooled(have) ? parseCidr6(have.Subnet) : this.nextUla64();
    const want = chosen && { Subnet: formatCidr6(chosen), Gateway: firstHost6(chosen) };
    if (have?.Subnet === want?.Subnet && have?.Gateway === want?.Gateway) return;
    if (inUse(n)) {
      const asked = !ipv6 ? 'none' : (cidr ?? want!.Subnet);
      log(`ipv6 (${asked}): the bridge network keeps ${have?.Subnet ?? 'no IPv6 subnet'} while containers are on it`);
      return;
    }
    const clash =
      chosen && [...this.byId.values()].find((o) => o !== n && v6Config(o) && overlaps6(parseCidr6(v6Config(o)!.Subnet), chosen));
    if (clash) throw conflict(`fixed-cidr-v6 ${cidr} overlaps network ${clash.Name} (${v6Config(clash)!.Subnet})`);
    const dev = n.Options[BRIDGE_NAME_OPT];
    if (dev) deleteBridge(dev);
    n.IPAM.Config = [...n.IPAM.Config.filter((c) => !isV6(c)), ...(want ? [want] : [])];
    n.EnableIPv6 = !!want;
    this.saveAtStart(n);
  }

  /** `bridge` gets a subnet free on this host, and its device `berth0` under the default roots. */
  private predefine(name: string): void {
    if (name !== 'bridge') return this.saveAtStart(this.record(name, name === 'host' ? 'host' : 'null', []));
    const subnet = pickSubnet(this.taken());
    const n = this.record('bridge', 'bridge', [{ Subnet: formatCidr(subnet), Gateway: firstHost(subnet) }]);
    n.Options = {
      [BRIDGE_NAME_OPT]: this.dataRoot === '/var/lib/berth' ? 'berth0' : `berth${n.Id.slice(0, 10)}`,
      'com.docker.network.bridge.default_bridge': 'true',
      'com.docker.network.bridge.enable_ip_masquerade': 'true',
    };
    this.saveAtStart(n);
  }

  private v4Subnets(n: NetworkRecord): Cidr[] {
    return n.IPAM.Config.filter((c) => !isV6(c)).map((c) => parseCidr(c.Subnet));
  }

  /** IPv4 subnets a new network must not overlap: the host's routes and berth's networks. */
  private taken(): Cidr[] {
    return [...hostRoutes(), ...[...this.byId.values()].flatMap((n) => this.v4Subnets(n))];
  }

  /**
   * The IPv4 config of a new network: the user's as given (a Gateway only if given, as dockerd
   * shows it), else a free subnet and its gateway (none where `skipGw`, as dockerd allocates none).
   */
  private v4Create(w: IpamConfig | undefined, skipGw: boolean): IpamConfig {
    if (!w) {
      const subnet = pickSubnet(this.taken());
      return { Subnet: formatCidr(subnet), ...(skipGw ? {} : { Gateway: firstHost(subnet) }) };
    }
    const subnet = parseCidr(w.Subnet);
    if (subnet.bits > 30) throw invalid(`subnet ${w.Subnet} is too small`);
    if ([...this.byId.values()].some((n) => this.v4Subnets(n).some((c) => overlaps(c, subnet))))
      throw forbidden(`Pool overlaps with other one on this address space`);
    if (w.Gateway && !contains(subnet, parseIp(w.Gateway))) throw invalid(`no matching subnet for gateway ${w.Gateway}`);
    if (w.IPRange) {
      const r = parseCidr(w.IPRange);
      if (r.bits < subnet.bits || !contains(subnet, r.addr)) throw invalid(`no matching subnet for range ${w.IPRange}`);
    }
    return { Subnet: formatCidr(subnet), ...(w.Gateway ? { Gateway: w.Gateway } : {}), ...(w.IPRange ? { IPRange: w.IPRange } : {}) };
  }

  /** The first /64 of the host's ULA pool no network's IPv6 subnet overlaps (dockerd's words when none is left). */
  private nextUla64(): Cidr6 {
    const taken = [...this.byId.values()].flatMap((n) => (v6Config(n) ? [parseCidr6(v6Config(n)!.Subnet)] : []));
    const free = firstFree64(ulaPool(engineId(this.dataRoot)), taken);
    if (!free) throw notFound('could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network');
    return free;
  }

  /** The IPv6 config of a new network, checked (against other networks' only with IPv6 on: dockerd allocates no pool without it). */
  private v6Create(w: IpamConfig, enabled: boolean): IpamConfig {
    const subnet = parseCidr6(w.Subnet);
    if (subnet.bits > 126) throw invalid(`subnet ${w.Subnet} is too small`);
    const pools = (n: NetworkRecord) => (v6Config(n) ? [parseCidr6(v6Config(n)!.Subnet)] : []);
    if (enabled && [...this.byId.values()].some((n) => pools(n).some((c) => overlaps6(c, subnet))))
      throw forbidden(`Pool overlaps with other one on this address space`);
    if (w.Gateway && !(isIPv6(w.Gateway) && contains6(subnet, parseIp6(w.Gateway))))
      throw invalid(`no matching subnet for gateway ${w.Gateway}`);
    if (w.IPRange) {
      const r = parseCidr6(w.IPRange);
      if (r.bits < subnet.bits || !contains6(subnet, r.addr)) throw invalid(`no matching subnet for range ${w.IPRange}`);
    }
    return { Subnet: formatCidr6(subnet), ...(w.Gateway ? { Gateway: w.Gateway } : {}), ...(w.IPRange ? { IPRange: w.IPRange } : {}) };
  }

  /**
   * The `cni` network for a config file another wrote, made on first use under the config's
   * name and pointed at the file again when the add-on moved it; a berth network of that name is
   * a conflict. `made` is true when the record is new.
   */
  async useCni(name: string, file: string): Promise<{ n: NetworkRecord; made: boolean }> {
    const have = this.byName(name);
    if (have && have.Driver !== 'cni') throw conflict(`CNI config ${file} names network ${name}, which is berth's ${have.Driver} network`);
    if (have) {
      if (have.Options[CNI_CONF_OPT] !== file) {
        have.Options = { ...have.Options, [CNI_CONF_OPT]: file };
        await this.save(have, false);
      }
      return { n: have, made: false };
    }
    const n = this.record(name, 'cni', [], { Options: { [CNI_CONF_OPT]: file } });
    await this.save(n, true);
    return { n, made: true };
  }

  /** A user-defined bridge network, checked as dockerd checks it, with its subnet and bridge device name. */
  async create(req: NetworkCreateRequest): Promise<NetworkRecord> {
    const name = req.Name ?? '';
    if (!name) throw invalid('network name is required');
    if (PREDEFINED.includes(name)) throw forbidden(`operation is not permitted on predefined ${name} network `);
    if (this.byName(name)) throw conflict(`network with name ${name} already exists`);
    const driver = req.Driver || 'bridge';
    // overlay is swarm's: dockerd off a swarm answers in its swarm words (a 500 from 20.10).
    if (driver === 'overlay') throw systemError(NOT_SWARM_MANAGER);
    if (driver !== 'bridge' && !isSubLink(driver))
      throw invalid(`plugin "${driver}" not found: berth has the bridge, macvlan and ipvlan drivers`);
    if (req.EnableIPv4 === false) throw invalid('IPv6-only networks (EnableIPv4 false) are not supported by berth: a network has IPv4');
    // Swarm's networks and config-only networks: berthd has no swarm and no config networks.
    if (req.Ingress) throw forbidden('Ingress network can only be global scope network');
    if (req.Scope && req.Scope !== 'local') throw forbidden('cannot create a swarm scoped network when swarm is not active');
    if (req.ConfigOnly || req.ConfigFrom?.Network)
      throw unsupported('config-only networks (ConfigOnly, ConfigFrom) are not supported by berthd');
    if (isSubLink(driver)) return this.createSubLink(req, driver);
    // An option the bridge does not apply is refused rather than stored and ignored.
    const unknownOpt = Object.keys(req.Options ?? {}).find((k) => !BRIDGE_OPTS.includes(k));
    if (unknownOpt)
      throw unsupported(`network option "${unknownOpt}" is not supported by berth's bridge driver (only ${BRIDGE_OPTS.join(', ')})`);
    checkGatewayOptions(req.Options ?? {}, !!req.Internal);
    // dockerd's bridge driver's words (fromLabels) for a value it cannot read.
    for (const k of [ICC_OPT, MASQUERADE_OPT]) {
      const v = req.Options?.[k];
      if (v !== undefined && goBool(v) === undefined)
        throw invalid(`failed to parse ${k} value: ${v} (strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax)`);
    }
    // dockerd fails the container's start in the kernel's words; berth refuses the network.
    const prefix = req.Options?.[IFACE_PREFIX_OPT];
    const prefixError = prefix && ifNameError(`${prefix}0`);
    if (prefixError) throw invalid(`${IFACE_PREFIX_OPT} ${JSON.stringify(prefix)}: ${prefixError.slice(prefixError.indexOf(': ') + 2)}`);
    const binding = req.Options?.[HOST_BINDING_OPT];
    if (binding !== undefined && !isIPv4(binding) && !isIPv6(binding))
      throw invalid(`failed to parse ${HOST_BINDING_OPT} value: ${binding} (nil ip)`);
    const mtu = req.Options?.[MTU_OPT];
    if (mtu !== undefined && !/^[+-]?\d+$/.test(mtu))
      throw invalid(`failed to parse ${MTU_OPT} value: ${mtu} (strconv.Atoi: parsing ${JSON.stringify(mtu)}: invalid syntax)`);
    if (mtu !== undefined && Number(mtu) < 0) throw invalid(`invalid MTU ${mtu}: give 0 (the host's default) or more`);
    const { v4, v6 } = this.ipamCreate(req, 'bridge', skipGateway4(req.Options ?? {}, !!req.Internal));
    const id = randomBytes(32).toString('hex');
    const bridge = req.Options?.[BRIDGE_NAME_OPT] || `berth${id.slice(0, 10)}`;
    if (bridge.length > 15) throw invalid(`bridge name ${bridge} is longer than 15 characters`);
    if (existsSync(`/sys/class/net/${bridge}`)) throw conflict(`bridge ${bridge} already exists on this host`);
    const n = this.record(name, 'bridge', v6 ? [v4, v6] : [v4], {
      Id: id,
      EnableIPv6: !!req.EnableIPv6,
      Internal: !!req.Internal,
      Attachable: !!req.Attachable,
      Options: { ...(req.Options ?? {}), [BRIDGE_NAME_OPT]: bridge },
      Labels: { ...(req.Labels ?? {}) },
    });
    await this.save(n, true);
    return n;
  }

  /** A new network's IPAM, checked as dockerd checks it: its IPv4 config (a free subnet if none given) and its IPv6 one, if any. */
  private ipamCreate(req: NetworkCreateRequest, driver: string, skipGw: boolean): { v4: IpamConfig; v6?: IpamConfig } {
    if (Object.keys(req.IPAM?.Options ?? {}).length) throw unsupported("IPAM options are not supported by berth's default IPAM driver");
    if (req.IPAM?.Config?.some((c) => Object.keys(c.AuxiliaryAddresses ?? {}).length))
      throw unsupported('IPAM AuxiliaryAddresses are not supported by berth');
    if ((req.IPAM?.Driver ?? 'default') !== 'default')
      throw invalid(`IPAM driver "${req.IPAM?.Driver}" is not supported: berth has the default one only`);
    const wanted = (req.IPAM?.Config ?? []).filter((c) => {
      if (!c.Subnet && (c.Gateway || c.IPRange)) throw invalid('a gateway or an ip-range needs a subnet');
      return !!c.Subnet;
    }) as IpamConfig[];
    // As dockerd's getIpamConfig and bridge driver: a subnet per family at most (dockerd's macvlan
    // and ipvlan take more; berth's leases serve one per family).
    const w4 = wanted.filter((c) => !isV6(c)),
      w6 = wanted.filter(isV6);
    if (w4.length > 1 || w6.length > 1)
      throw driver === 'bridge'
        ? forbidden("bridge driver doesn't support multiple subnets")
        : unsupported(`berth's ${driver} driver takes one subnet per address family`);
    // IPv6 with no subnet: the next /64 of this host's ULA pool, as dockerd 27 and later (20.10 had no IPv6 pool).
    if (req.EnableIPv6 && !w6.length) w6.push({ Subnet: formatCidr6(this.nextUla64()) });
    const v6 = w6.length ? this.v6Create(w6[0], !!req.EnableIPv6) : undefined;
    return { v4: this.v4Create(w4[0], skipGw), v6 };
  }

  /**
   * A macvlan or ipvlan network, checked as dockerd's drivers check it (sublink.ts), its parent
   * too: the caller makes what `parentPlan` says is missing. Its Options are the ones given, as
   * dockerd shows them.
   */
  private async createSubLink(req: NetworkCreateRequest, driver: SubLinkDriver): Promise<NetworkRecord> {
    const opts = req.Options ?? {};
    checkSubLinkOptions(driver, opts);
    const { v4, v6 } = this.ipamCreate(req, driver, false);
    const id = randomBytes(32).toString('hex');
    planParent(id, opts, [...this.byId.values()], linkExists);
    const n = this.record(req.Name, driver, v6 ? [v4, v6] : [v4], {
      Id: id,
      EnableIPv6: !!req.EnableIPv6,
      Internal: !!req.Internal,
      Attachable: !!req.Attachable,
      Options: { ...opts },
      Labels: { ...(req.Labels ?? {}) },
    });
    await this.save(n, true);
    return n;
  }

  /** What a macvlan or ipvlan network's parent needs made now (the network itself aside). */
  parentPlan(n: NetworkRecord): ParentPlan {
    return planParent(
      n.Id,
      n.Options,
      [...this.byId.values()].filter((o) => o.Id !== n.Id),
      linkExists,
    );
  }
}

/** Whether the host has a link of that name (a name the kernel cannot have is none). */
const linkExists = (link: string) => /^[^/\s:]{1,15}$/.test(link) && link !== '.' && link !== '..' && existsSync(`/sys/class/net/${link}`);
