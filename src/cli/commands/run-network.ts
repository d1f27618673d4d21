// run and create's networks, as docker 28's CLI makes them: `--network` repeated and in its
// advanced form (`name=N,alias=A,ip=…,ip6=…,mac-address=…,link-local-ip=…,driver-opt=K=V,gw-priority=P`,
// docker's opts.NetworkOpt: every field lowercased), the simple --network-alias, --ip, --ip6,
// --mac-address, --link-local-ip and --link applied to the first network (refused beside the same
// field of its advanced form), each network's EndpointSettings in NetworkingConfig.EndpointsConfig
// and the first network the NetworkMode. Refusals carry docker's words.

import { invalid } from '../../errors.js';
import { csvRecord } from '../csv.js';

/** One `--network` value: a network and the endpoint asked on it. */
export interface NetworkAttachment {
  Target: string;
  Aliases: string[];
  DriverOpts?: Record<string, string>;
  Links: string[];
  IPv4Address: string;
  IPv6Address: string;
  LinkLocalIPs: string[];
  MacAddress: string;
  GwPriority: number;
}

const attachment = (target: string): NetworkAttachment => ({
  Target: target,
  Aliases: [],
  Links: [],
  IPv4Address: '',
  IPv6Address: '',
  LinkLocalIPs: [],
  MacAddress: '',
  GwPriority: 0,
});

/** strconv.Atoi's reasons, as docker words a bad gw-priority. */
function atoi(s: string, what: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`${what} (${s}): invalid syntax`);
  const n = BigInt(s);
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) throw new Error(`${what} (${s}): value out of range`);
  return Number(n);
}

/**
 * One `--network` value, as docker's NetworkOpt.Set reads it: a plain name, or (where a `word=word`
 * appears anywhere in it, docker's test) a CSV record of key=value fields. Throws docker's reason,
 * which the flag parser words as `invalid argument "V" for "--network" flag: …`.
 */
export function parseNetworkOpt(value: string): NetworkAttachment {
  if (!/\w+=\w+/.test(value)) return attachment(value);
  const n = attachment('');
  for (const field of csvRecord(value)) {
    const lower = field.toLowerCase();
    const eq = lower.indexOf('=');
    if (eq <= 0) throw new Error(`invalid field ${field}`);
    const key = lower.slice(0, eq).trim(),
      val = lower.slice(eq + 1).trim();
    switch (key) {
      case 'name':
        n.Target = val;
        break;
      case 'alias':
        n.Aliases.push(val);
        break;
      case 'ip':
        n.IPv4Address = val;
        break;
      case 'ip6':
        n.IPv6Address = val;
        break;
      case 'mac-address':
        n.MacAddress = val;
        break;
      case 'link-local-ip':
        n.LinkLocalIPs.push(val);
        break;
      case 'driver-opt': {
        const i = val.indexOf('=');
        if (i <= 0) throw new Error('invalid key value pair format in driver options');
        (n.DriverOpts ??= {})[val.slice(0, i).trim()] = val.slice(i + 1).trim();
        break;
      }
      case 'gw-priority':
        n.GwPriority = atoi(val, 'invalid gw-priority');
        break;
      default:
        throw new Error(`invalid field key ${key}`);
    }
  }
  if (!n.Target) throw new Error('network name/id is not specified');
  return n;
}

/** container.NetworkMode.IsUserDefined: not default, bridge, host, none or container:X. */
const userDefined = (mode: string) =>
  !['default', 'bridge', 'host', 'none'].includes(mode) && !(mode.split(':').length > 1 && mode.split(':')[0] === 'container');

/** Go's net.ParseMAC: 6, 8 or 20 bytes as xx:xx…, xx-xx… or xxxx.xxxx…. */
export function macOk(s: string): boolean {
  const sizes = [6, 8, 20];
  const colon = /^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2})*$/.test(s) && (s.includes('-') ? !s.includes(':') : true);
  if (colon) return sizes.includes((s.length + 1) / 3);
  if (/^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4})*$/.test(s)) return sizes.includes(((s.length + 1) / 5) * 2);
  return false;
}

/** The simple flags beside one network's advanced form. */
export interface SimpleFlags {
  aliases: string[];
  links: string[];
  ip?: string;
  ip6?: string;
  mac?: string;
  linkLocalIPs: string[];
}

/** docker's applyContainerOptions: the simple flags go on the first network, never beside its own of a kind. */
function applySimple(n: NetworkAttachment, s: SimpleFlags): void {
  const conflict = (what: string) => invalid(`conflicting options: cannot specify both ${what}`);
  if (n.Aliases.length && s.aliases.length) throw conflict('--network-alias and per-network alias');
  if (n.IPv4Address && s.ip) throw conflict('--ip and per-network IPv4 address');
  if (n.IPv6Address && s.ip6) throw conflict('--ip6 and per-network IPv6 address');
  if (n.MacAddress && s.mac) throw conflict('--mac-address and per-network MAC address');
  if (n.LinkLocalIPs.length && s.linkLocalIPs.length) throw conflict('--link-local-ip and per-network link-local IP addresses');
  if (s.aliases.length) n.Aliases = [...s.aliases];
  // On a user-defined network a link is the endpoint's; on the default bridge a legacy link (HostConfig.Links).
  if (userDefined(n.Target) && s.links.length) n.Links = [...s.links];
  if (s.ip) n.IPv4Address = s.ip;
  if (s.ip6) n.IPv6Address = s.ip6;
  if (s.mac) n.MacAddress = s.mac;
  if (s.linkLocalIPs.length) n.LinkLocalIPs = [...s.linkLocalIPs];
}

/** The EndpointSettings docker's CLI sends for one network (parseNetworkAttachmentOpt). */
function endpointSettings(n: NetworkAttachment): Record<string, unknown> {
  if (!n.Target.trim()) throw invalid('no name set for network');
  if (!userDefined(n.Target)) {
    if (n.Aliases.length) throw invalid('network-scoped aliases are only supported for user-defined networks');
    if (n.Links.length) throw invalid('links are only supported for user-defined networks');
  }
  if (n.MacAddress && !macOk(n.MacAddress.trim())) throw invalid(`${n.MacAddress} is not a valid mac address`);
  const ipam = n.IPv4Address || n.IPv6Address || n.LinkLocalIPs.length;
  return {
    IPAMConfig: ipam
      ? {
          IPv4Address: n.IPv4Address || undefined,
          IPv6Address: n.IPv6Address || undefined,
          LinkLocalIPs: n.LinkLocalIPs.length ? n.LinkLocalIPs : undefined,
        }
      : null,
    Links: n.Links.length ? n.Links : null,
    Aliases: n.Aliases.length ? n.Aliases : null,
    MacAddress: n.MacAddress,
    DriverOpts: n.DriverOpts ?? null,
    GwPriority: n.GwPriority,
  };
}

/** No option asked of the endpoint: what docker's CLI leaves to the daemon. */
export const emptyEndpoint = (ep: Record<string, unknown>) =>
  ep.IPAMConfig === null &&
  ep.Links === null &&
  ep.Aliases === null &&
  ep.MacAddress === '' &&
  ep.DriverOpts === null &&
  ep.GwPriority === 0;

/**
 * HostConfig.NetworkMode and NetworkingConfig.EndpointsConfig from the `--network` values (parsed
 * already) and the simple flags, as docker 28's parseNetworkOpts makes them: with no --network the
 * `default` network's endpoint; one --network without options an empty EndpointsConfig (the daemon
 * makes its endpoint); several networks each their endpoint (API 1.44 and later attach them all).
 */
export function networkFields(
  values: string[],
  simple: SimpleFlags,
): { NetworkMode: string; NetworkingConfig: { EndpointsConfig: Record<string, Record<string, unknown>> } } {
  const nets = values.map(parseNetworkOpt);
  const endpoints: Record<string, Record<string, unknown>> = {};
  if (!nets.length) {
    const n = attachment('default');
    applySimple(n, simple);
    endpoints.default = endpointSettings(n);
  }
  let user = false,
    other = false;
  nets.forEach((n, i) => {
    if (userDefined(n.Target)) user = true;
    else other = true;
    if (i === 0) applySimple(n, simple);
    const ep = endpointSettings(n);
    if (endpoints[n.Target]) throw invalid(`network ${JSON.stringify(n.Target)} is specified multiple times`);
    if (i === 0 && nets.length === 1 && emptyEndpoint(ep)) return;
    endpoints[n.Target] = ep;
  });
  if (user && other) throw invalid('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  return { NetworkMode: nets[0]?.Target ?? 'default', NetworkingConfig: { EndpointsConfig: endpoints } };
}
