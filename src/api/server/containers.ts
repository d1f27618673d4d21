// Container routes: create, start, wait, attach (hijacked), logs, list, inspect, stop, kill,
// remove. Shapes and status codes as moby's api/swagger.yaml gives them.

import type { Writable } from 'node:stream';
import { invalid, unsupported } from '../../errors.js';
import {
  containerSizes,
  devicesHostConfig,
  linuxHostConfig,
  BLKIO_DEVICE_FIELDS,
  RESOURCE_FIELDS,
  ZERO_TIME,
  memorySwappiness,
  type ContainerRecord,
  type Engine,
  type ResourceConfig,
  type RestartPolicy,
  type WaitCondition,
} from '../../engine/index.js';
import { FrameReader, frame } from '../stdcopy.js';
import { DEFAULT_DETACH_KEYS, DetachMatcher, inputForwarder, parseDetachKeys } from '../detach-keys.js';
import { apiOlder, attachRefused, beginStream, boolParam, readJSON, resizeDimensions, sendEmpty, sendJSON } from './http.js';
import type { Context, Router } from './router.js';
import { mountHostConfig } from './volumes.js';
import { ContainerCreate, ContainerUpdate } from './body-types.js';
import { refuseUnsupported } from './create-fields.js';
import { parseFilters } from './filters.js';
import { apiEndpoint, checkStorageOpt, filterContainers, inspectMount, securityHostConfig, shownMounts } from '../../engine/index.js';
import { endpointsConfig, migrateInterfaceSysctls, networkHostConfig, networkSettings, summaryPorts } from './networks.js';

const RAW = 'application/vnd.docker.raw-stream';
const MUX = 'application/vnd.docker.multiplexed-stream';

function ago(iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${Math.floor(s)} second${Math.floor(s) === 1 ? '' : 's'}`;
  if (s < 3600) return `${Math.floor(s / 60)} minute${Math.floor(s / 60) === 1 ? '' : 's'}`;
  if (s < 86400) return `${Math.floor(s / 3600)} hour${Math.floor(s / 3600) === 1 ? '' : 's'}`;
  return `${Math.floor(s / 86400)} days`;
}

/** HostConfig.ConsoleSize, [height, width] (Go's [2]uint): the terminal's size at start. */
function consoleSize(v: unknown): { ConsoleSize?: [number, number] } {
  if (v === undefined || v === null) return {};
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff)) {
    throw invalid(`json: cannot unmarshal ${JSON.stringify(v)} into Go struct field HostConfig.ConsoleSize of type [2]uint`);
  }
  return { ConsoleSize: [v[0], v[1]] };
}

/**
 * The resource limits and restart policy of a create or update body (decoded, so typed). An
 * update takes no device lists, OomKillDisable, MemorySwappiness or KernelMemoryTCP (dockerd's
 * update ignores them): refused there rather than ignored. KernelMemory is gone from API 1.42
 * (moby drops it there): discarded with a warning saying so.
 */
function lifecycleHostConfig(
  hc: Record<string, any>,
  version: string | undefined,
  warnings: string[],
  update = false,
): ResourceConfig & { RestartPolicy?: RestartPolicy } {
  const out: ResourceConfig & { RestartPolicy?: RestartPolicy } = {};
  for (const k of RESOURCE_FIELDS) if (hc[k] !== undefined) out[k] = hc[k];
  if (out.KernelMemory && !apiOlder(version, '1.42')) {
    warnings.push('KernelMemory discarded: API 1.42 removed it (dockerd ignores it from 1.42 on)');
    delete out.KernelMemory;
  }
  const refuseUpdate = (k: string) => {
    throw unsupported(`HostConfig.${k} cannot be updated: berthd applies it at create only (dockerd's update ignores it)`);
  };
  // As dockerd: the range is checked at update too (its 400) before anything else.
  const swappiness = memorySwappiness(hc.MemorySwappiness);
  if (swappiness !== null) {
    if (update) refuseUpdate('MemorySwappiness');
    out.MemorySwappiness = swappiness;
  }
  if (hc.KernelMemoryTCP) {
    if (update) refuseUpdate('KernelMemoryTCP');
    out.KernelMemoryTCP = hc.KernelMemoryTCP;
  }
  for (const k of BLKIO_DEVICE_FIELDS) {
    const v = hc[k] as { Path: string; Weight?: number; Rate?: number }[] | null | undefined;
    if (!v?.length) continue;
    if (update) refuseUpdate(k);
    if (k === 'BlkioWeightDevice') out[k] = v.map((d) => ({ Path: d.Path, Weight: d.Weight ?? 0 }));
    else out[k] = v.map((d) => ({ Path: d.Path, Rate: d.Rate ?? 0 }));
  }
  if (hc.OomKillDisable) {
    if (update) refuseUpdate('OomKillDisable');
    out.OomKillDisable = true;
  }
  for (const k of ['CpusetCpus', 'CpusetMems'] as const) {
    const v = hc[k];
    if (v === undefined || v === null || v === '') continue;
    if (
      typeof v !== 'string' ||
      !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v) ||
      v.split(',').some((r) => Number(r.split('-')[1]) < Number(r.split('-')[0]))
    )
      throw invalid(`Invalid value ${v} for ${k === 'CpusetCpus' ? 'cpuset cpus' : 'cpuset mems'}: invalid format: ${v}`);
    out[k] = v;
  }
  const rp = hc.RestartPolicy;
  if (rp !== undefined) out.RestartPolicy = { Name: rp.Name ?? '', MaximumRetryCount: rp.MaximumRetryCount ?? 0 };
  return out;
}

/** `docker ps`'s STATUS column. */
function statusText(c: ContainerRecord): string {
  const st = c.State;
  switch (st.Status) {
    case 'running':
      return `Up ${ago(st.StartedAt)}${st.Health ? ` (${st.Health.Status === 'starting' ? 'health: starting' : st.Health.Status})` : ''}`;
    case 'paused':
      return `Up ${ago(st.StartedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${st.ExitCode}) ${ago(st.FinishedAt)} ago`;
    case 'exited':
      return st.FinishedAt === ZERO_TIME ? 'Created' : `Exited (${st.ExitCode}) ${ago(st.FinishedAt)} ago`;
    case 'removing':
      return 'Removal In Progress';
    default:
      return st.Status.charAt(0).toUpperCase() + st.Status.slice(1);
  }
}

/** A row of the container list; `names`: the names it is known by, links' too (the engine's `names`). */
export function summary(c: ContainerRecord, names = [c.Name]) {
  return {
    Id: c.Id,
    Names: names,
    Image: c.ImageName,
    ImageID: c.Image,
    // As moby: an argument with a space in it is shown in single quotes.
    Command: [c.Path, ...c.Args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' '),
    Created: Math.floor(Date.parse(c.Created) / 1000),
    Ports: summaryPorts(c),
    Labels: c.Config.Labels ?? {},
    State: c.State.Status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.HostConfig.NetworkMode ?? 'none' },
    NetworkSettings: {
      Networks: Object.fromEntries(Object.entries(c.NetworkSettings?.Networks ?? {}).map(([k, ep]) => [k, apiEndpoint(ep)])),
    },
    Mounts: shownMounts(c).map(inspectMount),
    // berth's extension, as podman's: the pod it belongs to (absent otherwise, so docker's shape is unchanged).
    ...podFields(c),
  };
}

/** `Pod` (its ID) and `IsInfra` of a pod's container; nothing for others. */
function podFields(c: ContainerRecord): { Pod?: string; IsInfra?: boolean } {
  if (!c.Pod) return {};
  return c.IsInfra ? { Pod: c.Pod, IsInfra: true } : { Pod: c.Pod };
}

function inspect(engine: Engine, c: ContainerRecord) {
  const st = c.State;
  return {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: {
      Status: st.Status,
      Running: ['running', 'paused', 'restarting'].includes(st.Status),
      Paused: st.Status === 'paused',
      Restarting: st.Status === 'restarting',
      OOMKilled: st.OOMKilled,
      Dead: st.Status === 'dead',
      Pid: st.Pid,
      ExitCode: st.ExitCode,
      Error: st.Error,
      StartedAt: st.StartedAt,
      FinishedAt: st.FinishedAt,
      ...(st.Health ? { Health: st.Health } : {}),
    },
    Image: c.Image,
    ...engine.containers.initPaths(c.Id),
    LogPath: (c.HostConfig.LogConfig?.Type ?? 'json-file') === 'json-file' ? engine.containers.logPath(c.Id) : '',
    Name: c.Name,
    RestartCount: c.RestartCount,
    ...podFields(c),
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: engine.execs.forContainer(c.Id),
    HostConfig: {
      AutoRemove: false,
      Memory: 0,
      MemorySwap: 0,
      MemoryReservation: 0,
      NanoCpus: 0,
      CpuShares: 0,
      CpuQuota: 0,
      CpuPeriod: 0,
      CpusetCpus: '',
      CpusetMems: '',
      PidsLimit: null,
      BlkioWeight: 0,
      BlkioWeightDevice: [],
      BlkioDeviceReadBps: [],
      BlkioDeviceWriteBps: [],
      BlkioDeviceReadIOps: [],
      BlkioDeviceWriteIOps: [],
      CpuRealtimePeriod: 0,
      CpuRealtimeRuntime: 0,
      OomKillDisable: false,
      MemorySwappiness: null,
      KernelMemoryTCP: 0,
      Binds: null,
      NetworkMode: 'none',
      PortBindings: {},
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      Privileged: false,
      ReadonlyRootfs: false,
      CapAdd: null,
      CapDrop: null,
      SecurityOpt: null,
      Init: null,
      Ulimits: null,
      OomScoreAdj: 0,
      ShmSize: 67108864,
      GroupAdd: null,
      PidMode: '',
      IpcMode: 'private',
      UTSMode: '',
      UsernsMode: '',
      Devices: [],
      DeviceCgroupRules: null,
      Isolation: '',
      ...c.HostConfig,
      Links: engine.containers.links(c),
    },
    GraphDriver: { Name: 'overlay2', Data: null },
    Mounts: shownMounts(c).map(inspectMount),
    Config: {
      Hostname: '',
      Domainname: '',
      User: '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: [],
      Cmd: null,
      Image: c.ImageName,
      Volumes: null,
      WorkingDir: '',
      Entrypoint: null,
      OnBuild: null,
      Labels: {},
      ...c.Config,
    },
    NetworkSettings: networkSettings(c),
  };
}

/** Copies the monitor's frames to `out`: raw with a terminal, else frames of the streams asked for. */
/**
 * Writes to a client and, when its buffer is full, waits for it to drain, so a large log
 * streams at the client's pace instead of piling up in berthd's memory. False once the client
 * is gone.
 */
async function send(out: Writable, data: string | Buffer): Promise<boolean> {
  if (out.destroyed || out.writableEnded) return false;
  if (out.write(data)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
  return !out.destroyed;
}

function relayFrames(tty: boolean, want: { stdout: boolean; stderr: boolean }, out: Writable) {
  return new FrameReader((stream, data) => {
    if (tty) out.write(data);
    else if ((stream === 1 && want.stdout) || (stream === 2 && want.stderr)) out.write(frame(stream as 1 | 2, data));
  });
}

export function containerRoutes(router: Router, engine: Engine): void {
  const cs = engine.containers;

  router.on('POST', '/containers/create', async (ctx) => {
    const body = await readJSON(ctx, ContainerCreate);
    if (!body.Image || typeof body.Image !== 'string') throw invalid('Config cannot be empty in order to create a container');
    refuseUnsupported(body);
    checkStorageOpt(body.HostConfig?.StorageOpt, engine.options.dataRoot);
    const { HostConfig, NetworkingConfig: _n, Pod, ...config } = body;
    const hc = HostConfig ?? {};
    const warnings: string[] = [];
    const endpoints = endpointsConfig(body);
    migrateInterfaceSysctls(hc, endpoints, ctx.version, warnings);
    const rec = await cs.create(
      config,
      {
        ...mountHostConfig(hc, ctx.version),
        ...securityHostConfig(hc),
        AutoRemove: !!hc.AutoRemove,
        Memory: 0,
        NanoCpus: 0,
        PidsLimit: null,
        ...lifecycleHostConfig(hc, ctx.version, warnings),
        ...consoleSize(hc.ConsoleSize),
        ...networkHostConfig(hc),
        ...linuxHostConfig(hc),
        ...devicesHostConfig(hc),
        ...(hc.Runtime ? { Runtime: String(hc.Runtime) } : {}),
        ...(hc.CgroupParent ? { CgroupParent: String(hc.CgroupParent) } : {}),
        ...(hc.Isolation ? { Isolation: String(hc.Isolation) } : {}), // default only (create-fields.ts): kept as dockerd keeps it
        // `--log-opt` arrives with an empty Type (the daemon's default driver).
        ...(hc.LogConfig?.Type || hc.LogConfig?.Config
          ? { LogConfig: { Type: hc.LogConfig.Type || 'json-file', Config: hc.LogConfig.Config ?? {} } }
          : {}),
      },
      ctx.query.get('name') || undefined,
      endpoints,
      ctx.query.get('platform') || undefined,
      { pod: (Pod as string | undefined) || undefined },
      warnings,
      // Before API 1.44 every read-only bind was read-only at its top mount only (moby keeps that for older clients).
      { readOnlyNonRecursive: apiOlder(ctx.version, '1.44') },
    );
    sendJSON(ctx, 201, { Id: rec.Id, Warnings: warnings });
  });

  router.on('POST', '/containers/:id/start', async (ctx) => {
    const r = await cs.start(ctx.params.id);
    sendEmpty(ctx, r === 'already' ? 304 : 204);
  });

  router.on('POST', '/containers/:id/wait', async (ctx) => {
    const condition = (ctx.query.get('condition') || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw invalid(`invalid condition: "${condition}"`);
    cs.get(ctx.params.id); // 404 before the headers go
    const res = ctx.res!;
    // The status is always 200: the headers go now, so the client knows the wait has begun.
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const code = await cs.wait(ctx.params.id, condition);
    res.end(JSON.stringify({ StatusCode: code, Error: null }) + '\n');
  });

  router.on('POST', '/containers/:id/attach', async (ctx) => {
    const q = ctx.query;
    let c, keys;
    try {
      c = cs.get(ctx.params.id);
      // Checked with or without a terminal (dockerd's ContainerAttach), though only a terminal's input is watched for them.
      keys = parseDetachKeys(q.get('detachKeys') || DEFAULT_DETACH_KEYS);
    } catch (e) {
      attachRefused(ctx, e);
      return;
    }
    const tty = !!c.Config.Tty;
    // With a terminal, the detach keys end this attach and leave the container running (dockerd's copyEscapable).
    const detach = tty ? new DetachMatcher(keys) : undefined;
    const want = { stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr') };
    const out = beginStream(ctx, tty ? RAW : MUX);
    // A plain request's end is its response's close (the request emits 'close' once read).
    const client = ctx.socket ?? ctx.res!;
    const input = ctx.socket ?? ctx.req;
    let closed = false;
    client.on('close', () => {
      closed = true;
    });
    if (boolParam(q, 'logs')) {
      for await (const e of cs.logs(c.Id)) {
        if (!(e.stream === 'stdout' ? want.stdout : want.stderr)) continue;
        if (!(await send(out, tty ? e.log : frame(e.stream === 'stdout' ? 1 : 2, e.log)))) break;
      }
    }
    const stream = boolParam(q, 'stream') ? await cs.attach(c.Id) : undefined;
    if (!stream || closed) {
      stream?.socket.destroy();
      out.end();
      return;
    }
    const reader = relayFrames(tty, want, out);
    stream.socket.on('data', (d: Buffer) => reader.push(d));
    stream.socket.on('close', () => out.end());
    stream.socket.on('error', () => out.end());
    client.on('close', () => stream.socket.destroy());
    if (boolParam(q, 'stdin')) {
      const forward = inputForwarder(input, stream.socket, detach, () => {
        input.removeListener('data', forward);
        stream.socket.destroy();
        out.end();
      });
      if (ctx.head?.length) forward(ctx.head);
      input.on('data', forward);
      // A hijacked client's half-close ends its input only: the monitor keeps sending output.
      if (ctx.socket) ctx.socket.on('end', () => stream.socket.end());
    }
  });

  router.on('GET', '/containers/:id/logs', async (ctx) => {
    const q = ctx.query;
    const c = cs.get(ctx.params.id);
    const want = { stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr') };
    if (!want.stdout && !want.stderr) throw invalid('Bad parameters: you must choose at least one stream');
    const tail = q.get('tail');
    const abort = new AbortController();
    ctx.res!.on('close', () => abort.abort());
    const tty = !!c.Config.Tty;
    const ts = boolParam(q, 'timestamps');
    const num = (s: string | null) => (s && s !== '0' ? Number(s) : undefined);
    // Before the headers: a log driver that keeps nothing is a 501, not a broken stream.
    const entries = cs.logs(c.Id, {
      follow: boolParam(q, 'follow'),
      tail: tail && tail !== 'all' ? Number(tail) : undefined,
      since: num(q.get('since')),
      until: num(q.get('until')),
      signal: abort.signal,
    });
    const out = beginStream(ctx, tty ? RAW : MUX);
    for await (const e of entries) {
      if (abort.signal.aborted) break;
      if (!(e.stream === 'stdout' ? want.stdout : want.stderr)) continue;
      const line = ts ? `${e.time} ${e.log}` : e.log;
      if (!(await send(out, tty ? line : frame(e.stream === 'stdout' ? 1 : 2, line)))) break;
    }
    out.end();
  });

  router.on('GET', '/containers/json', async (ctx) => {
    const filters = parseFilters(ctx.query);
    // An ancestor that names no image matches nothing (moby logs it and goes on).
    const ancestors =
      filters.ancestor &&
      new Set(
        (
          await Promise.all(
            filters.ancestor.map((a) =>
              engine.images.inspect(a).then(
                (i) => i.id,
                () => '',
              ),
            ),
          )
        ).filter(Boolean),
      );
    // A pod's infra container is berth's own, and goes only with its pod: a Docker client that
    // lists it cannot remove it (`docker rm -f $(docker ps -aq)` would fail), so it is listed
    // only when asked for with berth's `infra` parameter (`berth ps --pod`).
    const infra = boolParam(ctx.query, 'infra');
    const views = cs
      .list()
      .filter((c) => infra || !c.IsInfra)
      .map((c) => {
        const row = summary(c, cs.names(c));
        const networks = Object.keys(row.NetworkSettings.Networks).length
          ? (row.NetworkSettings.Networks as Record<string, { NetworkID?: string }>)
          : { [row.HostConfig.NetworkMode]: {} };
        return {
          row,
          Id: c.Id,
          Name: c.Name,
          State: c.State.Status,
          Running: ['running', 'paused', 'restarting'].includes(c.State.Status),
          ExitCode: c.State.ExitCode,
          Started: c.State.StartedAt !== ZERO_TIME,
          Health: c.State.Health?.Status ?? 'none',
          ImageID: c.Image,
          Labels: c.Config.Labels ?? null,
          Mounts: row.Mounts,
          Ports: row.Ports as { PrivatePort: number; PublicPort?: number; Type: string }[],
          Networks: Object.fromEntries(Object.entries(networks).map(([k, v]) => [k, v?.NetworkID ?? ''])),
        };
      });
    const list = filterContainers(views, filters, {
      all: boolParam(ctx.query, 'all'),
      limit: Number(ctx.query.get('limit') || 0),
      findContainer: (ref) => cs.get(ref).Id,
      ancestors,
    });
    const sizes = boolParam(ctx.query, 'size')
      ? await containerSizes(
          engine,
          list.map((v) => cs.get(v.row.Id)),
        )
      : undefined;
    sendJSON(
      ctx,
      200,
      list.map((v) => (sizes ? { ...v.row, ...sizes.get(v.row.Id) } : v.row)),
    );
  });

  router.on('GET', '/containers/:id/json', async (ctx) => {
    const c = cs.get(ctx.params.id);
    const size = boolParam(ctx.query, 'size') ? (await containerSizes(engine, [c])).get(c.Id) : undefined;
    sendJSON(ctx, 200, { ...inspect(engine, c), ...size });
  });

  router.on('POST', '/containers/:id/stop', async (ctx) => {
    const t = ctx.query.get('t') ?? ctx.query.get('timeout');
    const r = await cs.stop(ctx.params.id, {
      timeout: t === null || t === '' ? undefined : Number(t),
      signal: ctx.query.get('signal') || undefined,
    });
    sendEmpty(ctx, r === 'not-running' ? 304 : 204);
  });

  router.on('POST', '/containers/:id/resize', async (ctx) => {
    const [h, w] = resizeDimensions(ctx.query);
    await cs.resize(ctx.params.id, h, w);
    sendEmpty(ctx, 200);
  });

  router.on('POST', '/containers/:id/kill', async (ctx) => {
    await cs.kill(ctx.params.id, ctx.query.get('signal') || 'SIGKILL');
    sendEmpty(ctx, 204);
  });

  router.on('POST', '/containers/:id/pause', async (ctx) => {
    await cs.pause(ctx.params.id);
    sendEmpty(ctx, 204);
  });

  router.on('POST', '/containers/:id/unpause', async (ctx) => {
    await cs.unpause(ctx.params.id);
    sendEmpty(ctx, 204);
  });

  router.on('POST', '/containers/:id/restart', async (ctx) => {
    const t = ctx.query.get('t') ?? ctx.query.get('timeout');
    await cs.restart(ctx.params.id, {
      timeout: t === null || t === '' ? undefined : Number(t),
      signal: ctx.query.get('signal') || undefined,
    });
    sendEmpty(ctx, 204);
  });

  router.on('POST', '/containers/:id/rename', async (ctx) => {
    await cs.rename(ctx.params.id, ctx.query.get('name') ?? '');
    sendEmpty(ctx, 204);
  });

  router.on('POST', '/containers/:id/update', async (ctx) => {
    const body = await readJSON(ctx, ContainerUpdate);
    const warnings: string[] = [];
    await cs.update(ctx.params.id, lifecycleHostConfig(body, ctx.version, warnings, true), warnings);
    sendJSON(ctx, 200, { Warnings: warnings });
  });

  // (`*`: a legacy link's name, `parent/alias`, comes unescaped from the docker CLI.)
  router.on('DELETE', '/containers/:id*', async (ctx) => {
    if (boolParam(ctx.query, 'link')) await cs.removeLink(ctx.params.id);
    else await cs.remove(ctx.params.id, { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') });
    sendEmpty(ctx, 204);
  });
}

export type { Context };
