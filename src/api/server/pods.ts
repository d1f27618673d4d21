// Pod routes, berth's extension of the Engine API after podman's libpod pod API: create (its
// PodSpecGenerator's fields, snake_case, as podman's clients send them), list (ListPodsReport,
// with filters), inspect (PodInspect), start, stop, kill, restart, remove, prune, top. Every body
// field and query parameter is applied or refused; none is dropped. Containers join a pod
// through the create body's top-level `Pod` field (containers.ts).

import { invalid } from '../../errors.js';
import {
  DEFAULT_SHARE,
  parseShare,
  type ContainerRecord,
  type Engine,
  type PodInfo,
  type PodNamespace,
  type PortMap,
} from '../../engine/index.js';
import { readBounded, checkDepth } from './body-read.js';
import { decodeBody, type GoType } from './body-decode.js';
import { parseFilters } from './filters.js';
import { sendJSON } from './http.js';
import type { PodInspectReport, PodListReport } from '../pod-types.js';
import type { Context, Router } from './router.js';

const str: GoType = { kind: 'string' };
const strs: GoType = { kind: 'slice', of: str };
const u16: GoType = { kind: 'int', go: 'uint16' };

/** The fields of podman's PodSpecGenerator that berth applies (its JSON names). */
const PodCreate = {
  kind: 'struct',
  go: 'specgen.PodSpecGenerator',
  fields: {
    name: str,
    hostname: str,
    labels: { kind: 'map', of: str },
    share: strs,
    cgroup_parent: str,
    portmappings: {
      kind: 'slice',
      of: {
        kind: 'struct',
        go: 'types.PortMapping',
        fields: { container_port: u16, host_port: u16, host_ip: str, protocol: str, range: u16 },
      },
    },
    netns: { kind: 'struct', go: 'specgen.Namespace', fields: { nsmode: str } },
    Networks: { kind: 'map', of: { kind: 'struct', go: 'types.PerNetworkOptions', fields: { aliases: strs } } },
    dns_server: strs,
    dns_search: strs,
    dns_option: strs,
    hostadd: strs,
  },
} satisfies GoType;

/** Refuses a key the struct does not declare, at any depth of structs (podman's clients send only known ones). */
function refuseUnknown(t: GoType, v: unknown, at: string): void {
  if (t.kind === 'slice' && Array.isArray(v)) v.forEach((x, i) => refuseUnknown(t.of, x, `${at}[${i}]`));
  if (t.kind !== 'struct' || !v || typeof v !== 'object' || Array.isArray(v)) return;
  for (const [k, x] of Object.entries(v)) {
    if (!Object.hasOwn(t.fields, k)) throw invalid(`pod create: unknown field ${at ? `${at}.` : ''}${k}: berth does not apply it`);
    refuseUnknown(t.fields[k], x, at ? `${at}.${k}` : k);
  }
}

async function readPodCreate(ctx: Context): Promise<Record<string, any>> {
  const text = (await readBounded(ctx.req, ctx.req.headers['content-length'])).toString('utf8');
  if (!text.trim()) return {};
  checkDepth(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw invalid(`invalid JSON: ${(e as Error).message}`);
  }
  refuseUnknown(PodCreate, parsed, '');
  return decodeBody(PodCreate, parsed);
}

/** podman's portmappings as Docker's PortBindings; a range maps that many ports one to one. */
export function portBindings(
  list: { container_port?: number; host_port?: number; host_ip?: string; protocol?: string; range?: number }[],
): PortMap {
  const out: PortMap = {};
  for (const p of list) {
    if (!p.container_port) throw invalid('pod create: a port mapping needs container_port');
    for (const proto of (p.protocol || 'tcp').split(',')) {
      if (proto !== 'tcp' && proto !== 'udp') throw invalid(`pod create: unknown protocol ${JSON.stringify(proto)}: give tcp or udp`);
      for (let i = 0; i < (p.range || 1); i++) {
        const key = `${p.container_port + i}/${proto}`;
        (out[key] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: p.host_port ? String(p.host_port + i) : '' });
      }
    }
  }
  return out;
}

/** The one network a pod joins: `netns.nsmode` (bridge, host, none) or a `Networks` key (with its aliases). */
function networkOf(body: Record<string, any>): { Network?: string; NetworkAliases?: string[] } {
  const names = Object.keys(body.Networks ?? {});
  if (names.length > 1) throw invalid('pod create: berth pods join one network; give one in Networks');
  const mode = body.netns?.nsmode as string | undefined;
  if (mode && !['bridge', 'host', 'none', ''].includes(mode))
    throw invalid(`pod create: netns mode ${JSON.stringify(mode)} is not supported: give bridge, host or none`);
  if (mode && mode !== 'bridge' && names.length) throw invalid(`pod create: netns mode ${mode} and a network to join conflict`);
  const aliases = names[0] ? (body.Networks[names[0]]?.aliases as string[] | undefined) : undefined;
  return { Network: names[0] ?? (mode || undefined), NetworkAliases: aliases?.length ? aliases : undefined };
}

/** The query parameters a route takes: any other is refused, as the body's unknown fields are. */
function onlyParams(ctx: Context, allowed: string[]): void {
  for (const k of ctx.query.keys()) if (!allowed.includes(k)) throw invalid(`unknown query parameter ${JSON.stringify(k)}`);
}

function seconds(ctx: Context, name: string): number | undefined {
  const v = ctx.query.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw invalid(`invalid ${name} ${JSON.stringify(v)}: give whole seconds`);
  return Number(v);
}

const status = (c: ContainerRecord) => c.State.Status;
const all = (i: PodInfo) => (i.infra ? [i.infra, ...i.containers] : i.containers);

/** podman's PodInspect. */
export function podInspect(i: PodInfo): PodInspectReport {
  const p = i.pod;
  return {
    Id: p.Id,
    Name: p.Name,
    Namespace: '',
    Created: p.Created,
    State: i.state,
    Hostname: p.Hostname,
    Labels: p.Labels,
    CreateCgroup: !!p.CgroupParent,
    CgroupParent: p.CgroupParent ?? '/berth',
    CreateInfra: true,
    InfraContainerID: p.InfraId,
    InfraConfig: {
      PortBindings: p.PortBindings,
      HostNetwork: p.Network === 'host',
      StaticIP: '',
      StaticMAC: '',
      NoManageResolvConf: false,
      DNSServer: p.Dns ?? null,
      DNSSearch: p.DnsSearch ?? null,
      DNSOption: p.DnsOptions ?? null,
      NoManageHosts: false,
      HostAdd: p.ExtraHosts ?? null,
      Networks: p.Network ? [p.Network] : [],
    },
    SharedNamespaces: p.SharedNamespaces,
    NumContainers: all(i).length,
    Containers: all(i).map((c) => ({ Id: c.Id, Name: c.Name.slice(1), State: status(c) })),
  };
}

/** podman's ListPodsReport. */
export function podSummary(i: PodInfo): PodListReport {
  const p = i.pod;
  return {
    Cgroup: p.CgroupParent ?? '/berth',
    Containers: all(i).map((c) => ({ Id: c.Id, Names: c.Name.slice(1), Status: status(c), RestartCount: c.RestartCount })),
    Created: p.Created,
    Id: p.Id,
    InfraId: p.InfraId,
    Name: p.Name,
    Namespace: '',
    Networks: p.Network ? [p.Network] : [],
    Status: i.state,
    Labels: p.Labels,
  };
}

export function podRoutes(router: Router, engine: Engine): void {
  const pods = engine.pods;

  router.on('POST', '/pods/create', async (ctx) => {
    onlyParams(ctx, []);
    const b = await readPodCreate(ctx);
    const share: PodNamespace[] = b.share ? parseShare((b.share as string[]).join(',')) : DEFAULT_SHARE;
    const pod = await pods.create({
      Name: b.name || undefined,
      Hostname: b.hostname || undefined,
      Labels: b.labels,
      Share: share,
      CgroupParent: b.cgroup_parent || undefined,
      PortBindings: portBindings(b.portmappings ?? []),
      ...networkOf(b),
      Dns: b.dns_server,
      DnsSearch: b.dns_search,
      DnsOptions: b.dns_option,
      ExtraHosts: b.hostadd,
    });
    sendJSON(ctx, 201, { Id: pod.Id });
  });

  router.on('GET', '/pods/json', (ctx) => {
    onlyParams(ctx, ['filters']);
    sendJSON(ctx, 200, pods.list(parseFilters(ctx.query)).map(podSummary));
  });

  router.on('POST', '/pods/prune', async (ctx) => {
    onlyParams(ctx, []);
    sendJSON(
      ctx,
      200,
      (await pods.prune()).map((Id) => ({ Id, Err: null })),
    );
  });

  router.on('GET', '/pods/:name/json', (ctx) => {
    onlyParams(ctx, []);
    sendJSON(ctx, 200, podInspect(pods.inspect(ctx.params.name)));
  });

  router.on('POST', '/pods/:name/start', async (ctx) => {
    onlyParams(ctx, []);
    const i = await pods.start(ctx.params.name);
    sendJSON(ctx, 200, { Id: i.pod.Id, Errs: [] });
  });

  router.on('POST', '/pods/:name/stop', async (ctx) => {
    onlyParams(ctx, ['t']);
    const i = await pods.stop(ctx.params.name, { timeout: seconds(ctx, 't') });
    sendJSON(ctx, 200, { Id: i.pod.Id, Errs: [] });
  });

  router.on('POST', '/pods/:name/restart', async (ctx) => {
    onlyParams(ctx, ['t']);
    const i = await pods.restart(ctx.params.name, { timeout: seconds(ctx, 't') });
    sendJSON(ctx, 200, { Id: i.pod.Id, Errs: [] });
  });

  router.on('POST', '/pods/:name/kill', async (ctx) => {
    onlyParams(ctx, ['signal']);
    const i = await pods.kill(ctx.params.name, ctx.query.get('signal') || 'SIGKILL');
    sendJSON(ctx, 200, { Id: i.pod.Id, Errs: [] });
  });

  router.on('DELETE', '/pods/:name', async (ctx) => {
    onlyParams(ctx, ['force']);
    const force = ['1', 'true', 'True'].includes(ctx.query.get('force') ?? '');
    const id = pods.inspect(ctx.params.name).pod.Id;
    const removed = await pods.remove(id, { force });
    sendJSON(ctx, 200, { Id: id, RemovedCtrs: Object.fromEntries(removed.map((c) => [c, null])) });
  });

  router.on('GET', '/pods/:name/top', async (ctx) => {
    onlyParams(ctx, ['ps_args']);
    const i = pods.inspect(ctx.params.name);
    const args = ctx.query.get('ps_args') ?? undefined;
    let titles: string[] = [];
    const processes: string[][] = [];
    for (const c of all(i)) {
      if (c.State.Status !== 'running') continue;
      const t = await engine.files.top(c.Id, args);
      titles = t.Titles;
      processes.push(...t.Processes);
    }
    sendJSON(ctx, 200, { Titles: titles, Processes: processes });
  });
}
