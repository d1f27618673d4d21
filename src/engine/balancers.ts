// Port balancers: a port of the host whose connections are spread across containers, in the
// kernel (network/balancer.ts), as kube-proxy spreads a NodePort across a Service's pods.
// berth kube makes one per NodePort; the engine keeps each one's rules in step with its
// backends: at every start or stop of a backend container (its address may change, a stopped
// one takes no connections) and after a berthd restart. Records live in
// `<data-root>/balancers/<id>.json`. A backend that shares another container's network
// (`container:<id>`, a pod's member) is reached at that container's address.

import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { labelMatch } from '../common/filters.js';
import { conflict, errorMessage, invalid, notFound } from '../errors.js';
import { applyBalancer, chainOf, removeBalancer, type Backend } from '../network/balancer.js';
import type { Containers } from './containers/index.js';
import { probeCommand } from './containers/health.js';
import type { Events } from './events.js';
import { BRIDGE_NAME_OPT } from './networks/store.js';
import type { ContainerRecord } from './types.js';

/** What POST /balancers/create takes. Every field but Labels and HostIp is required. */
export interface BalancerCreate {
  Name: string;
  Labels?: Record<string, string>;
  Protocol: 'tcp' | 'udp';
  /** '' or absent: every local address. */
  HostIp?: string;
  HostPort: number;
  /** Containers (by ID or name) and the port each listens on; `Healthy`: only while its health check says healthy (a readinessProbe). */
  Backends: BalancerBackend[];
}

/** A backend: running takes connections, unless `Healthy` asks its health check to pass too. */
export interface BalancerBackend {
  Container: string;
  Port: number;
  Healthy?: boolean;
}

/** A balancer as recorded and inspected. Immutable once made; Endpoints are the backends running now. */
export interface BalancerRecord {
  Id: string;
  Name: string;
  Created: string;
  Labels: Record<string, string>;
  Protocol: 'tcp' | 'udp';
  HostIp: string;
  HostPort: number;
  /** By container ID. */
  Backends: BalancerBackend[];
}

export class Balancers {
  private readonly records = new Map<string, BalancerRecord>();
  /** One rules update at a time per balancer, in order. */
  private readonly queue = new Map<string, Promise<void>>();
  private readonly dir: string;

  constructor(
    dataRoot: string,
    private readonly containers: Containers,
    events: Events,
    private readonly log: (msg: string) => void,
  ) {
    this.dir = join(dataRoot, 'balancers');
    if (existsSync(this.dir)) {
      for (const f of readdirSync(this.dir).filter((n) => n.endsWith('.json'))) {
        const rec = JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as BalancerRecord;
        this.records.set(rec.Id, rec);
      }
    }
    events.subscribe({ filters: { type: ['container'] } }, (e) => {
      if (!['start', 'die', 'destroy'].includes(e.Action) && !e.Action.startsWith('health_status')) return;
      for (const rec of this.records.values())
        if (rec.Backends.some((b) => b.Container === e.Actor.ID || this.sharesNetOf(b.Container, e.Actor.ID))) void this.sync(rec);
    });
    // After a restart of berthd (or of the machine), the rules are set again from the records.
    for (const rec of this.records.values()) void this.sync(rec);
  }

  /** Whether `member` is in the network namespace of `holder` (a pod's infra container). */
  private sharesNetOf(member: string, holder: string): boolean {
    const rec = this.containers.list().find((c) => c.Id === member);
    return rec?.HostConfig.NetworkMode === `container:${holder}`;
  }

  list(labelFilters: string[] = []): BalancerRecord[] {
    return [...this.records.values()].filter((r) => labelFilters.every((f) => labelMatch(r.Labels, f)));
  }

  get(ref: string): BalancerRecord {
    const rec = this.records.get(ref) ?? [...this.records.values()].find((r) => r.Name === ref);
    if (!rec) throw notFound(`balancer ${ref} not found`);
    return rec;
  }

  /** The addresses of the backends that take connections now: running, and healthy where they asked. */
  endpoints(rec: BalancerRecord): Backend[] {
    return rec.Backends.flatMap((b) => {
      if (b.Healthy && this.containers.list().find((c) => c.Id === b.Container)?.State.Health?.Status !== 'healthy') return [];
      const ip = this.addressOf(b.Container);
      return ip ? [{ ip, port: b.Port }] : [];
    });
  }

  async create(req: BalancerCreate): Promise<BalancerRecord> {
    if (typeof req.Name !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(req.Name))
      throw invalid(`invalid balancer name ${JSON.stringify(req.Name)}`);
    if (req.Protocol !== 'tcp' && req.Protocol !== 'udp') throw invalid(`invalid protocol ${JSON.stringify(req.Protocol)}: tcp or udp`);
    const okPort = (p: unknown) => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;
    if (!okPort(req.HostPort)) throw invalid(`invalid host port ${JSON.stringify(req.HostPort)}: 1-65535`);
    if (!Array.isArray(req.Backends)) throw invalid('Backends must be a list');
    for (const r of this.records.values()) {
      if (r.Name === req.Name) throw conflict(`balancer ${req.Name} already exists`);
      if (r.Protocol === req.Protocol && r.HostPort === req.HostPort && (!r.HostIp || !req.HostIp || r.HostIp === req.HostIp))
        throw conflict(`host port ${req.HostPort}/${req.Protocol} is already balanced by ${r.Name}`);
    }
    const backends = req.Backends.map((b) => {
      if (!okPort(b.Port)) throw invalid(`invalid backend port ${JSON.stringify(b.Port)}: 1-65535`);
      const c = this.containers.get(b.Container);
      if (b.Healthy && !probeCommand(c.Config.Healthcheck ?? undefined))
        throw invalid(`backend ${b.Container} has no health check to be healthy by`);
      return { Container: c.Id, Port: b.Port, ...(b.Healthy ? { Healthy: true } : {}) };
    });
    const rec: BalancerRecord = {
      Id: randomBytes(32).toString('hex'),
      Name: req.Name,
      Created: new Date().toISOString(),
      Labels: req.Labels ?? {},
      Protocol: req.Protocol,
      HostIp: req.HostIp ?? '',
      HostPort: req.HostPort,
      Backends: backends,
    };
    await writeFileAtomic(join(this.dir, `${rec.Id}.json`), JSON.stringify(rec));
    this.records.set(rec.Id, rec);
    try {
      await this.enqueue(rec, () => applyBalancer(this.rulesOf(rec, this.endpoints(rec)), this.bridgesOf(rec)));
    } catch (e) {
      // Nothing half made stays: the record and whatever rules went in go again.
      await this.remove(rec.Id).catch((e2: unknown) =>
        this.log(`balancer ${rec.Name}: removing after a failed create: ${errorMessage(e2)}`),
      );
      throw e;
    }
    return rec;
  }

  async remove(ref: string): Promise<void> {
    const rec = this.get(ref);
    this.records.delete(rec.Id);
    await this.enqueue(rec, () => removeBalancer(this.rulesOf(rec, [])));
    await rm(join(this.dir, `${rec.Id}.json`), { force: true });
  }

  /** The address a running container is reached at: its own first network's, or that of the container whose network it shares. */
  private addressOf(ref: string): string | undefined {
    let c: ContainerRecord | undefined = this.containers.list().find((x) => x.Id === ref);
    if (c?.State.Status !== 'running') return undefined;
    const mode = c.HostConfig.NetworkMode ?? '';
    if (mode.startsWith('container:')) c = this.containers.list().find((x) => x.Id === mode.slice(10) || x.Name === `/${mode.slice(10)}`);
    return Object.values(c?.NetworkSettings?.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
  }

  private rulesOf(rec: BalancerRecord, backends: Backend[]) {
    return { chain: chainOf(rec.Id), protocol: rec.Protocol, hostIp: rec.HostIp, hostPort: rec.HostPort, backends };
  }

  /** The bridges the backends are on (their route_localnet lets the host's 127.0.0.1 reach them). */
  private bridgesOf(rec: BalancerRecord): string[] {
    const nets = this.containers.networks;
    const out = new Set<string>();
    for (const b of rec.Backends) {
      let c = this.containers.list().find((x) => x.Id === b.Container);
      const mode = c?.HostConfig.NetworkMode ?? '';
      if (mode.startsWith('container:')) c = this.containers.list().find((x) => x.Id === mode.slice(10));
      for (const name of Object.keys(c?.NetworkSettings?.Networks ?? {})) {
        const dev = nets.get(name).Options[BRIDGE_NAME_OPT];
        if (dev && existsSync(`/sys/class/net/${dev}`)) out.add(dev);
      }
    }
    return [...out];
  }

  /** Sets the balancer's rules to its running backends after a change; a failure is logged (the next change tries again). */
  private sync(rec: BalancerRecord): Promise<void> {
    return this.enqueue(rec, async () => {
      if (!this.records.has(rec.Id)) return;
      try {
        await applyBalancer(this.rulesOf(rec, this.endpoints(rec)), this.bridgesOf(rec));
      } catch (e) {
        this.log(`balancer ${rec.Name}: ${errorMessage(e)}`);
      }
    });
  }

  private enqueue(rec: BalancerRecord, fn: () => Promise<void>): Promise<void> {
    const next = (this.queue.get(rec.Id) ?? Promise.resolve()).then(fn);
    const tail = next.catch((e: unknown) => this.log(`balancer ${rec.Name}: ${errorMessage(e)}`));
    this.queue.set(rec.Id, tail);
    return next;
  }
}
