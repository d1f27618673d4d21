// Containers' endpoints on networks, on their pinned network namespaces: on berth's bridge
// networks made natively (network/bridge.ts: berthd's leases, rtnetlink; published ports as NAT
// rules of berthd's, network/port-nat.ts), on macvlan and ipvlan networks likewise (a link on
// the network's parent in place of the veth pair; no rules, no ports), on `cni` networks by
// their CNI plugins; the
// interfaces' names and the endpoint that gives the default routes chosen as dockerd 28 chooses
// them (gateway.ts). What each attach was about to make, then what it made, is kept under
// `<exec-root>/networks/<id>/` so that the teardown, after a berthd restart too, undoes exactly
// it. It keeps no container state of its own: the container's record carries its
// NetworkSettings, saved by the caller.

import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errno, isErrno } from '../../common/errno.js';
import { conflict, errorMessage, forbidden, invalid, withCleanup } from '../../errors.js';
import { addNetworkList, delNetworkList, type Attachment, type CniResult, type NetConfList } from '../../network/cni.js';
import {
  addBridgeEndpoint,
  delBridgeEndpoint,
  deleteBridge,
  planBridgeEndpoint,
  setGateway,
  type BridgeEndpoint,
  type BridgeNetwork,
  type Gateway,
} from '../../network/bridge.js';
import { declares, loadCniConfig } from '../../network/cni-config.js';
import { Leases } from '../../network/leases.js';
import { ensureNetworkRules } from '../../network/iptables.js';
import {
  addPortNat,
  forgetUdpFlows,
  ownerTag,
  planPortNat,
  removePortNat,
  routeLocalnet,
  sweepPortNat,
  type PortNat,
} from '../../network/port-nat.js';
import { netnsPath, pinNetns, unpinNetns } from '../../network/netns.js';
import { pastaNet, startPasta, stopPasta } from '../../network/pasta.js';
import { loopbackUp } from '../../network/loopback.js';
import { portMap, portRequests, publishPorts, routedAddress, usedKey, type PortMapping, type RoutedFamilies } from '../../network/ports.js';
import type { Spec } from '../../oci/runtime-spec.js';
import { writeFileAtomic } from '../../common/atomic.js';
import { hostnameLines, hostResolvConf, hostsFile, initPaths, resolvConf, resolveHostGateway } from '../init-files.js';
import type { ContainerRecord, EndpointRequest, EndpointSettings, NetworkRecord } from '../types.js';
import { resolverInNetns, type EmbeddedDns } from './dns.js';
import {
  blankEndpoint,
  BRIDGE_NAME_OPT,
  bridgeHasV4,
  bridgeHasV6,
  bridgeSwitch,
  skipGateway4,
  gatewayMode4,
  gatewayMode6,
  HOST_IPV4_OPT,
  HOST_IPV6_OPT,
  trustedInterfaces,
  defaultHostIp,
  ICC_OPT,
  MASQUERADE_OPT,
  checkEndpoint,
  CNI_CONF_OPT,
  cniName,
  gatewayOf,
  endpointSysctls,
  hasDns,
  IFACE_PREFIX_OPT,
  IFNAME_OPT,
  MTU_OPT,
  ownNetns,
  SYSCTLS_OPT,
  v4Config,
  v6Config,
  type NetworkStore,
} from './store.js';
import type { IpamConfig } from '../types.js';
import { chooseGateways, ifNames, nextIfName } from './gateway.js';
import { isSubLink, subLinkConfig } from './sublink.js';

/** What an attach was asked (written before it runs, so a berthd killed during it leaves a teardown to do) and, once done, returned. */
interface Attached {
  network: string;
  /**
   * The CNI plugins run: a `cni` network's list. After a bridge endpoint, a berthd before
   * port-nat.ts ran CNI's portmap for published ports: its DEL undoes those endpoints' rules.
   */
  list?: NetConfList;
  /** A bridge network's endpoint, made by berthd (absent: one made by CNI plugins alone, those of a berthd before too). */
  bridge?: BridgeEndpoint;
  /** A bridge endpoint's published ports, as NAT rules of berthd's (absent: none published). */
  nat?: PortNat;
  at: Attachment;
  result?: CniResult;
  ports: PortMapping[];
}

/** A rootless container's pasta's PID file, in its network state folder beside the CNI endpoints' files. */
const PASTA_PID = 'pasta.pid';

// moby's runconfig errors (400s) for joins its networks cannot make (updateNetworkSettings, disconnectFromNetwork).
const CONFLICT_HOST = 'container cannot be disconnected from host network or connected to host network';
const CONFLICT_SHARED = 'container sharing network namespace with another container or host cannot be connected to any other network';
const CONFLICT_NONE = 'container cannot be connected to multiple networks with one of the networks in private (none) mode';

/** Networks whose join makes no endpoint of berthd's: `none` (dockerd's null driver) and `host`. */
const joinsOnly = (n: NetworkRecord) => n.Driver === 'null' || n.Driver === 'host';

export interface EndpointsOptions {
  dataRoot: string;
  execRoot: string;
  containers: () => ContainerRecord[];
  /** The container's folder of init files (its /etc/hosts gets its address at start). */
  initDir: (id: string) => string;
  /** Docker's connect and disconnect events. */
  emit: (action: string, n: NetworkRecord, container?: string) => void;
  log: (msg: string) => void;
  /** A rootless berthd's: the default network is pasta's in each container (network/pasta.ts), not a bridge. */
  rootless?: boolean;
  /** daemon.json `ip6tables` (dockerd 28's default, true): IPv6 networks get ip6tables rules and published ports on IPv6 addresses. */
  ip6tables?: boolean;
}

export class Endpoints {
  private readonly stateRoot: string;
  private readonly netnsDir: string;
  /** The bridge networks' address leases (host-local's format), a folder per network. */
  readonly ipamDir: string;
  private readonly leases = new Leases();
  /** Teardowns still running, by container ID: a start waits for its container's. */
  private readonly tearing = new Map<string, Promise<void>>();
  /**
   * Networks whose rules (network/iptables.ts) this berthd has checked, or is checking: the
   * containers starting together on a new network share one check rather than queueing one
   * each (ten of compose's services waited ~0.3 s apiece in line for the same rules).
   */
  private readonly ruled = new Map<string, Promise<void>>();
  /** A file per bridge whose rules are set (or being set), named as the bridge. */
  private readonly rulesDir: string;
  /** Bridge work (rules set, bridges deleted), one at a time: a deletion and a start's rules never interleave. */
  private bridgeWork: Promise<void> = Promise.resolve();
  /** This berthd's mark on its containers' port rules. */
  private readonly owner: string;

  constructor(
    private readonly store: NetworkStore,
    private readonly dns: EmbeddedDns,
    private readonly opts: EndpointsOptions,
  ) {
    this.stateRoot = join(opts.execRoot, 'networks');
    this.netnsDir = join(opts.execRoot, 'netns');
    this.ipamDir = join(opts.execRoot, 'ipam');
    this.rulesDir = join(opts.execRoot, 'bridge-rules');
    this.owner = ownerTag(opts.execRoot);
  }

  /**
   * Endpoints and network namespace pins left by a berthd that ended before their teardown did
   * (killed mid-teardown, or mid-start): those of containers gone or no longer running are torn
   * down now. A running one's stay, and its exit (seen at adoption) tears them down as usual. (A
   * container with no endpoint, `--network none`, leaves only its pin: its folder of endpoints
   * goes before the pin.)
   */
  finishTeardowns(): void {
    let ids: string[] = [];
    try {
      ids = [...new Set([...listDir(this.stateRoot), ...listDir(this.netnsDir)])];
    } catch {
      return;
    }
    for (const id of ids) {
      let status = '';
      try {
        status = (JSON.parse(readFileSync(join(this.opts.dataRoot, 'containers', id, 'container.json'), 'utf8')) as ContainerRecord).State
          .Status;
      } catch (e) {
        if (!isErrno(e, 'ENOENT')) throw e; // removed: its endpoint goes too
      }
      if (status !== 'running' && status !== 'paused') void this.detach({ Id: id } as ContainerRecord);
      // A running container on a network whose resolver is in its namespace has it at 127.0.0.11 again.
      else if (this.servedIn(id)) void this.dns.serveIn(id, netnsPath(this.netnsDir, id));
    }
  }

  /** Whether one of the endpoints is on a network whose container keeps its server at 127.0.0.11 (dns.ts' resolverInNetns). */
  private servedInOn(eps: EndpointSettings[]): boolean {
    return eps.some((o) => this.needsResolverIn(o.NetworkID));
  }

  /** Whether the container has an endpoint on a network whose container keeps its server at 127.0.0.11 (its records under the exec-root). */
  private servedIn(id: string): boolean {
    return listDir(this.stateDir(id)).some((f) => this.needsResolverIn(f.replace(/\.json$/, '')));
  }

  private needsResolverIn(networkId: string): boolean {
    const n = this.store.byIdOf(networkId);
    return !!n && resolverInNetns(n);
  }

  /**
   * Once those teardowns are done, published-port rules of this berthd's that no endpoint record
   * names go (port-nat.ts' sweepPortNat). A rootless berthd makes none. Never rejects: a failure is logged.
   */
  async sweepPortRules(): Promise<void> {
    if (this.opts.rootless) return;
    await this.settled();
    try {
      for (const id of await sweepPortNat(this.owner, (c) => existsSync(this.stateDir(c))))
        this.opts.log(`published-port rules of container ${id.slice(0, 12)}, which has no endpoint record, removed`);
    } catch (e) {
      this.opts.log(`sweep of published-port rules left without an endpoint record: ${errorMessage(e)}`);
    }
  }

  /** Whether a CNI attachment on `n` is recorded under the exec-root (a container's endpoint, running or not yet torn down). */
  hasEndpoints(n: NetworkRecord): boolean {
    return listDir(this.stateRoot).some((id) => existsSync(join(this.stateRoot, id, `${n.Id}.json`)));
  }

  /** Runs `fn` after the bridge work queued before it; its failure is the caller's (the queue goes on). */
  private bridgeOp(fn: () => Promise<void>): Promise<void> {
    const run = this.bridgeWork.then(fn);
    this.bridgeWork = run.then(
      () => undefined,
      () => undefined,
    ); // the queue only orders; `run` carries the error
    return run;
  }

  /** Deletes a bridge and its rules, after the bridge work before it; then its rules' mark goes. */
  deleteBridge(dev: string): Promise<void> {
    return this.bridgeOp(async () => {
      await deleteBridge(dev);
      await rm(join(this.rulesDir, dev), { force: true });
    });
  }

  /** Deletes a bridge and its rules in the background (berthd's start), logging a failure. */
  deleteBridgeLater(dev: string): void {
    this.deleteBridge(dev).catch((e) => this.opts.log(`delete bridge ${dev}: ${errorMessage(e)}`));
  }

  /** The bridges whose rules a berthd set and has not seen removed (marked under the exec-root). */
  ruledBridges(): string[] {
    return listDir(this.rulesDir);
  }

  /** Waits for the teardowns under way (a network's removal). */
  async settled(): Promise<void> {
    await Promise.all(this.tearing.values());
  }

  /** The network is going: its rules are to be checked and its leases read again should one of its name come back. */
  forget(n: NetworkRecord): void {
    this.ruled.delete(n.Id);
    this.leases.forget(join(this.ipamDir, cniName(n)));
  }

  private stateDir(containerId: string): string {
    return join(this.stateRoot, containerId);
  }

  /** Host ports that running containers publish, as `ip:port/proto`. */
  private usedPorts(except: string): Set<string> {
    const used = new Set<string>();
    for (const c of this.opts.containers()) {
      if (c.Id === except) continue;
      for (const [k, list] of Object.entries(c.NetworkSettings?.Ports ?? {}))
        for (const b of list ?? []) if (b.HostPort) used.add(usedKey(b.HostIp || '0.0.0.0', Number(b.HostPort), k.split('/')[1]));
    }
    return used;
  }

  /** The spec's network namespace for the mode: none for host (berthd's), the other's pin for container:<id>, else a new one. */
  applyNamespace(spec: Spec, mode: string | undefined): void {
    const nss = spec.linux?.namespaces;
    if (!nss || ownNetns(mode)) return;
    const i = nss.findIndex((n) => n.type === 'network');
    if (i < 0) return;
    if (mode === 'host') {
      nss.splice(i, 1);
      // sysfs is mounted only by the user namespace that owns the network namespace, and a
      // rootless berthd's does not own the host's: the host's /sys is bound instead (read-only
      // unless privileged), as runc's and podman's rootless containers on the host's network have it.
      const sys = this.opts.rootless && spec.mounts?.find((m) => m.destination === '/sys' && m.type === 'sysfs');
      if (sys) Object.assign(sys, { type: 'bind', source: '/sys', options: ['rbind', ...(sys.options ?? [])] });
    } else nss[i] = { type: 'network', path: join(this.netnsDir, mode!.slice('container:'.length)) };
  }

  /**
   * For each of a container's endpoints, the default routes it gives: dockerd's choice among its
   * bridge, macvlan and ipvlan l2 networks (gateway.ts); a `cni` network's plugins make their own
   * routes, and an ipvlan l3 endpoint has no gateway (its routes on the link are its own).
   */
  private gatewaysOf(eps: EndpointSettings[]): Gateway[] {
    const nets = eps.map((ep) => this.store.get(ep.NetworkID));
    const bridges = nets.flatMap((n, i) => (n.Driver === 'bridge' || (isSubLink(n.Driver) && !subLinkConfig(n).onLink) ? [i] : []));
    const chosen = chooseGateways(
      bridges.map((i) => ({
        network: nets[i].Name,
        priority: eps[i].GwPriority ?? 0,
        internal: isSubLink(nets[i].Driver) ? subLinkConfig(nets[i]).internal : nets[i].Internal,
        v6: !!v6Config(nets[i]),
      })),
    );
    return eps.map((_, i) => chosen[bridges.indexOf(i)] ?? { v4: false, v6: false });
  }

  /**
   * A started container's network: its namespace pinned, then an endpoint on each of its
   * networks (the first gets the published ports; the interfaces are named, and the default
   * routes given, as dockerd does). On failure, what was made is undone.
   */
  async attach(rec: ContainerRecord, pid: number, linkHosts: string[] = []): Promise<void> {
    // none and host have nothing to make, but dockerd's sandbox joins them too: an endpoint ID and a connect event.
    for (const ep of Object.values(rec.NetworkSettings?.Networks ?? {})) {
      const n = this.store.byIdOf(ep.NetworkID);
      if (!n || !joinsOnly(n)) continue;
      ep.EndpointID = randomBytes(32).toString('hex');
      this.opts.emit('connect', n, rec.Id);
    }
    if (!ownNetns(rec.HostConfig.NetworkMode)) return;
    // A DEL still running for the last run would release this run's lease and rules (same ID).
    await this.tearing.get(rec.Id);
    const ns = await pinNetns(this.netnsDir, rec.Id, pid);
    const lo = loopbackUp(rec.Id, ns);
    const settings = (rec.NetworkSettings ??= { Networks: {}, Ports: {}, SandboxKey: '' });
    settings.SandboxKey = ns;
    const exposed = Object.keys(rec.Config.ExposedPorts ?? {});
    try {
      const eps = Object.entries(settings.Networks)
        .filter(([name]) => name !== 'none')
        .map(([, ep]) => ep);
      const bridge = (ep: EndpointSettings) => this.store.get(ep.NetworkID).Driver !== 'cni';
      const names = ifNames(
        eps.map((ep) => (bridge(ep) ? ep.DriverOpts?.[IFNAME_OPT] : undefined)),
        eps.map((ep) => this.store.get(ep.NetworkID).Options[IFACE_PREFIX_OPT] || undefined),
      );
      const gateways = this.opts.rootless ? [] : this.gatewaysOf(eps);
      for (const [i, ep] of eps.entries()) {
        const n = this.store.get(ep.NetworkID);
        const requests =
          i === 0
            ? portRequests(rec.HostConfig.PortBindings, exposed, !!rec.HostConfig.PublishAllPorts, {
                defaultIp: this.opts.rootless ? '0.0.0.0' : defaultHostIp(n),
                v6: this.natsV6(n),
                // dockerd 28's words, at its info level, with its userland proxy off.
                skipped: (key, ip) =>
                  this.opts.log(
                    `${rec.Id.slice(0, 12)} ${key} on ${ip}: Cannot map from IPv6 to an IPv4-only container because the userland proxy is disabled`,
                  ),
              })
            : [];
        // A family in gateway mode routed publishes at the container's address: no host port is taken.
        const routed = this.routedFamilies(n);
        const ignored = requests.some((r) =>
          r.hostIPs.some((ip) => routedAddress(ip, routed) && (r.hostPorts[0] || (ip !== '0.0.0.0' && ip !== '::'))),
        );
        if (ignored)
          this.opts.log(
            `${rec.Id.slice(0, 12)} on network ${n.Name}: host ports and addresses ignored, because NAT is disabled (gateway mode routed)`,
          );
        const ports = await publishPorts(requests, routed, this.usedPorts(rec.Id));
        if (this.opts.rootless) await this.addPasta(rec, ns, ep, ports);
        else await this.addEndpoint(rec, this.store.get(ep.NetworkID), ep, names[i], ports, gateways[i]);
        if (ports.length || i === 0) settings.Ports = portMap(ports, exposed);
      }
      await lo;
      const first = Object.values(settings.Networks)[0];
      // The hostname at each network's addresses, in the order they were joined, as dockerd's sandbox adds them.
      const addresses = Object.values(settings.Networks).flatMap((ep) => [ep.IPAddress, ep.GlobalIPv6Address].filter(Boolean));
      if (first?.IPAddress) {
        await writeFile(
          initPaths(this.opts.initDir(rec.Id)).HostsPath,
          hostsFile({
            hostname: rec.Config.Hostname ?? '',
            domainname: rec.Config.Domainname,
            // After --add-host's lines, as dockerd writes them.
            // A rootless container's host is at its pasta gateway (the host's loopback), not at a bridge's.
            extraHosts: [
              ...(resolveHostGateway(
                rec.HostConfig.ExtraHosts,
                this.opts.rootless ? first.Gateway || first.IPv6Gateway : this.store.hostGatewayIp(),
              ) ?? []),
              ...linkHosts,
            ],
            addresses,
          }),
        );
      }
    } catch (e) {
      const id = rec.Id.slice(0, 12);
      await lo.catch((l) => this.opts.log(`loopback of ${id} after a failed attach: ${errorMessage(l)}`));
      await this.detach(rec).catch((d) => this.opts.log(`network teardown of ${id} after a failed attach: ${errorMessage(d)}`));
      throw e;
    }
  }

  /**
   * A rootless berthd's endpoint: pasta in the container's namespace, with the published ports
   * (network/pasta.ts); its PID file in the container's network state, where detach finds it.
   * The endpoint shows the addresses pasta copied from the host's uplink and the MAC it set; a
   * host resolver on 127.0.0.1 is named in resolv.conf by pasta's gateway, which reaches it.
   */
  private async addPasta(rec: ContainerRecord, netns: string, ep: EndpointSettings, ports: PortMapping[]): Promise<void> {
    const dir = this.stateDir(rec.Id);
    await mkdir(dir, { recursive: true });
    const net = await pastaNet(ep.DesiredMacAddress || ep.MacAddress);
    await startPasta(netns, ports, join(dir, PASTA_PID), net);
    Object.assign(ep, {
      EndpointID: randomBytes(32).toString('hex'),
      Gateway: net.v4?.gateway ?? '',
      IPAddress: net.v4?.address ?? '',
      IPPrefixLen: net.v4?.prefixLen ?? 0,
      IPv6Gateway: net.v6?.gateway ?? '',
      GlobalIPv6Address: net.v6?.address ?? '',
      GlobalIPv6PrefixLen: net.v6?.prefixLen ?? 0,
      MacAddress: net.mac,
    });
    const hc = rec.HostConfig;
    if (!hc.Dns?.length && net.v4)
      await writeFile(
        initPaths(this.opts.initDir(rec.Id)).ResolvConfPath,
        resolvConf(hostResolvConf(), { dnsSearch: hc.DnsSearch, dnsOptions: hc.DnsOptions, loopbackVia: net.v4.gateway }),
      );
    this.opts.emit('connect', this.store.get(ep.NetworkID), rec.Id);
  }

  /** The families `n` publishes without NAT: those in gateway mode routed (a bridge network's; a rootless berthd's pasta NATs). */
  private routedFamilies(n: NetworkRecord): RoutedFamilies {
    const bridge = !this.opts.rootless && n.Driver === 'bridge';
    return { v4: bridge && gatewayMode4(n) === 'routed', v6: bridge && gatewayMode6(n) === 'routed' };
  }

  /** Whether a container on `n` is published on IPv6 addresses: an IPv6 bridge network's, with ip6tables on. */
  private natsV6(n: NetworkRecord): boolean {
    return !this.opts.rootless && this.opts.ip6tables !== false && n.Driver === 'bridge' && !!v6Config(n);
  }

  /** The network's rules, checked once; a failed check is forgotten, so the next start tries again. */
  private ensureRules(n: NetworkRecord): Promise<void> {
    let ruling = this.ruled.get(n.Id);
    if (!ruling) {
      const bridge = n.Options[BRIDGE_NAME_OPT];
      ruling = this.bridgeOp(async () => {
        // Marked before they are set: a berthd killed before the bridge exists (or after it went
        // but before its rules did) leaves no bridge to find at its next start, only this mark.
        await mkdir(this.rulesDir, { recursive: true });
        await writeFile(join(this.rulesDir, bridge), '');
        await ensureNetworkRules({
          bridge,
          subnet: v4Config(n)!.Subnet,
          subnet6: this.natsV6(n) ? v6Config(n)!.Subnet : undefined,
          internal: n.Internal,
          icc: bridgeSwitch(n, ICC_OPT),
          masquerade: bridgeSwitch(n, MASQUERADE_OPT),
          gatewayMode: gatewayMode4(n),
          hostIp: n.Options[HOST_IPV4_OPT],
          gatewayMode6: gatewayMode6(n),
          hostIp6: n.Options[HOST_IPV6_OPT],
        });
      });
      this.ruled.set(n.Id, ruling);
      ruling.catch(() => {
        if (this.ruled.get(n.Id) === ruling) this.ruled.delete(n.Id);
      });
    }
    return ruling;
  }

  /** A bridge network as its endpoints are made: from its record. */
  private bridgeOf(n: NetworkRecord): BridgeNetwork {
    const v6 = v6Config(n);
    const subnet = (c: IpamConfig) => ({ subnet: c.Subnet, gateway: gatewayOf(c), ipRange: c.IPRange });
    const v4 = v4Config(n)!;
    const link = isSubLink(n.Driver) ? subLinkConfig(n) : undefined;
    if (link) {
      const { internal, ...made } = link;
      return { name: cniName(n), bridge: '', v4: subnet(v4), v6: v6 && subnet(v6), internal, link: made };
    }
    return {
      name: cniName(n),
      bridge: n.Options[BRIDGE_NAME_OPT],
      // Without a gateway from IPAM (isolated; inhibit_ipv4 on an internal network) the first address is a container's, as under dockerd.
      v4: { ...subnet(v4), noGateway: !v4.Gateway && skipGateway4(n.Options, n.Internal) },
      // IPv6 gateway mode isolated: no IPv6 gateway from IPAM, none on the bridge (dockerd's GetSkipGwAlloc, setupBridgeIPv6).
      v6: v6 && { ...subnet(v6), noGateway: !v6.Gateway && !bridgeHasV6(n) },
      v4Address: bridgeHasV4(n),
      v6Address: bridgeHasV6(n),
      internal: n.Internal,
      mtu: Number(n.Options[MTU_OPT]) || undefined,
    };
  }

  /** A `cni` network's list, read from its file as it is now; published ports need a plugin that takes them. */
  private async externalList(n: NetworkRecord, ports: PortMapping[]): Promise<NetConfList> {
    const file = n.Options[CNI_CONF_OPT];
    const list = await loadCniConfig(file);
    if (ports.length && !declares(list, 'portMappings'))
      throw invalid(`cannot publish ports on network ${n.Name}: no plugin in its CNI config ${file} has the portMappings capability`);
    return list;
  }

  private async addEndpoint(
    rec: ContainerRecord,
    n: NetworkRecord,
    ep: EndpointSettings,
    ifName: string,
    ports: PortMapping[],
    gateway: Gateway,
  ): Promise<void> {
    const bridge = n.Driver === 'cni' ? undefined : this.bridgeOf(n);
    if (n.Driver === 'bridge') await this.ensureRules(n);
    const list = bridge ? undefined : await this.externalList(n, ports);
    const capabilityArgs: Record<string, unknown> = {};
    if (ports.length && !bridge) capabilityArgs.portMappings = ports;
    // A `cni` network's endpoints take no fixed address or MAC (checkEndpoint refuses them).
    const asked = ep.IPAMConfig ?? {};
    const at: Attachment = {
      containerId: rec.Id,
      netns: rec.NetworkSettings!.SandboxKey,
      ifName,
      capabilityArgs,
      // A cni network's plugins take them as CNI_ARGS; a bridge endpoint keeps them with no effect, as dockerd's bridge.
      ...(ep.DriverOpts && n.Driver === 'cni' ? { args: ep.DriverOpts } : {}),
    };
    // A bridge endpoint's every part (addresses, MAC, veth name) is chosen before the record.
    const native =
      bridge &&
      (await planBridgeEndpoint(this.leases, bridge, join(this.ipamDir, bridge.name), at, {
        ipv4: asked.IPv4Address,
        ipv6: bridge.v6 ? asked.IPv6Address : undefined,
        // A record made before DesiredMacAddress was kept has the asked MAC in MacAddress until its first start.
        mac: ep.DesiredMacAddress || ep.MacAddress || undefined,
      }));
    // Published ports go to the container's address of the host address's family.
    const v4 = native?.ips?.find((ip) => !ip.includes(':'));
    const v6 = native?.ips?.find((ip) => ip.includes(':'));
    // Direct access to published ports at the container's address: a routed family's, or from trusted interfaces (none into an internal one).
    const routed = this.routedFamilies(n);
    const trusted = trustedInterfaces(n);
    const direct =
      !n.Internal && (routed.v4 || routed.v6 || trusted.length) ? { bridge: n.Options[BRIDGE_NAME_OPT], routed, trusted } : undefined;
    const nat = v4 && ports.length ? planPortNat(rec.Id, this.owner, ports, v4, direct, v6) : undefined;
    const dir = this.stateDir(rec.Id);
    const file = join(dir, `${n.Id}.json`);
    const attached: Attached = { network: n.Name, list, bridge: native, nat, at, ports };
    // Written ahead: an attach cut short by a kill (its address leased, its veth made) is undone
    // by the teardown the next berthd runs for it, before the container's next start asks again.
    // Not fsync'ed: the exec-root is a tmpfs, and a machine's crash takes the veths and leases too.
    // A bridge endpoint's record is whole then; a `cni` network's gets its ADD's result after.
    const volatile = { durable: false };
    const record = () => writeFileAtomic(file, JSON.stringify(attached), 0o600, volatile);
    let result: CniResult;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await record();
      if (native) {
        // The ports' rules are added while the binding makes the veth pair; both run to their end before any undo.
        const [made, ported] = await Promise.allSettled([
          addBridgeEndpoint(this.leases, bridge, native, at, {
            linkLocal: asked.LinkLocalIPs,
            sysctls: endpointSysctls(ep.DriverOpts?.[SYSCTLS_OPT], ifName),
            gateway,
          }),
          nat && addPortNat(nat),
        ]);
        if (made.status === 'rejected') throw made.reason;
        if (ported.status === 'rejected') throw ported.reason;
        result = made.value;
        // On the bridge, which the binding may just have made.
        if (nat?.rules.length) await routeLocalnet(bridge.bridge);
        // As portmap: a failure leaves only a stale flow bypassing the new rules, logged, and the start goes on.
        if (nat)
          await forgetUdpFlows(ports).catch((e) =>
            this.opts.log(`stale UDP conntrack entries for the published ports of ${rec.Id.slice(0, 12)}: ${errorMessage(e)}`),
          );
      } else result = await addNetworkList(list!, at);
    } catch (e) {
      const undo = await this.undoEndpoint(attached).then(
        () => [],
        (d: Error) => [d],
      );
      await rm(file, { force: true });
      throw withCleanup(e, undo);
    }
    if (!native) {
      attached.result = result;
      await record();
    }
    const ip = result.ips?.find((x) => !x.address.includes(':'));
    const ip6 = result.ips?.find((x) => x.address.includes(':'));
    const iface = result.interfaces?.find((x) => x.sandbox && x.name === ifName);
    Object.assign(ep, {
      NetworkID: n.Id,
      EndpointID: randomBytes(32).toString('hex'),
      // dockerd's bridge gives an internal network's endpoints no gateway (its Join), so inspect shows none.
      Gateway: (bridge?.internal ?? n.Internal) ? '' : (ip?.gateway ?? ''),
      IPAddress: ip?.address.split('/')[0] ?? '',
      IPPrefixLen: Number(ip?.address.split('/')[1] ?? 0),
      IPv6Gateway: (bridge?.internal ?? n.Internal) ? '' : (ip6?.gateway ?? ''),
      GlobalIPv6Address: ip6?.address.split('/')[0] ?? '',
      GlobalIPv6PrefixLen: Number(ip6?.address.split('/')[1] ?? 0),
      MacAddress: iface?.mac ?? ep.MacAddress,
      // moby 28's order (buildEndpointDNSNames): the name, the aliases, the short ID, the hostname; each once.
      DNSNames: hasDns(n)
        ? [
            ...new Set([
              rec.Name.slice(1),
              ...(ep.Aliases ?? []),
              rec.Id.slice(0, 12),
              ...(rec.Config.Hostname ? [rec.Config.Hostname] : []),
            ]),
          ]
        : null,
    });
    if (hasDns(n)) await this.dns.ensure(n);
    // A container that cannot reach a server on the host (macvlan, ipvlan, a bridge with no IPv4 address): its own, at 127.0.0.11.
    if (resolverInNetns(n)) await this.dns.serveIn(rec.Id, at.netns);
    this.opts.emit('connect', n, rec.Id);
  }

  /**
   * Takes the container off its networks: its NetworkSettings lose their addresses now, and
   * the DELs (with what each ADD returned), then the namespace's unpinning, run on after this
   * returns — `run --rm` does not wait for them; a start of the same container, the network's
   * removal and berthd's close do. Safe to repeat.
   */
  detach(rec: ContainerRecord): Promise<void> {
    // Its sockets hold the namespace: they go before the pin does.
    this.dns.stopIn(rec.Id);
    const s = rec.NetworkSettings;
    if (s) {
      s.SandboxKey = '';
      s.Ports = {};
      for (const ep of Object.values(s.Networks)) {
        const n = ep.EndpointID ? this.store.byIdOf(ep.NetworkID) : undefined;
        if (n) this.opts.emit('disconnect', n, rec.Id);
        Object.assign(ep, {
          EndpointID: '',
          Gateway: '',
          IPAddress: '',
          IPPrefixLen: 0,
          IPv6Gateway: '',
          GlobalIPv6Address: '',
          GlobalIPv6PrefixLen: 0,
          // As dockerd's cleanOperationalData: DNSNames stay (the DNS server answers only an endpoint with an
          // address); a stopped container shows no MacAddress, and the next start gives DesiredMacAddress again.
          MacAddress: '',
        });
      }
    }
    const id = rec.Id;
    const previous = this.tearing.get(id) ?? Promise.resolve();
    const run = previous
      .then(async () => {
        const dir = this.stateDir(id);
        for (const f of listDir(dir)) {
          await (f === PASTA_PID ? stopPasta(join(dir, f)) : this.delEndpoint(join(dir, f))).catch((e) =>
            this.opts.log(`network teardown of ${id.slice(0, 12)}: ${errorMessage(e)}`),
          );
        }
        await rm(dir, { recursive: true, force: true });
        await unpinNetns(this.netnsDir, id);
      })
      .catch((e) => this.opts.log(`network teardown of ${id.slice(0, 12)}: ${errorMessage(e)}`));
    this.tearing.set(id, run);
    void run.finally(() => {
      if (this.tearing.get(id) === run) this.tearing.delete(id);
    });
    return Promise.resolve();
  }

  /** Undoes the endpoint of a record; the record goes once it is undone. */
  private async delEndpoint(file: string): Promise<void> {
    await this.undoEndpoint(JSON.parse(await readFile(file, 'utf8')) as Attached);
    await rm(file, { force: true });
  }

  /** Its CNI plugins' part (DEL), its port rules, then the rest of berthd's own; every part is tried, the first failure reported with the others. */
  private async undoEndpoint(a: Attached): Promise<void> {
    const errors: Error[] = [];
    const step = (p: Promise<void>) => p.catch((e: Error) => void errors.push(e));
    if (a.list?.plugins.length) await step(delNetworkList(a.list, a.at, a.result));
    // The rules and the veth pair go side by side (the veth's deletion waits for an RCU grace period).
    await Promise.all([a.nat && step(removePortNat(a.nat)), a.bridge && step(delBridgeEndpoint(this.leases, a.bridge, a.at))]);
    if (errors.length) throw withCleanup(errors[0], errors.slice(1));
  }

  /** Docker's connect: recorded, and made now if the container runs (the default routes moved if it now gives them). */
  async connect(rec: ContainerRecord, n: NetworkRecord, req: EndpointRequest, running: boolean): Promise<void> {
    const mode = rec.HostConfig.NetworkMode ?? '';
    if (n.Driver === 'cni')
      throw forbidden(`network ${n.Name} is made by CNI config ${n.Options[CNI_CONF_OPT]}: a container joins it at create only`);
    // moby's updateNetworkSettings: host only for a host container, none alone, nothing more for one sharing a namespace.
    if (mode.startsWith('container:')) throw invalid(CONFLICT_SHARED);
    if (n.Driver === 'host' && mode !== 'host') throw invalid(CONFLICT_HOST);
    const settings = (rec.NetworkSettings ??= { Networks: {}, Ports: {}, SandboxKey: '' });
    const name = rec.Name.replace(/^\//, '');
    if (settings.Networks[n.Name]) throw forbidden(`endpoint with name ${name} already exists in network ${n.Name}`);
    for (const o of Object.values(settings.Networks)) {
      const on = this.store.byIdOf(o.NetworkID);
      if (on?.Driver === 'host' || n.Driver === 'host') throw invalid(CONFLICT_SHARED);
      if (on?.Name === 'none' || n.Name === 'none') throw invalid(CONFLICT_NONE);
    }
    if (joinsOnly(n)) {
      // none again, after a disconnect: joined now if the container runs, as at a start.
      const ep = blankEndpoint(n.Id, req);
      if (running) {
        ep.EndpointID = randomBytes(32).toString('hex');
        this.opts.emit('connect', n, rec.Id);
      }
      settings.Networks[n.Name] = ep;
      return;
    }
    checkEndpoint(n, req, name, false);
    const others = Object.values(settings.Networks);
    const asked = req.DriverOpts?.[IFNAME_OPT];
    const ifs = running ? this.interfacesOf(rec.Id) : new Map<string, string>();
    // dockerd fails the rename in the kernel's words (file exists); berth says which name, before anything is made.
    if (asked && (others.some((o) => o.DriverOpts?.[IFNAME_OPT] === asked) || [...ifs.values()].includes(asked)))
      throw conflict(`container ${name} has an interface named ${asked} already (${IFNAME_OPT})`);
    const ep = blankEndpoint(n.Id, req);
    if (running) {
      const before = this.gatewaysOf(others);
      const after = this.gatewaysOf([...others, ep]);
      await this.addEndpoint(rec, n, ep, asked ?? nextIfName(ifs.values(), n.Options[IFACE_PREFIX_OPT] || undefined), [], {
        v4: false,
        v6: false,
      });
      try {
        if (JSON.stringify([...before, { v4: false, v6: false }]) !== JSON.stringify(after))
          await this.moveGateway(rec, [...others, ep], after);
        // The hostname at the new addresses, appended in place (the file is bound into the
        // container: a new inode would not reach it). dockerd 20.10 leaves them at a disconnect.
        const lines = hostnameLines(
          { hostname: rec.Config.Hostname ?? '', domainname: rec.Config.Domainname },
          [ep.IPAddress, ep.GlobalIPv6Address].filter(Boolean),
        );
        if (lines.length) await appendFile(initPaths(this.opts.initDir(rec.Id)).HostsPath, lines.map((l) => `${l}\n`).join(''));
      } catch (e) {
        const undo = await this.delEndpoint(join(this.stateDir(rec.Id), `${n.Id}.json`)).then(
          () => [],
          (d: Error) => [d],
        );
        if (!this.servedInOn(others)) this.dns.stopIn(rec.Id);
        throw withCleanup(e, undo);
      }
    }
    settings.Networks[n.Name] = ep;
  }

  /** The container's interfaces now, by network ID (its endpoints' records). */
  private interfacesOf(containerId: string): Map<string, string> {
    const dir = this.stateDir(containerId);
    const out = new Map<string, string>();
    for (const f of listDir(dir))
      if (f.endsWith('.json')) out.set(f.slice(0, -'.json'.length), (JSON.parse(readFileSync(join(dir, f), 'utf8')) as Attached).at.ifName);
    return out;
  }

  /** Gives a running container the default routes of `eps` as `gateways` says, and no other. */
  private async moveGateway(rec: ContainerRecord, eps: EndpointSettings[], gateways: Gateway[]): Promise<void> {
    const ifs = this.interfacesOf(rec.Id);
    await setGateway(
      rec.NetworkSettings!.SandboxKey,
      eps.flatMap((ep, i) => {
        const n = this.store.get(ep.NetworkID);
        const ifName = ifs.get(n.Id);
        const net = n.Driver === 'bridge' || isSubLink(n.Driver) ? this.bridgeOf(n) : undefined;
        // An ipvlan l3 endpoint's default routes on the link go with the others: they are given again.
        return net && (gateways[i].v4 || gateways[i].v6 || net.link?.onLink) && ifName ? [{ net, ifName, gateway: gateways[i] }] : [];
      }),
    );
  }

  /**
   * Docker's disconnect: the endpoint undone if the container runs (the default routes moved if
   * it gave them), and forgotten. One `disconnect` event, running or not, as dockerd tells a
   * stopped container's; dockerd tells a running one's twice (README, "Where berth differs").
   */
  async disconnect(rec: ContainerRecord, n: NetworkRecord): Promise<void> {
    const settings = rec.NetworkSettings;
    const ep = settings?.Networks[n.Name];
    if (!settings || !ep) throw forbidden(`container ${rec.Id} is not connected to network ${n.Name}`);
    // moby's disconnectFromNetwork refuses host alone: a container leaves none as any other network.
    if (n.Driver === 'host') throw invalid(CONFLICT_HOST);
    if (n.Driver === 'null') {
      delete settings.Networks[n.Name];
      this.opts.emit('disconnect', n, rec.Id);
      return;
    }
    const file = join(this.stateDir(rec.Id), `${n.Id}.json`);
    if (existsSync(file)) {
      const eps = Object.values(settings.Networks);
      const rest = eps.filter((o) => o !== ep);
      const before = this.gatewaysOf(eps).filter((_, i) => eps[i] !== ep);
      const after = this.gatewaysOf(rest);
      await this.delEndpoint(file);
      if (!this.servedInOn(rest)) this.dns.stopIn(rec.Id);
      // As moby since its fix of moby#51578: a gateway that cannot move is logged, and the disconnect stands.
      if (JSON.stringify(before) !== JSON.stringify(after))
        await this.moveGateway(rec, rest, after).catch((e) =>
          this.opts.log(`default routes of ${rec.Id.slice(0, 12)} after disconnecting ${n.Name}: ${errorMessage(e)}`),
        );
    }
    delete settings.Networks[n.Name];
    this.opts.emit('disconnect', n, rec.Id);
  }

  /** berthd's end: the teardowns still running end (berthd waits for this before it exits); bridges no endpoint uses go. */
  async close(): Promise<void> {
    await this.settled();
    for (const n of this.store.all()) {
      const dev = n.Options[BRIDGE_NAME_OPT];
      if (dev && !this.hasEndpoints(n) && (this.ruled.has(n.Id) || existsSync(`/sys/class/net/${dev}`))) {
        await this.deleteBridge(dev).catch((e) => this.opts.log(`delete bridge ${dev}: ${errorMessage(e)}`));
      }
    }
  }
}

/** The names in `dir`; none when it does not exist (yet, or any more). */
function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    if (errno(e) === 'ENOENT') return [];
    throw e;
  }
}
