// Networks: the engine's face for Docker's network objects and containers' places on them.
// The records and their subnets are store.ts's, the CNI endpoints endpoints.ts's, the embedded
// DNS dns.ts's; this joins them for each verb (a removal asks all three) and brings them back
// after a berthd restart. A macvlan or ipvlan network's parent link, when berthd made it (a dummy
// or a VLAN sub-interface, as dockerd makes them), is marked `<id>.parent` beside its record and
// deleted with it.

import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, errorMessage, forbidden, invalid, unavailable, unsupported } from '../../errors.js';
import { cniConfigFiles, defaultCniConfig, loadCniConfig } from '../../network/cni-config.js';
import { addParentLink, deleteParentLink } from '../../network/parent-link.js';
import { writeFileAtomic } from '../../common/atomic.js';
import { errno } from '../../common/errno.js';
import type { Spec } from '../../oci/runtime-spec.js';
import { labelMatch, validateFilters } from '../../common/filters.js';
import type { ContainerRecord, EndpointRequest, EndpointSettings, NetworkCreateRequest, NetworkRecord } from '../types.js';
import { EmbeddedDns } from './dns.js';
import { Endpoints } from './endpoints.js';
import { blankEndpoint, BRIDGE_NAME_OPT, cniName, checkEndpoint, hasDns, IFNAME_OPT, NetworkStore, ownNetns, PREDEFINED } from './store.js';
import { duplicateIfName } from './gateway.js';
import { isSubLink } from './sublink.js';

export interface NetworksOptions {
  dataRoot: string;
  execRoot: string;
  /** Every container's record, to find a network's endpoints and the ports taken. */
  containers: () => ContainerRecord[];
  /** `--bip`: the default bridge's gateway address and prefix, e.g. 10.99.0.1/24. */
  bip?: string;
  /** The default bridge has IPv6 (daemon.json `ipv6`); unset: IPv4 only. */
  ipv6?: boolean;
  /** Its IPv6 subnet (daemon.json `fixed-cidr-v6`); unset: the next /64 of the host's ULA pool, as dockerd 27 and later. */
  fixedCidrV6?: string;
  /** A rootless berthd's: its default network is pasta's in each container (no bridge), beside `none` and `container:`. */
  rootless?: boolean;
  /** daemon.json `ip6tables` (default true, as dockerd 28's): ip6tables rules for IPv6 networks and ports published on IPv6 addresses. */
  ip6tables?: boolean;
  /** The container's folder of init files (its /etc/hosts gets its address at start). */
  initDir: (id: string) => string;
  /** Docker's network events: create, destroy, connect, disconnect. */
  emit?: (action: string, id: string, attributes: Record<string, string>) => void;
  log?: (level: 'info' | 'warn', msg: string) => void;
}

export class Networks {
  private readonly store: NetworkStore;
  private readonly dns: EmbeddedDns;
  private readonly endpoints: Endpoints;

  constructor(private readonly opts: NetworksOptions) {
    const warn = (m: string) => opts.log?.('warn', m);
    this.store = new NetworkStore(opts.dataRoot);
    this.dns = new EmbeddedDns(this.store, opts.containers, warn);
    this.endpoints = new Endpoints(this.store, this.dns, {
      dataRoot: opts.dataRoot,
      execRoot: opts.execRoot,
      containers: opts.containers,
      initDir: opts.initDir,
      emit: (action, n, container) => this.emit(action, n, container),
      log: warn,
      rootless: opts.rootless,
      ip6tables: opts.ip6tables,
    });
    if (opts.bip)
      this.store.applyBip(
        opts.bip,
        (n) => this.endpoints.hasEndpoints(n),
        warn,
        (dev) => this.endpoints.deleteBridgeLater(dev),
      );
    this.store.applyDefaultV6(
      !!opts.ipv6,
      opts.fixedCidrV6,
      (n) => this.endpoints.hasEndpoints(n),
      warn,
      (dev) => this.endpoints.deleteBridgeLater(dev),
    );
    this.endpoints.finishTeardowns();
    void this.endpoints.sweepPortRules();
    // After a berthd restart, the networks whose bridges serve endpoints answer names again;
    // a bridge left with none (a berthd killed before its close), or rules left with no bridge
    // (killed between setting them and the bridge's creation, or during a deletion), go.
    const ruled = new Set(this.endpoints.ruledBridges());
    for (const n of this.store.all()) {
      const dev = n.Options[BRIDGE_NAME_OPT];
      if (!dev) continue;
      const left = ruled.delete(dev) || existsSync(`/sys/class/net/${dev}`);
      if (!left) continue;
      if (!this.endpoints.hasEndpoints(n)) this.endpoints.deleteBridgeLater(dev);
      else if (hasDns(n)) void this.dns.ensure(n);
    }
    // (Marks of networks removed meanwhile: a berthd killed during the removal.)
    for (const dev of ruled) this.endpoints.deleteBridgeLater(dev);
    // The parent links berthd made are gone after a reboot: made again, as dockerd's drivers make them at their start.
    for (const n of this.store.all())
      if (isSubLink(n.Driver) && existsSync(this.parentMark(n)))
        this.remakeParent(n).catch((e) => warn(`parent link of network ${n.Name}: ${errorMessage(e)}`));
  }

  private emit(action: string, n: NetworkRecord, container?: string): void {
    this.opts.emit?.(action, n.Id, { name: n.Name, type: n.Driver, ...(container ? { container } : {}) });
  }

  /** By full ID, name, or unique ID prefix, as dockerd finds networks. */
  get(ref: string): NetworkRecord {
    return this.store.get(ref);
  }

  /** `host-gateway` in an --add-host: the default bridge's gateway, as dockerd's host-gateway-ip defaults to. */
  hostGatewayIp(): string {
    return this.store.hostGatewayIp();
  }

  /** The address a container's resolv.conf names: its first network's embedded DNS server, if it has one. */
  embeddedDns(rec: ContainerRecord): string | undefined {
    return this.dns.addressFor(rec);
  }

  /** The network as the API shows it, with its running endpoints (`Containers`). */
  inspect(ref: string): NetworkRecord & {
    Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
  } {
    const n = this.get(ref);
    const containers: ReturnType<Networks['inspect']>['Containers'] = {};
    for (const c of this.opts.containers()) {
      const ep = c.NetworkSettings?.Networks[n.Name];
      if (ep?.EndpointID)
        containers[c.Id] = {
          Name: c.Name.slice(1),
          EndpointID: ep.EndpointID,
          MacAddress: ep.MacAddress,
          IPv4Address: `${ep.IPAddress}/${ep.IPPrefixLen}`,
          IPv6Address: ep.GlobalIPv6Address ? `${ep.GlobalIPv6Address}/${ep.GlobalIPv6PrefixLen}` : '',
        };
    }
    return { ...n, Containers: containers };
  }

  /** Docker's filters: dangling, driver, id, label, name, scope, type (builtin/custom); others refused, as dockerd. */
  list(filters: Record<string, string[]> = {}): NetworkRecord[] {
    validateFilters(filters, ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
    const { dangling, ...rest } = filters;
    const list = this.store.list(rest);
    if (!dangling?.length) return list;
    const want = ({ true: true, '1': true, false: false, '0': false } as Record<string, boolean>)[dangling[0]];
    if (want === undefined) throw invalid(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`);
    // As dockerd: the predefined networks are never dangling.
    const containers = this.opts.containers();
    const isDangling = (n: NetworkRecord) => !PREDEFINED.includes(n.Name) && !containers.some((c) => c.NetworkSettings?.Networks[n.Name]);
    return list.filter((n) => isDangling(n) === want);
  }

  async create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    if (this.opts.rootless) throw rootlessNetwork(req.Name);
    const n = await this.store.create(req);
    if (isSubLink(n.Driver)) {
      try {
        await this.makeParent(n);
      } catch (e) {
        await this.store.delete(n);
        throw e;
      }
    }
    this.emit('create', n);
    this.opts.log?.(
      'info',
      `created network ${n.Name} ${n.IPAM.Config.map((c) => c.Subnet).join(' ')} on ${n.Options[BRIDGE_NAME_OPT] ?? n.Options.parent ?? n.Driver}`,
    );
    return { Id: n.Id, Warning: '' };
  }

  /** The file that marks a network's parent link as berthd's (its name in it). */
  private parentMark(n: NetworkRecord): string {
    return join(this.opts.dataRoot, 'networks', `${n.Id}.parent`);
  }

  /** Makes the parent link a new macvlan or ipvlan network needs, marked first: a berthd killed before the link exists leaves only the mark. */
  private async makeParent(n: NetworkRecord): Promise<void> {
    const plan = this.store.parentPlan(n);
    if (plan.kind === 'none') return;
    await writeFileAtomic(this.parentMark(n), plan.name);
    try {
      await addParentLink(plan);
    } catch (e) {
      await rm(this.parentMark(n), { force: true });
      throw e;
    }
  }

  /** Makes again the parent link berthd made for the network if it is missing. */
  private async remakeParent(n: NetworkRecord): Promise<void> {
    const plan = this.store.parentPlan(n);
    if (plan.kind !== 'none') await addParentLink(plan);
  }

  /** Deletes the parent link berthd made for the network, and its mark. */
  private async deleteParent(n: NetworkRecord): Promise<void> {
    let name: string;
    try {
      name = await readFile(this.parentMark(n), 'utf8');
    } catch (e) {
      if (errno(e) === 'ENOENT') return; // the user's own parent: it stays
      throw e;
    }
    await deleteParentLink(name);
    await rm(this.parentMark(n), { force: true });
  }

  /**
   * The default network of a CNI config dir another keeps (kubelet's node): a `cni` network
   * named as its first config, whose endpoints that config's plugins make. Unavailable while the
   * dir holds none (the node's network add-on has not written it yet).
   */
  async useCniConfig(dir: string): Promise<NetworkRecord> {
    const found = await defaultCniConfig(dir);
    if (!found) throw unavailable(`no CNI network config in ${dir}: the node's network is not ready`);
    const { n, made } = await this.store.useCni(found.list.name, found.file);
    if (made) {
      this.emit('create', n);
      this.opts.log?.('info', `network ${n.Name} from CNI config ${found.file}`);
    }
    return n;
  }

  /** The config files of `dir`, and why its default one cannot serve (none there, or it does not load). */
  async cniConfigStatus(dir: string): Promise<{ files: string[]; notReady?: string }> {
    const files = await cniConfigFiles(dir);
    if (!files.length) return { files, notReady: `no CNI network config in ${dir}` };
    try {
      await loadCniConfig(join(dir, files[0]));
      return { files };
    } catch (e) {
      if (!(e instanceof BerthError)) throw e;
      return { files, notReady: e.message };
    }
  }

  async remove(ref: string): Promise<void> {
    await this.endpoints.settled();
    const n = this.get(ref);
    if (PREDEFINED.includes(n.Name)) throw forbidden(`${n.Name} is a pre-defined network and cannot be removed`);
    const containers = this.opts.containers();
    if (containers.some((c) => c.NetworkSettings?.Networks[n.Name]?.EndpointID))
      throw forbidden(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
    const members = containers.filter((c) => c.NetworkSettings?.Networks[n.Name]);
    if (members.length)
      throw forbidden(
        `error while removing network: network ${n.Name} id ${n.Id} has active endpoints (${members.map((c) => c.Name.slice(1)).join(', ')})`,
      );
    this.dns.stop(n);
    this.endpoints.forget(n);
    if (n.Driver === 'bridge') await this.endpoints.deleteBridge(n.Options[BRIDGE_NAME_OPT]);
    if (isSubLink(n.Driver)) await this.deleteParent(n);
    // (An older berth took longer names: no folder can be named so, and it must not stop the removal.)
    await rm(join(this.endpoints.ipamDir, cniName(n)), { recursive: true, force: true });
    await this.store.delete(n);
    this.emit('destroy', n);
  }

  /** Removes the user-defined networks no container is on; returns their names. `until`: Unix seconds. */
  async prune(f: { until?: number; label?: string[]; notLabel?: string[] } = {}): Promise<string[]> {
    const out: string[] = [];
    for (const n of this.list()) {
      if (PREDEFINED.includes(n.Name)) continue;
      if (f.label?.length && !f.label.every((l) => labelMatch(n.Labels, l))) continue;
      if (f.notLabel?.some((l) => labelMatch(n.Labels, l))) continue;
      if (f.until !== undefined && Date.parse(n.Created) / 1000 >= f.until) continue;
      if (this.opts.containers().some((c) => c.NetworkSettings?.Networks[n.Name])) continue;
      await this.remove(n.Id);
      out.push(n.Name);
    }
    return out;
  }

  /**
   * The NetworkSettings of a new container: its NetworkMode's network (the default `bridge`
   * for '' and 'default') and any others NetworkingConfig names, checked to exist. Returns the
   * NetworkMode to record.
   */
  plan(rec: ContainerRecord, endpoints: Record<string, EndpointRequest> = {}, container: (ref: string) => ContainerRecord): string {
    let mode = rec.HostConfig.NetworkMode || 'default';
    if (mode === 'default') mode = 'bridge';
    // An IPv6 host address is served by ip6tables NAT (endpoints.ts); with none (ip6tables off,
    // or a rootless berthd's pasta) dockerd would serve it with its userland proxy, which berth has not.
    const v6Bind =
      (this.opts.rootless || this.opts.ip6tables === false) &&
      Object.values(rec.HostConfig.PortBindings ?? {})
        .flatMap((l) => l ?? [])
        .find((b) => b.HostIp?.includes(':'));
    if (v6Bind)
      throw invalid(
        `publishing a port on the IPv6 address ${v6Bind.HostIp} is not supported by ${this.opts.rootless ? 'a rootless berthd (pasta publishes it on IPv4)' : 'berthd with ip6tables off: it sets no ip6tables NAT (dockerd serves it with its userland proxy, which berth has not)'}`,
      );
    if (mode.startsWith('container:')) {
      const other = container(mode.slice('container:'.length));
      if (!ownNetns(other.HostConfig.NetworkMode))
        throw invalid(
          `cannot join the network of container ${other.Name.slice(1)}: it has none of its own (${other.HostConfig.NetworkMode})`,
        );
      mode = `container:${other.Id}`;
    }
    const settings = { Networks: {} as Record<string, EndpointSettings>, Ports: {}, SandboxKey: '' };
    rec.NetworkSettings = settings;
    // A rootless berthd's default network is pasta's in each container; it has no other. Its
    // `host` is its own network namespace, which is the host's (its user namespace makes none).
    if (this.opts.rootless && !['none', 'bridge', 'host'].includes(mode) && !mode.startsWith('container:')) throw rootlessNetwork(mode);
    if (this.opts.rootless && Object.keys(endpoints).some((k) => k !== mode))
      throw rootlessNetwork(Object.keys(endpoints).find((k) => k !== mode)!);
    const sctp = Object.keys(rec.HostConfig.PortBindings ?? {}).find((k) => k.endsWith('/sctp'));
    if (this.opts.rootless && sctp) throw unsupported(`publishing ${sctp}: pasta, a rootless berthd's network, carries TCP and UDP only`);
    if (mode.startsWith('container:') || mode === 'host' || mode === 'none') {
      if (Object.keys(endpoints).some((k) => k !== mode))
        throw invalid(`conflicting options: ${mode} network mode and a network to connect to`);
      if (mode !== 'none' && mode !== 'host') return mode;
      settings.Networks[mode] = blankEndpoint(this.get(mode).Id);
      return mode;
    }
    const names = [mode, ...Object.keys(endpoints).filter((k) => k !== mode)];
    // dockerd's macvlan and ipvlan keep published ports with no effect (logging that they do not
    // support port mappings); berth refuses them rather than show nothing published.
    const first = this.get(mode);
    const published = Object.values(rec.HostConfig.PortBindings ?? {}).some((l) => l?.length) || rec.HostConfig.PublishAllPorts;
    if (isSubLink(first.Driver) && published)
      throw invalid(
        `${first.Driver} network ${first.Name} does not publish ports: its containers are reached at their own addresses (dockerd ignores -p and -P there)`,
      );
    for (const name of names) {
      const n = this.get(name);
      const req = endpoints[name] ?? endpoints[n.Id] ?? {};
      if (n.Driver !== 'bridge' && n.Driver !== 'cni' && !isSubLink(n.Driver))
        throw invalid(`container cannot be connected to network ${n.Name} and another one`);
      // pasta, a rootless berthd's network, names its interface and sets no sysctls of the endpoint's.
      if (this.opts.rootless && Object.keys(req.DriverOpts ?? {}).length)
        throw unsupported(`rootless berthd: endpoint driver options (${Object.keys(req.DriverOpts!).join(', ')}) are not applied by pasta`);
      checkEndpoint(n, req, rec.Name.replace(/^\//, ''));
      settings.Networks[n.Name] = blankEndpoint(n.Id, req);
    }
    // dockerd fails the start when two endpoints ask one name (the kernel's rename); berth refuses the create.
    const twice = duplicateIfName(
      Object.values(settings.Networks).map((ep) => (this.get(ep.NetworkID).Driver !== 'cni' ? ep.DriverOpts?.[IFNAME_OPT] : undefined)),
    );
    if (twice) throw invalid(`two endpoints of the container ask the interface name ${twice} (${IFNAME_OPT})`);
    return this.get(mode).Name;
  }

  /** The spec's network namespace for the mode: none for host, the other's pin for container:<id>, else a new one. */
  applyNamespace(spec: Spec, mode: string | undefined): void {
    this.endpoints.applyNamespace(spec, mode);
  }

  /** A started container's network (endpoints.ts); `linkHosts`: its legacy links' /etc/hosts lines, as ExtraHosts entries. */
  attach(rec: ContainerRecord, pid: number, linkHosts: string[] = []): Promise<void> {
    return this.endpoints.attach(rec, pid, linkHosts);
  }

  /** Takes the container off its networks; the DELs run on after this returns (endpoints.ts). */
  detach(rec: ContainerRecord): Promise<void> {
    return this.endpoints.detach(rec);
  }

  /** Docker's connect: recorded, and made now if the container runs. */
  async connect(rec: ContainerRecord, ref: string, req: EndpointRequest, running: boolean): Promise<void> {
    if (this.opts.rootless) throw rootlessNetwork(ref);
    const n = this.get(ref);
    const mode = rec.HostConfig.NetworkMode;
    const own = mode === n.Name || mode === n.Id || ((!mode || mode === 'default') && n.Name === 'bridge');
    const mac = !req.MacAddress && own ? rec.Config.MacAddress : undefined;
    return this.endpoints.connect(rec, n, mac ? { ...req, MacAddress: mac } : req, running);
  }

  /** Docker's disconnect: the endpoint undone if the container runs, and forgotten. */
  async disconnect(rec: ContainerRecord, ref: string): Promise<void> {
    return this.endpoints.disconnect(rec, this.get(ref));
  }

  /** berthd's end: bridges no endpoint uses go, so a stopped berthd leaves no device behind. */
  async close(): Promise<void> {
    this.dns.close();
    await this.endpoints.close();
  }
}

/** What a rootless berthd refuses of networks, and what works instead. */
function rootlessNetwork(mode: string): BerthError {
  return unsupported(
    `rootless berthd: network ${mode} is not available (a rootless berthd has its default network, through pasta, and no bridge or user-defined networks); use the default, --network host, --network none or --network container:NAME`,
  );
}
