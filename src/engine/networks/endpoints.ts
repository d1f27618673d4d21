// Networks: records of Docker's network objects under `<data-root>/networks/<id>.json` (the
// predefined `bridge`, `host` and `none`, and user-defined bridge networks), and containers'
// endpoints on them. A running container's endpoints are made with CNI (network/) on its
// pinned network namespace; what each ADD returned is kept under `<exec-root>/networks/<id>/`
// so that DEL, after a berthd restart too, undoes exactly it. It keeps no container state of
// its own: the container's record carries its NetworkSettings, saved by the caller.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { conflict, errorMessage, forbidden, invalid, notFound } from '../../errors.js';
import { addNetworkList, delNetworkList, delNetworkListSync, type Attachment, type CniResult, type NetConfList } from '../../network/cni.js';
import { bridgeConfList, deleteBridge } from '../../network/bridge.js';
import { ensureNetworkRules } from '../../network/iptables.js';
import { pinNetns, unpinNetns } from '../../network/netns.js';
import { allocatePorts, portMap, portRequests, usedKey, type PortMapping } from '../../network/ports.js';
import { contains, firstHost, formatCidr, hostRoutes, overlaps, parseCidr, parseIp, pickSubnet, type Cidr } from '../../network/subnet.js';
import type { Spec } from '../../oci/runtime-spec.js';
import { writeAtomic } from '../containers/store.js';
import { loopbackUp } from '../../network/loopback.js';
import { DnsServer } from '../../network/dns.js';
import { hostResolvConf, hostsFile, initPaths, nameservers } from '../init-files.js';
import { labelMatch } from '../images.js';
import type { ContainerRecord, EndpointSettings } from '../types.js';

/** A network as the Engine API shows it (moby's `Network`), less `Containers`. */
export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge' | 'host' | 'null';
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: 'default'; Options: Record<string, string> | null; Config: { Subnet: string; Gateway: string; IPRange?: string }[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export interface NetworkCreateRequest {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[] | null; Options?: Record<string, string> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** The endpoint options a create or connect asks for (Docker's EndpointSettings, the user's part). */
export interface EndpointRequest {
  IPAMConfig?: { IPv4Address?: string } | null;
  Aliases?: string[] | null;
  MacAddress?: string;
}

/** What an ADD left, to undo it with DEL. */
interface Attached { network: string; list: NetConfList; at: Attachment; result: CniResult; ports: PortMapping[] }

const BRIDGE_NAME_OPT = 'com.docker.network.bridge.name';
const PREDEFINED = ['bridge', 'host', 'none'];
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The modes that make no endpoint of berth's: no network of its own, or another container's. */
export function ownNetns(mode: string | undefined): boolean {
  return mode !== 'host' && !mode?.startsWith('container:');
}

/** User-defined bridge networks have the embedded DNS server; the default `bridge` has not, as dockerd's. */
const hasDns = (n: NetworkRecord) => n.Driver === 'bridge' && n.Name !== 'bridge';

const blankEndpoint = (networkId: string, req: EndpointRequest = {}): EndpointSettings => ({
  IPAMConfig: req.IPAMConfig?.IPv4Address ? { IPv4Address: req.IPAMConfig.IPv4Address } : null, Links: null, Aliases: req.Aliases?.length ? [...req.Aliases] : null,
  MacAddress: req.MacAddress ?? '', NetworkID: networkId, EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0,
  IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null, DriverOpts: null,
});

export class Networks {
  private readonly root: string;
  private readonly stateRoot: string;
  private readonly netnsDir: string;
  private readonly ipamDir: string;
  private readonly byId = new Map<string, NetworkRecord>();
  /** Teardowns (CNI DELs) still running, by container ID: a start waits for its container's. */
  private readonly tearing = new Map<string, Promise<void>>();
  /** Networks whose rules (network/iptables.ts) this berthd has checked. */
  private readonly ruled = new Set<string>();
  /** The embedded DNS server of each user-defined network whose bridge is up, by network ID. */
  private readonly dns = new Map<string, DnsServer>();

  /** `containers()`: every container's record, to find a network's endpoints and the ports taken. */
  constructor(private readonly opts: {
    dataRoot: string; execRoot: string; containers: () => ContainerRecord[];
    /** `--bip`: the default bridge's gateway address and prefix, e.g. 10.99.0.1/24. */
    bip?: string;
    /** The container's folder of init files (its /etc/hosts gets its address at start). */
    initDir: (id: string) => string;
    /** Docker's network events: create, destroy, connect, disconnect. */
    emit?: (action: string, id: string, attributes: Record<string, string>) => void;
    log?: (level: 'info' | 'warn', msg: string) => void;
  }) {
    this.root = join(opts.dataRoot, 'networks');
    this.stateRoot = join(opts.execRoot, 'networks');
    this.netnsDir = join(opts.execRoot, 'netns');
    this.ipamDir = join(opts.execRoot, 'ipam');
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    for (const f of readdirSync(this.root)) {
      if (!f.endsWith('.json')) continue;
      try {
        const n = JSON.parse(readFileSync(join(this.root, f), 'utf8')) as NetworkRecord;
        this.byId.set(n.Id, n);
      } catch { /* a torn write of a create that never answered */ }
    }
    for (const name of PREDEFINED) if (!this.byName(name)) this.predefine(name);
    if (opts.bip) this.applyBip(opts.bip);
    this.finishTeardowns();
    // After a berthd restart, the networks whose bridges serve endpoints answer names again;
    // a bridge left with none (a berthd killed before its close) goes.
    for (const n of this.byId.values()) {
      const dev = n.Options[BRIDGE_NAME_OPT];
      if (!dev || !existsSync(`/sys/class/net/${dev}`)) continue;
      if (!this.hasEndpoints(n)) deleteBridge(dev);
      else if (hasDns(n)) void this.ensureDns(n);
    }
  }

  /**
   * Endpoints left by a berthd that ended before their DELs did (killed mid-teardown): those of
   * containers gone or no longer running are torn down now. A running one's stay, and its exit
   * (seen at adoption) tears them down as usual.
   */
  private finishTeardowns(): void {
    let ids: string[] = [];
    try { ids = readdirSync(this.stateRoot); } catch { return; }
    for (const id of ids) {
      let status = '';
      try { status = (JSON.parse(readFileSync(join(this.opts.dataRoot, 'containers', id, 'container.json'), 'utf8')) as ContainerRecord).State.Status; } catch { /* gone */ }
      if (status !== 'running' && status !== 'paused') void this.detach({ Id: id } as ContainerRecord);
    }
  }

  /** Whether a CNI attachment on `n` is recorded under the exec-root (a container's endpoint, running or not yet torn down). */
  private hasEndpoints(n: NetworkRecord): boolean {
    let ids: string[] = [];
    try { ids = readdirSync(this.stateRoot); } catch { /* none yet */ }
    return ids.some((id) => existsSync(join(this.stateRoot, id, `${n.Id}.json`)));
  }

  /** The address a container's resolv.conf names: its first network's embedded DNS server, if it has one. */
  embeddedDns(rec: ContainerRecord): string | undefined {
    const first = Object.values(rec.NetworkSettings?.Networks ?? {})[0];
    const n = first && this.byId.get(first.NetworkID);
    return n && hasDns(n) && ownNetns(rec.HostConfig.NetworkMode) ? n.IPAM.Config[0].Gateway : undefined;
  }

  /** Starts the network's DNS server on its gateway address (there once the bridge is). */
  private async ensureDns(n: NetworkRecord): Promise<void> {
    if (this.dns.has(n.Id)) return;
    const server = new DnsServer({
      address: n.IPAM.Config[0].Gateway,
      resolve: (name, from) => this.resolve(n, name, from),
      upstream: (from) => {
        const c = this.opts.containers().find((x) => x.NetworkSettings?.Networks[n.Name]?.IPAddress === from);
        return c?.HostConfig.Dns?.length ? c.HostConfig.Dns : nameservers(hostResolvConf());
      },
      log: (m) => this.opts.log?.('warn', m),
    });
    this.dns.set(n.Id, server);
    try {
      await server.listen();
    } catch (e) {
      this.dns.delete(n.Id);
      server.close();
      this.opts.log?.('warn', `embedded DNS of network ${n.Name} on ${n.IPAM.Config[0].Gateway}:53: ${errorMessage(e)}`);
    }
  }

  /**
   * The addresses of `name` (a container's name, short ID or alias) on the user-defined
   * networks of the asking container (the one at `from` on `n`), as dockerd's resolver: a
   * container reaches names on each network it is connected to.
   */
  private resolve(n: NetworkRecord, name: string, from: string): string[] | undefined {
    const want = name.replace(/\.$/, '').toLowerCase();
    const all = this.opts.containers();
    const asker = all.find((c) => c.NetworkSettings?.Networks[n.Name]?.IPAddress === from);
    const nets = Object.entries(asker?.NetworkSettings?.Networks ?? { [n.Name]: undefined })
      .map(([name]) => this.byName(name)).filter((x): x is NetworkRecord => !!x && hasDns(x));
    for (const net of nets) {
      const ips = all.map((c) => c.NetworkSettings?.Networks[net.Name])
        .filter((ep) => ep?.IPAddress && ep.DNSNames?.some((d) => d.toLowerCase() === want)).map((ep) => ep!.IPAddress);
      if (ips.length) return ips;
    }
    return undefined;
  }

  private byName(name: string): NetworkRecord | undefined {
    for (const n of this.byId.values()) if (n.Name === name) return n;
    return undefined;
  }

  private save(n: NetworkRecord): void {
    writeAtomic(join(this.root, `${n.Id}.json`), JSON.stringify(n));
    this.byId.set(n.Id, n);
  }

  private record(name: string, driver: NetworkRecord['Driver'], config: NetworkRecord['IPAM']['Config'], o: Partial<NetworkRecord> = {}): NetworkRecord {
    return {
      Name: name, Id: randomBytes(32).toString('hex'), Created: new Date().toISOString(), Scope: 'local', Driver: driver,
      EnableIPv4: true, EnableIPv6: false, IPAM: { Driver: 'default', Options: null, Config: config }, Internal: false, Attachable: false,
      Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Options: {}, Labels: {}, ...o,
    };
  }

  /**
   * `--bip` given: the default bridge takes that subnet and gateway. A bridge with endpoints keeps
   * its subnet until they are gone (their addresses are in use); its device is made anew on the
   * next start, with the new gateway address.
   */
  private applyBip(bip: string): void {
    const [gateway] = bip.split('/');
    const subnet = parseCidr(bip);
    if (subnet.bits > 30) throw invalid(`--bip ${bip}: the subnet is too small`);
    if (subnet.addr === parseIp(gateway)) throw invalid(`--bip ${bip}: give the gateway's address in the subnet (e.g. ${firstHost(subnet)}/${subnet.bits}), not the subnet's`);
    const n = this.byName('bridge')!;
    const want = { Subnet: formatCidr(subnet), Gateway: gateway };
    const have = n.IPAM.Config[0];
    if (have?.Subnet === want.Subnet && have.Gateway === want.Gateway) return;
    if (this.hasEndpoints(n)) {
      this.opts.log?.('warn', `--bip ${bip}: the bridge network keeps ${have?.Subnet} while containers are on it`);
      return;
    }
    const clash = [...this.byId.values()].find((o) => o !== n && o.IPAM.Config.some((c) => overlaps(parseCidr(c.Subnet), subnet)));
    if (clash) throw conflict(`--bip ${bip} overlaps network ${clash.Name} (${clash.IPAM.Config[0].Subnet})`);
    // The old bridge and its rules (NAT for the old subnet) go; the next start makes them anew.
    const dev = n.Options[BRIDGE_NAME_OPT];
    if (dev) deleteBridge(dev);
    n.IPAM.Config = [want];
    this.save(n);
  }

  /** `bridge` gets a subnet free on this host, and its device `berth0` under the default roots. */
  private predefine(name: string): void {
    if (name !== 'bridge') return this.save(this.record(name, name === 'host' ? 'host' : 'null', []));
    const subnet = pickSubnet(this.taken());
    const n = this.record('bridge', 'bridge', [{ Subnet: formatCidr(subnet), Gateway: firstHost(subnet) }]);
    n.Options = {
      [BRIDGE_NAME_OPT]: this.opts.dataRoot === '/var/lib/berth' ? 'berth0' : `berth${n.Id.slice(0, 10)}`,
      'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_ip_masquerade': 'true',
    };
    this.save(n);
  }

  private emit(action: string, n: NetworkRecord, container?: string): void {
    this.opts.emit?.(action, n.Id, { name: n.Name, type: n.Driver, ...(container ? { container } : {}) });
  }

  /** Subnets a new network must not overlap: the host's routes and berth's networks. */
  private taken(): Cidr[] {
    return [...hostRoutes(), ...[...this.byId.values()].flatMap((n) => n.IPAM.Config.map((c) => parseCidr(c.Subnet)))];
  }

  /** By full ID, name, or unique ID prefix, as dockerd finds networks. */
  get(ref: string): NetworkRecord {
    const n = this.byId.get(ref) ?? this.byName(ref);
    if (n) return n;
    const hits = [...this.byId.values()].filter((x) => ref && x.Id.startsWith(ref));
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) throw notFound(`network ${ref} is ambiguous (${hits.length} matches found based on ID prefix)`);
    throw notFound(`network ${ref} not found`);
  }

  /** The network as the API shows it, with its running endpoints (`Containers`). */
  inspect(ref: string): NetworkRecord & { Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }> } {
    const n = this.get(ref);
    const containers: ReturnType<Networks['inspect']>['Containers'] = {};
    for (const c of this.opts.containers()) {
      const ep = c.NetworkSettings?.Networks[n.Name];
      if (ep?.EndpointID) containers[c.Id] = { Name: c.Name.slice(1), EndpointID: ep.EndpointID, MacAddress: ep.MacAddress, IPv4Address: `${ep.IPAddress}/${ep.IPPrefixLen}`, IPv6Address: '' };
    }
    return { ...n, Containers: containers };
  }

  /** Docker's filters: driver, id, label, name, scope, type (builtin/custom). */
  list(filters: Record<string, string[]> = {}): NetworkRecord[] {
    return [...this.byId.values()].filter((n) => {
      if (filters.driver?.length && !filters.driver.includes(n.Driver)) return false;
      if (filters.id?.length && !filters.id.some((i) => n.Id.startsWith(i))) return false;
      if (filters.name?.length && !filters.name.some((x) => n.Name.includes(x))) return false;
      if (filters.label?.length && !filters.label.every((l) => labelMatch(n.Labels, l))) return false;
      if (filters.scope?.length && !filters.scope.includes('local')) return false;
      if (filters.type?.length && !filters.type.includes(PREDEFINED.includes(n.Name) ? 'builtin' : 'custom')) return false;
      return true;
    }).sort((a, b) => a.Created.localeCompare(b.Created));
  }

  create(req: NetworkCreateRequest): { Id: string; Warning: string } {
    const name = req.Name ?? '';
    if (!name) throw invalid('network name is required');
    if (!NAME.test(name)) throw invalid(`invalid network name "${name}": must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
    if (PREDEFINED.includes(name)) throw forbidden(`operation is not permitted on predefined ${name} network `);
    if (this.byName(name)) throw conflict(`network with name ${name} already exists`);
    const driver = req.Driver || 'bridge';
    if (driver !== 'bridge') throw invalid(`plugin "${driver}" not found: berth has the bridge driver only`);
    if (req.EnableIPv6) throw invalid('IPv6 networks are not supported by berth yet');
    if ((req.IPAM?.Driver ?? 'default') !== 'default') throw invalid(`IPAM driver "${req.IPAM?.Driver}" is not supported: berth has the default one only`);
    const wanted = req.IPAM?.Config ?? [];
    if (wanted.length > 1) throw invalid('berth networks take one IPv4 subnet');
    const w = wanted[0] ?? {};
    let subnet: Cidr;
    if (w.Subnet) {
      subnet = parseCidr(w.Subnet);
      if (subnet.bits > 30) throw invalid(`subnet ${w.Subnet} is too small`);
      const other = [...this.byId.values()].find((n) => n.IPAM.Config.some((c) => overlaps(parseCidr(c.Subnet), subnet)));
      if (other) throw forbidden(`Pool overlaps with other one on this address space`);
    } else {
      if (w.Gateway || w.IPRange) throw invalid('a gateway or an ip-range needs a subnet');
      subnet = pickSubnet(this.taken());
    }
    const gateway = w.Gateway || firstHost(subnet);
    if (!contains(subnet, parseIp(gateway))) throw invalid(`no matching subnet for gateway ${gateway}`);
    if (w.IPRange) {
      const r = parseCidr(w.IPRange);
      if (r.bits < subnet.bits || !contains(subnet, r.addr)) throw invalid(`no matching subnet for range ${w.IPRange}`);
    }
    const id = randomBytes(32).toString('hex');
    const bridge = req.Options?.[BRIDGE_NAME_OPT] || `berth${id.slice(0, 10)}`;
    if (bridge.length > 15) throw invalid(`bridge name ${bridge} is longer than 15 characters`);
    if (existsSync(`/sys/class/net/${bridge}`)) throw conflict(`bridge ${bridge} already exists on this host`);
    const n = this.record(name, 'bridge', [{ Subnet: formatCidr(subnet), Gateway: gateway, ...(w.IPRange ? { IPRange: w.IPRange } : {}) }], {
      Id: id, Internal: !!req.Internal, Attachable: !!req.Attachable,
      Options: { ...(req.Options ?? {}), [BRIDGE_NAME_OPT]: bridge }, Labels: { ...(req.Labels ?? {}) },
    });
    this.save(n);
    this.emit('create', n);
    this.opts.log?.('info', `created network ${name} ${n.IPAM.Config[0].Subnet} on ${bridge}`);
    return { Id: n.Id, Warning: '' };
  }

  private endpointsOn(n: NetworkRecord): ContainerRecord[] {
    return this.opts.containers().filter((c) => c.NetworkSettings?.Networks[n.Name]?.EndpointID);
  }

  async remove(ref: string): Promise<void> {
    await Promise.all(this.tearing.values());
    const n = this.get(ref);
    if (PREDEFINED.includes(n.Name)) throw forbidden(`${n.Name} is a pre-defined network and cannot be removed`);
    if (this.endpointsOn(n).length) throw forbidden(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
    const members = this.opts.containers().filter((c) => c.NetworkSettings?.Networks[n.Name]);
    if (members.length) throw forbidden(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints (${members.map((c) => c.Name.slice(1)).join(', ')})`);
    this.dns.get(n.Id)?.close();
    this.dns.delete(n.Id);
    this.ruled.delete(n.Id);
    deleteBridge(n.Options[BRIDGE_NAME_OPT]);
    rmSync(join(this.ipamDir, n.Name), { recursive: true, force: true });
    rmSync(join(this.root, `${n.Id}.json`), { force: true });
    this.byId.delete(n.Id);
    this.emit('destroy', n);
  }

  /** Removes the user-defined networks no container is on; returns their names. */
  /** `until`: Unix seconds. */
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
    if (mode.startsWith('container:')) {
      const other = container(mode.slice('container:'.length));
      if (!ownNetns(other.HostConfig.NetworkMode)) throw invalid(`cannot join the network of container ${other.Name.slice(1)}: it has none of its own (${other.HostConfig.NetworkMode})`);
      mode = `container:${other.Id}`;
    }
    const settings = { Networks: {} as Record<string, EndpointSettings>, Ports: {}, SandboxKey: '' };
    rec.NetworkSettings = settings;
    if (mode.startsWith('container:') || mode === 'host' || mode === 'none') {
      if (Object.keys(endpoints).some((k) => k !== mode)) throw invalid(`conflicting options: ${mode} network mode and a network to connect to`);
      if (mode !== 'none' && mode !== 'host') return mode;
      settings.Networks[mode] = blankEndpoint(this.get(mode).Id);
      return mode;
    }
    const names = [mode, ...Object.keys(endpoints).filter((k) => k !== mode)];
    for (const name of names) {
      const n = this.get(name);
      const req = endpoints[name] ?? endpoints[n.Id] ?? {};
      if (n.Driver !== 'bridge') throw invalid(`container cannot be connected to network ${n.Name} and another one`);
      this.checkEndpoint(n, req);
      settings.Networks[n.Name] = blankEndpoint(n.Id, req);
    }
    return this.get(mode).Name;
  }

  private checkEndpoint(n: NetworkRecord, req: EndpointRequest): void {
    const ip = req.IPAMConfig?.IPv4Address;
    if (ip) {
      if (n.Name === 'bridge') throw invalid('user specified IP address is supported on user defined networks only');
      if (!contains(parseCidr(n.IPAM.Config[0].Subnet), parseIp(ip))) throw invalid(`no configured subnet or ip-range contain the IP address ${ip}`);
    }
    if (req.Aliases?.length && n.Name === 'bridge') throw invalid('network-scoped alias is supported only for containers in user defined networks');
    if (req.MacAddress && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(req.MacAddress)) throw invalid(`invalid MAC address: ${req.MacAddress}`);
  }

  private stateDir(containerId: string): string { return join(this.stateRoot, containerId); }

  /** Host ports that running containers publish, as `ip:port/proto`. */
  private usedPorts(except: string): Set<string> {
    const used = new Set<string>();
    for (const c of this.opts.containers()) {
      if (c.Id === except) continue;
      for (const [k, list] of Object.entries(c.NetworkSettings?.Ports ?? {})) for (const b of list ?? []) used.add(usedKey(b.HostIp || '0.0.0.0', Number(b.HostPort), k.split('/')[1]));
    }
    return used;
  }

  /** The spec's network namespace for the mode: none for host, the other's pin for container:<id>, else a new one. */
  applyNamespace(spec: Spec, mode: string | undefined): void {
    const nss = spec.linux?.namespaces;
    if (!nss || ownNetns(mode)) return;
    const i = nss.findIndex((n) => n.type === 'network');
    if (i < 0) return;
    if (mode === 'host') nss.splice(i, 1);
    else nss[i] = { type: 'network', path: join(this.netnsDir, mode!.slice('container:'.length)) };
  }

  /**
   * A started container's network: its namespace pinned, then an endpoint on each of its
   * networks (the first gets `eth0` and the published ports). On failure, what was made is undone.
   */
  async attach(rec: ContainerRecord, pid: number): Promise<void> {
    if (!ownNetns(rec.HostConfig.NetworkMode)) return;
    // A DEL still running for the last run would release this run's lease and rules (same ID).
    await this.tearing.get(rec.Id);
    const ns = pinNetns(this.netnsDir, rec.Id, pid);
    const lo = loopbackUp(rec.Id, ns);
    const settings = rec.NetworkSettings ??= { Networks: {}, Ports: {}, SandboxKey: '' };
    settings.SandboxKey = ns;
    const exposed = Object.keys(rec.Config.ExposedPorts ?? {});
    try {
      let i = 0;
      for (const [name, ep] of Object.entries(settings.Networks)) {
        if (name === 'none') continue;
        const ports = i === 0 ? await allocatePorts(portRequests(rec.HostConfig.PortBindings, exposed, !!rec.HostConfig.PublishAllPorts), this.usedPorts(rec.Id)) : [];
        await this.addEndpoint(rec, this.get(ep.NetworkID), ep, `eth${i++}`, ports);
        if (ports.length || i === 1) settings.Ports = portMap(ports, exposed);
      }
      await lo;
      const first = Object.values(settings.Networks)[0];
      if (first?.IPAddress) {
        writeFileSync(initPaths(this.opts.initDir(rec.Id)).HostsPath, hostsFile({
          hostname: rec.Config.Hostname ?? '', domainname: rec.Config.Domainname, extraHosts: rec.HostConfig.ExtraHosts, ip: first.IPAddress,
        }));
      }
    } catch (e) {
      await lo.catch(() => {});
      await this.detach(rec).catch(() => {});
      throw e;
    }
  }

  private async addEndpoint(rec: ContainerRecord, n: NetworkRecord, ep: EndpointSettings, ifName: string, ports: PortMapping[]): Promise<void> {
    if (!this.ruled.has(n.Id)) {
      ensureNetworkRules({ bridge: n.Options[BRIDGE_NAME_OPT], subnet: n.IPAM.Config[0].Subnet, internal: n.Internal });
      this.ruled.add(n.Id);
    }
    const list = bridgeConfList({
      name: n.Name, bridge: n.Options[BRIDGE_NAME_OPT], subnet: n.IPAM.Config[0].Subnet, gateway: n.IPAM.Config[0].Gateway,
      ipRange: n.IPAM.Config[0].IPRange, internal: n.Internal,
    }, this.ipamDir, { ports: ports.length > 0 });
    const capabilityArgs: Record<string, unknown> = {};
    if (ports.length) capabilityArgs.portMappings = ports;
    const prefix = n.IPAM.Config[0].Subnet.split('/')[1];
    if (ep.IPAMConfig?.IPv4Address) capabilityArgs.ips = [`${ep.IPAMConfig.IPv4Address}/${prefix}`];
    if (ep.MacAddress) capabilityArgs.mac = ep.MacAddress;
    const at: Attachment = { containerId: rec.Id, netns: rec.NetworkSettings!.SandboxKey, ifName, capabilityArgs };
    const result = await addNetworkList(list, at);
    const dir = this.stateDir(rec.Id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeAtomic(join(dir, `${n.Id}.json`), JSON.stringify({ network: n.Name, list, at, result, ports } satisfies Attached));
    const ip = result.ips?.[0];
    const iface = result.interfaces?.find((x) => x.sandbox && x.name === ifName);
    Object.assign(ep, {
      NetworkID: n.Id, EndpointID: randomBytes(32).toString('hex'), Gateway: ip?.gateway ?? '', IPAddress: ip?.address.split('/')[0] ?? '',
      IPPrefixLen: Number(ip?.address.split('/')[1] ?? 0), MacAddress: iface?.mac ?? ep.MacAddress,
      DNSNames: hasDns(n) ? [rec.Name.slice(1), rec.Id.slice(0, 12), ...(ep.Aliases ?? [])] : null,
    });
    if (hasDns(n)) await this.ensureDns(n);
    this.emit('connect', n, rec.Id);
  }

  /**
   * Takes the container off its networks: its NetworkSettings lose their addresses now, and
   * the DELs (with what each ADD returned), then the namespace's unpinning, run on after this
   * returns — `run --rm` does not wait for them; a start of the same container, the network's
   * removal and berthd's close do. Safe to repeat.
   */
  detach(rec: ContainerRecord): Promise<void> {
    const s = rec.NetworkSettings;
    if (s) {
      s.SandboxKey = '';
      s.Ports = {};
      for (const ep of Object.values(s.Networks)) {
        const n = ep.EndpointID ? this.byId.get(ep.NetworkID) : undefined;
        if (n) this.emit('disconnect', n, rec.Id);
        Object.assign(ep, { EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, DNSNames: null, MacAddress: ep.IPAMConfig ? ep.MacAddress : '' });
      }
    }
    const id = rec.Id;
    const previous = this.tearing.get(id) ?? Promise.resolve();
    const run = previous.then(async () => {
      const dir = this.stateDir(id);
      let files: string[] = [];
      try { files = readdirSync(dir); } catch { /* none */ }
      for (const f of files) {
        await this.delEndpoint(join(dir, f)).catch((e) => this.opts.log?.('warn', `network teardown of ${id.slice(0, 12)}: ${errorMessage(e)}`));
      }
      rmSync(dir, { recursive: true, force: true });
      unpinNetns(this.netnsDir, id);
    });
    this.tearing.set(id, run);
    void run.finally(() => { if (this.tearing.get(id) === run) this.tearing.delete(id); });
    return Promise.resolve();
  }

  private async delEndpoint(file: string): Promise<void> {
    const a = JSON.parse(readFileSync(file, 'utf8')) as Attached;
    await delNetworkList(a.list, a.at, a.result);
    rmSync(file, { force: true });
  }

  /** Docker's connect: recorded, and made now if the container runs. */
  async connect(rec: ContainerRecord, ref: string, req: EndpointRequest, running: boolean): Promise<void> {
    const n = this.get(ref);
    const mode = rec.HostConfig.NetworkMode ?? '';
    if (!ownNetns(mode) || mode === 'none' || n.Driver !== 'bridge') throw forbidden(`container cannot be disconnected from host network or connected to host network`);
    const settings = rec.NetworkSettings ??= { Networks: {}, Ports: {}, SandboxKey: '' };
    if (settings.Networks[n.Name]) throw forbidden(`endpoint with name ${rec.Name.slice(1)} already exists in network ${n.Name}`);
    this.checkEndpoint(n, req);
    const ep = blankEndpoint(n.Id, req);
    if (running) await this.addEndpoint(rec, n, ep, this.freeIfName(rec.Id), []);
    settings.Networks[n.Name] = ep;
  }

  /** The first `eth<N>` none of the container's endpoints has (a disconnect leaves gaps). */
  private freeIfName(containerId: string): string {
    const dir = this.stateDir(containerId);
    let files: string[] = [];
    try { files = readdirSync(dir); } catch { /* none */ }
    const used = new Set(files.map((f) => { try { return (JSON.parse(readFileSync(join(dir, f), 'utf8')) as Attached).at.ifName; } catch { return ''; } }));
    let i = 0;
    while (used.has(`eth${i}`)) i++;
    return `eth${i}`;
  }

  /** Docker's disconnect: the endpoint undone if the container runs, and forgotten. */
  async disconnect(rec: ContainerRecord, ref: string): Promise<void> {
    const n = this.get(ref);
    const settings = rec.NetworkSettings;
    if (!settings?.Networks[n.Name]) throw forbidden(`container ${rec.Id} is not connected to network ${n.Name}`);
    if (n.Driver !== 'bridge') throw forbidden('container cannot be disconnected from host network or connected to host network');
    const file = join(this.stateDir(rec.Id), `${n.Id}.json`);
    if (existsSync(file)) {
      await this.delEndpoint(file);
      this.emit('disconnect', n, rec.Id);
    }
    delete settings.Networks[n.Name];
  }

  /** berthd's end: bridges no endpoint uses go, so a stopped berthd leaves no device behind. */
  close(): void {
    for (const d of this.dns.values()) d.close();
    this.dns.clear();
    // Teardowns still running are done again, blocking: process.exit follows.
    for (const id of this.tearing.keys()) {
      const dir = this.stateDir(id);
      let files: string[] = [];
      try { files = readdirSync(dir); } catch { /* done */ }
      for (const f of files) {
        try {
          const a = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Attached;
          delNetworkListSync(a.list, a.at, a.result);
        } catch { /* torn file: nothing to undo */ }
      }
      rmSync(dir, { recursive: true, force: true });
      unpinNetns(this.netnsDir, id);
    }
    for (const n of this.byId.values()) {
      const dev = n.Options[BRIDGE_NAME_OPT];
      if (dev && !this.hasEndpoints(n) && (this.ruled.has(n.Id) || existsSync(`/sys/class/net/${dev}`))) deleteBridge(dev);
    }
  }
}
