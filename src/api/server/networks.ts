// Network routes: list (filters), inspect, create, remove, connect, disconnect, prune; and the
// container create options and inspect/list fields that are about networks (NetworkMode,
// PortBindings, PublishAllPorts, NetworkingConfig; NetworkSettings, Ports). Shapes and status
// codes as moby's api/swagger.yaml gives them.

import { invalid, notFound, systemError } from '../../errors.js';
import {
  AmbiguousNetwork,
  apiEndpoint,
  SYSCTLS_OPT,
  type ContainerRecord,
  type EndpointRequest,
  type Engine,
  type HostConfig,
  type PortMap,
} from '../../engine/index.js';
import { apiOlder, readJSON, sendEmpty, sendJSON } from './http.js';
import { NetworkConnect, NetworkCreate, NetworkDisconnect } from './body-types.js';
import type { Router } from './router.js';
import { parseFilters, pruneFilters } from './filters.js';

/** The network fields of a create request's HostConfig, checked for shape. */
export function networkHostConfig(hc: Record<string, any>): Partial<HostConfig> {
  const out: Partial<HostConfig> = {};
  if (hc.NetworkMode !== undefined && typeof hc.NetworkMode !== 'string') throw invalid('HostConfig.NetworkMode must be a string');
  if (hc.NetworkMode) out.NetworkMode = hc.NetworkMode;
  if (hc.PortBindings && Object.keys(hc.PortBindings).length) {
    if (typeof hc.PortBindings !== 'object' || Array.isArray(hc.PortBindings)) throw invalid('HostConfig.PortBindings must be an object');
    out.PortBindings = hc.PortBindings as PortMap;
  }
  if (hc.PublishAllPorts) out.PublishAllPorts = true;
  if (hc.Links?.length) out.Links = hc.Links as string[];
  return out;
}

/** NetworkingConfig.EndpointsConfig (the key `default` is the default network), with the older Config.MacAddress. */
export function endpointsConfig(body: Record<string, any>): Record<string, EndpointRequest> {
  const out: Record<string, EndpointRequest> = {};
  for (const [k, v] of Object.entries<any>(body.NetworkingConfig?.EndpointsConfig ?? {})) {
    out[k === 'default' ? 'bridge' : k] = {
      IPAMConfig: v?.IPAMConfig ?? null,
      Aliases: v?.Aliases ?? null,
      MacAddress: v?.MacAddress || undefined,
      Links: v?.Links ?? null,
      DriverOpts: v?.DriverOpts ?? null,
      GwPriority: v?.GwPriority ?? 0,
    };
  }
  if (body.MacAddress) {
    const mode = body.HostConfig?.NetworkMode;
    const key = !mode || mode === 'default' ? 'bridge' : mode;
    out[key] = { ...out[key], MacAddress: out[key]?.MacAddress || body.MacAddress };
  }
  return out;
}

/**
 * moby's handleSysctlBC: a create's `HostConfig.Sysctls` that name `eth0` (`net.X.Y.eth0.Z`) are
 * the NetworkMode endpoint's sysctls from then on, written once its interface exists (runc
 * under dockerd 20.10 wrote them after the network was set up; berth's runtime writes sysctls
 * before). Moved with dockerd's warning up to API 1.46; from 1.47 refused in its words and status
 * (a 500), as another `ethN`. Changes `hc.Sysctls` and `endpoints` in place.
 */
export function migrateInterfaceSysctls(
  hc: Record<string, any>,
  endpoints: Record<string, EndpointRequest>,
  version: string | undefined,
  warnings: string[],
): void {
  const mode: string = hc.NetworkMode || 'default';
  if (mode === 'host' || mode.startsWith('container:')) return;
  const sysctls = (hc.Sysctls ?? {}) as Record<string, string>;
  let ep: EndpointRequest | undefined;
  const moved: string[] = [];
  const opts: string[] = [];
  for (const [k, v] of Object.entries(sysctls)) {
    const p = k.split('.');
    if (p.length < 5 || p[0] !== 'net' || !p[3].startsWith('eth')) continue;
    if (!ep) {
      if (!apiOlder(version, '1.47'))
        throw systemError(`interface specific sysctl setting ${JSON.stringify(k)} must be supplied using driver option '${SYSCTLS_OPT}'`);
      ep = endpointForMode(mode === 'default' ? 'bridge' : mode, endpoints, version, k);
    }
    if (p[3] !== 'eth0')
      throw systemError(
        `unable to determine network endpoint for sysctl ${k}, use driver option '${SYSCTLS_OPT}' to set per-interface sysctls`,
      );
    moved.push(k);
    opts.push(`net.${p[1]}.${p[2]}.IFNAME.${p.slice(4).join('.')}=${v}`);
  }
  if (!ep) return;
  const opt = opts.join(',');
  warnings.push(`Migrated sysctl ${JSON.stringify(moved.join(','))} to DriverOpts{${JSON.stringify(SYSCTLS_OPT)}:${JSON.stringify(opt)}}.`);
  const old = ep.DriverOpts?.[SYSCTLS_OPT];
  ep.DriverOpts = { ...(ep.DriverOpts ?? {}), [SYSCTLS_OPT]: old ? `${opt},${old}` : opt };
  for (const k of moved) delete sysctls[k];
}

/** moby's epConfigForNetMode: the NetworkMode's endpoint request, made when there are none. */
function endpointForMode(
  name: string,
  endpoints: Record<string, EndpointRequest>,
  version: string | undefined,
  k: string,
): EndpointRequest {
  const keys = Object.keys(endpoints);
  if (!keys.length) return (endpoints[name] = {});
  if (apiOlder(version, '1.44')) return endpoints[keys[0]];
  if (!endpoints[name])
    throw invalid(
      `unable to find a network for sysctl ${k}: HostConfig.NetworkMode must match the identity of a network in NetworkSettings.Networks`,
    );
  return endpoints[name];
}

/** Inspect's NetworkSettings: the default network's address on top, as dockerd still gives it. */
export function networkSettings(c: ContainerRecord) {
  const s = c.NetworkSettings;
  const b = s?.Networks.bridge;
  return {
    Bridge: '',
    SandboxID: s?.SandboxKey ? c.Id : '',
    SandboxKey: s?.SandboxKey ?? '',
    Ports: s?.Ports ?? {},
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: b?.EndpointID ?? '',
    Gateway: b?.Gateway ?? '',
    GlobalIPv6Address: b?.GlobalIPv6Address ?? '',
    GlobalIPv6PrefixLen: b?.GlobalIPv6PrefixLen ?? 0,
    IPAddress: b?.IPAddress ?? '',
    IPPrefixLen: b?.IPPrefixLen ?? 0,
    IPv6Gateway: b?.IPv6Gateway ?? '',
    MacAddress: b?.MacAddress ?? '',
    // Records made before GwPriority was kept have none: dockerd shows 0.
    Networks: Object.fromEntries(Object.entries(s?.Networks ?? {}).map(([k, ep]) => [k, apiEndpoint(ep)])),
  };
}

/** The list's Ports: one entry a published binding, one an exposed port without any. */
export function summaryPorts(c: ContainerRecord) {
  const out: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] = [];
  const ports = c.NetworkSettings?.Ports ?? {};
  const running = !!c.NetworkSettings?.SandboxKey;
  for (const key of new Set([...Object.keys(c.Config.ExposedPorts ?? {}), ...Object.keys(ports)])) {
    const [p, Type = 'tcp'] = key.split('/');
    const list = running ? (ports[key] ?? []) : [];
    if (!list.length) out.push({ PrivatePort: Number(p), Type });
    for (const b of list) out.push({ IP: b.HostIp || '0.0.0.0', PrivatePort: Number(p), PublicPort: Number(b.HostPort), Type });
  }
  return out;
}

export function networkRoutes(router: Router, engine: Engine): void {
  const ns = () => engine.containers.networks;

  router.on('GET', '/networks', (ctx) => {
    const f = parseFilters(ctx.query);
    const dangling = f.dangling?.[0];
    let list = ns()
      .list(f)
      .map((n) => ns().inspect(n.Id));
    if (dangling !== undefined)
      list = list.filter(
        (n) =>
          (Object.keys(n.Containers).length === 0 && !['bridge', 'host', 'none'].includes(n.Name)) ===
          (dangling === 'true' || dangling === '1'),
      );
    sendJSON(ctx, 200, list);
  });

  router.on('GET', '/networks/:id*', (ctx) => {
    // `verbose` adds a swarm network's services and peers: berthd's networks are local and have
    // none, so dockerd's answer for them is the same. `scope` finds only a network of that scope.
    const scope = ctx.query.get('scope');
    try {
      const n = ns().inspect(ctx.params.id);
      if (scope && scope !== n.Scope) throw notFound(`network ${ctx.params.id} not found`);
      sendJSON(ctx, 200, n);
    } catch (e) {
      // dockerd's inspect words an ambiguous prefix its own way (its router, not FindNetwork).
      if (e instanceof AmbiguousNetwork) throw invalid(`${e.count} matches found based on ID prefix: network ${e.ref} is ambiguous`);
      throw e;
    }
  });

  router.on('POST', '/networks/create', async (ctx) => {
    const body = await readJSON(ctx, NetworkCreate);
    if (typeof body.Name !== 'string') throw invalid('network name is required');
    sendJSON(ctx, 201, await ns().create(body as Parameters<ReturnType<typeof ns>['create']>[0]));
  });

  router.on('DELETE', '/networks/:id*', async (ctx) => {
    await ns().remove(ctx.params.id);
    sendEmpty(ctx, 204);
  });

  router.on('POST', '/networks/:id*/connect', async (ctx) => {
    const body = await readJSON(ctx, NetworkConnect);
    if (!body.Container) throw invalid('no container given to connect');
    const ep = body.EndpointConfig ?? {};
    await engine.containers.connect(body.Container, ctx.params.id, {
      IPAMConfig: ep.IPAMConfig ?? null,
      Aliases: ep.Aliases ?? null,
      MacAddress: ep.MacAddress || undefined,
      Links: ep.Links ?? null,
      DriverOpts: ep.DriverOpts ?? null,
      GwPriority: ep.GwPriority ?? 0,
    });
    sendEmpty(ctx, 200);
  });

  router.on('POST', '/networks/:id*/disconnect', async (ctx) => {
    const body = await readJSON(ctx, NetworkDisconnect);
    if (!body.Container) throw invalid('no container given to disconnect');
    await engine.containers.disconnect(body.Container, ctx.params.id);
    sendEmpty(ctx, 200);
  });

  router.on('POST', '/networks/prune', async (ctx) => {
    const f = pruneFilters(ctx.query, ['until', 'label', 'label!']);
    sendJSON(ctx, 200, { NetworksDeleted: await ns().prune({ until: f.until, label: f.label, notLabel: f.notLabel }) });
  });
}
