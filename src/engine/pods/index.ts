// Pods: groups of containers around an infra container (berth-pause, pause-image.ts) that holds
// the namespaces they share — network, IPC and UTS by default, PID when asked — and the pod's
// network and published ports. A member is an ordinary container whose namespace modes point
// at the infra (rules.ts joinPod; the containers' lifecycle joins them at start), so exits,
// adoption after a berthd restart, teardown and the leak-free removal are the containers'. This
// class keeps the pod records (store.ts) and runs the verbs over the members.

import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { conflict, errorMessage, invalid, isKind, notFound } from '../../errors.js';
import { matches, matchesLabels, validateFilters, type Filters } from '../../common/filters.js';
import type { Containers } from '../containers/index.js';
import { generateName } from '../names.js';
import type { ContainerConfig, ContainerRecord, EndpointRequest, HostConfig } from '../types.js';
import { checkPodOptions, infraSettings, joinPod, podState } from './rules.js';
import { podPortForward } from './port-forward.js';
import { PodStore } from './store.js';
import type { PodCreateOptions, PodRecord, PodState } from './types.js';

export type { PodCreateOptions, PodNamespace, PodRecord, PodState } from './types.js';
export { parseShare, DEFAULT_SHARE } from './rules.js';

/** A pod with what its containers say of it now. */
export interface PodInfo {
  pod: PodRecord;
  state: PodState;
  /** The infra container's record (absent only while a removal or a repair is under way). */
  infra?: ContainerRecord;
  /** Its other containers, newest first. */
  containers: ContainerRecord[];
}

export interface PodsOptions {
  dataRoot: string;
  containers: Containers;
  /** The infra containers' image, imported if missing (pause-image.ts). */
  pauseImage: () => Promise<string>;
  /** The driver of the network named so (`cni` networks have no DNS of berth's). */
  networkDriver: (name: string) => string;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

/** The filters `list` takes (podman's `pod ps --filter`, less those about container fields). */
export const POD_FILTERS = ['id', 'name', 'label', 'status', 'network', 'ctr-names', 'ctr-ids'] as const;

const POD_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const running = (c: ContainerRecord) => ['running', 'paused', 'restarting'].includes(c.State.Status);

export class Pods {
  private readonly store: PodStore;
  private readonly byId = new Map<string, PodRecord>();
  private loaded = false;

  constructor(private readonly opts: PodsOptions) {
    this.store = new PodStore(opts.dataRoot);
  }

  private log(level: 'info' | 'warn' | 'error', msg: string): void {
    this.opts.log?.(level, msg);
  }

  /**
   * Loads the records once (berthd's start or first use). What a berthd killed mid-create or
   * mid-remove left is repaired: a record whose infra container is gone is dropped, an infra
   * container whose record is gone is removed.
   */
  adopt(): void {
    if (this.loaded) return;
    this.loaded = true;
    for (const p of this.store.loadAll((m) => this.log('warn', m))) this.byId.set(p.Id, p);
    const cs = this.opts.containers.list();
    for (const p of [...this.byId.values()]) {
      if (cs.some((c) => c.Id === p.InfraId)) continue;
      this.log('warn', `pod ${p.Name} lost its infra container to an earlier berthd: its record is removed`);
      this.byId.delete(p.Id);
      void this.store.remove(p.Id).catch((e) => this.log('error', `remove the record of pod ${p.Name}: ${errorMessage(e)}`));
    }
    for (const c of cs) {
      if (!c.Pod || this.byId.has(c.Pod)) continue;
      this.log('warn', `container ${c.Id.slice(0, 12)} of a pod an earlier berthd did not finish making or removing: removed`);
      void this.opts.containers
        .remove(c.Id, { force: true, pod: true })
        .catch((e) => this.log('error', `remove container ${c.Id.slice(0, 12)} of a gone pod: ${errorMessage(e)}`));
    }
  }

  /** By full ID, name, or unique ID prefix, as containers are found. */
  get(ref: string): PodRecord {
    this.adopt();
    const byId = this.byId.get(ref);
    if (byId) return byId;
    for (const p of this.byId.values()) if (p.Name === ref) return p;
    const hits = /^[a-f0-9]+$/.test(ref) ? [...this.byId.values()].filter((p) => p.Id.startsWith(ref)) : [];
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) throw invalid(`more than one result for pod ID ${ref}`);
    throw notFound(`no pod with name or ID ${ref} found: no such pod`);
  }

  inspect(ref: string): PodInfo {
    return this.info(this.get(ref));
  }

  /** A connection to `port` on the pod's localhost, from inside its network namespace (the CRI's PortForward). */
  portForward(ref: string, port: number): Duplex {
    const info = this.inspect(ref);
    return podPortForward(info.pod.Id, info.infra, port);
  }

  private info(pod: PodRecord): PodInfo {
    const all = this.opts.containers.list().filter((c) => c.Pod === pod.Id);
    const infra = all.find((c) => c.Id === pod.InfraId);
    return { pod, infra, containers: all.filter((c) => c !== infra), state: podState(all.map((c) => c.State.Status)) };
  }

  /** Every pod, newest first, with podman's filters (id, name, label, status, network, ctr-names, ctr-ids). */
  list(filters: Filters = {}): PodInfo[] {
    this.adopt();
    validateFilters(filters, POD_FILTERS);
    return [...this.byId.values()]
      .sort((a, b) => b.Created.localeCompare(a.Created))
      .map((p) => this.info(p))
      .filter(
        (i) =>
          (!filters.id?.length || filters.id.some((x) => i.pod.Id.startsWith(x))) &&
          matches(filters, 'name', i.pod.Name) &&
          matchesLabels(filters, 'label', i.pod.Labels) &&
          (!filters.status?.length || filters.status.some((s) => s.toLowerCase() === i.state.toLowerCase())) &&
          (!filters.network?.length || filters.network.includes(i.pod.Network)) &&
          (!filters['ctr-names']?.length || i.containers.some((c) => filters['ctr-names'].includes(c.Name.slice(1)))) &&
          (!filters['ctr-ids']?.length || i.containers.some((c) => filters['ctr-ids'].some((x) => c.Id.startsWith(x)))),
      );
  }

  /** Makes the pod and its infra container (not started: `start`, or a member's start, starts it). */
  async create(o: PodCreateOptions = {}): Promise<PodRecord> {
    this.adopt();
    const share = checkPodOptions(o);
    // A pod's driver options are its CNI plugins' CNI_ARGS: a bridge endpoint would keep them with no effect.
    if (o.NetworkDriverOpts && Object.keys(o.NetworkDriverOpts).length && this.opts.networkDriver(o.Network!) !== 'cni')
      throw invalid('network driver options are supported only for pods on a network a CNI config makes');
    const taken = (n: string) => [...this.byId.values()].some((p) => p.Name === n);
    const name = o.Name ?? generateName((n) => taken(n.slice(1))).slice(1);
    if (!POD_NAME.test(name)) throw invalid(`invalid pod name (${name}): only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (taken(name)) throw conflict(`the pod name "${name}" is already in use: pod already exists`);
    const pod: PodRecord = {
      Id: randomBytes(32).toString('hex'),
      Name: name,
      Created: new Date().toISOString(),
      Labels: { ...o.Labels },
      ...(o.Annotations ? { Annotations: { ...o.Annotations } } : {}),
      Hostname: o.Hostname || name,
      SharedNamespaces: share,
      InfraId: '',
      Network: share.includes('net') ? o.Network || 'bridge' : '',
      PortBindings: { ...o.PortBindings },
      NetworkAliases: o.NetworkAliases,
      ...(o.NetworkDriverOpts ? { NetworkDriverOpts: { ...o.NetworkDriverOpts } } : {}),
      CgroupParent: o.CgroupParent,
      Dns: o.Dns,
      DnsSearch: o.DnsSearch,
      DnsOptions: o.DnsOptions,
      ExtraHosts: o.ExtraHosts,
    };
    const infra = infraSettings(pod, await this.opts.pauseImage(), !pod.Network || this.opts.networkDriver(pod.Network) !== 'cni');
    // The record is written once its infra exists; a crash between the two is repaired at adoption.
    const rec = await this.opts.containers.create(
      infra.config,
      infra.hostConfig,
      `${pod.Id.slice(0, 12)}-infra`,
      infra.endpoints,
      undefined,
      {
        infraOf: pod.Id,
      },
    );
    pod.InfraId = rec.Id;
    this.byId.set(pod.Id, pod);
    try {
      await this.store.save(pod);
    } catch (e) {
      this.byId.delete(pod.Id);
      await this.opts.containers.remove(rec.Id, { force: true, pod: true });
      throw e;
    }
    this.log('info', `created pod ${pod.Id.slice(0, 12)} ${pod.Name}`);
    return pod;
  }

  /**
   * Sets up a container's create to join the pod (rules.ts); returns the pod's ID. The
   * containers' create calls it for `create(…, { pod })`.
   */
  join(ref: string, config: ContainerConfig, hc: HostConfig, endpoints: Record<string, EndpointRequest>): string {
    const pod = this.get(ref);
    joinPod(pod, config, hc, endpoints);
    return pod.Id;
  }

  /** Starts the pod's infra container if it is not running (before a member's start joins it). */
  async ensureInfra(podId: string): Promise<void> {
    const pod = this.byId.get(podId);
    if (!pod) throw notFound(`no pod with ID ${podId} found: no such pod`);
    await this.opts.containers.start(pod.InfraId);
  }

  /**
   * Starts the infra container, then every member not running. Each is tried; the first
   * failure is thrown, naming the others. Members still running without their infra container
   * (it was killed) hold namespaces a new one would not share: they are stopped first.
   */
  async start(ref: string): Promise<PodInfo> {
    const pod = this.get(ref);
    if (!this.opts.containers.isRunning(pod.InfraId))
      await this.each(pod, 'stop', (c) => (running(c) ? this.opts.containers.stop(c.Id) : undefined));
    await this.opts.containers.start(pod.InfraId);
    await this.each(pod, 'start', (c) => (running(c) ? undefined : this.opts.containers.start(c.Id)));
    return this.info(pod);
  }

  /** Stops the members (in parallel, each with `timeout` seconds or its own), then the infra container. */
  async stop(ref: string, opts: { timeout?: number } = {}): Promise<PodInfo> {
    const pod = this.get(ref);
    await this.each(pod, 'stop', (c) => this.opts.containers.stop(c.Id, { timeout: opts.timeout }));
    await this.opts.containers.stop(pod.InfraId, { timeout: opts.timeout });
    return this.info(pod);
  }

  /** Sends `signal` to every running container of the pod, the infra last. */
  async kill(ref: string, signal = 'SIGKILL'): Promise<PodInfo> {
    const pod = this.get(ref);
    const members = this.info(pod).containers.filter(running);
    if (!members.length && !this.opts.containers.isRunning(pod.InfraId))
      throw conflict(`pod ${pod.Name} is not running: no container to kill`);
    await this.each(pod, 'kill', (c) => (running(c) ? this.opts.containers.kill(c.Id, signal) : undefined));
    if (this.opts.containers.isRunning(pod.InfraId)) await this.opts.containers.kill(pod.InfraId, signal);
    return this.info(pod);
  }

  async restart(ref: string, opts: { timeout?: number } = {}): Promise<PodInfo> {
    await this.stop(ref, opts);
    return this.start(ref);
  }

  /**
   * Removes the members, the infra container and the record. Running members need `force`
   * (they are then killed, as `rm -f` does); the infra container is stopped regardless.
   * Returns the IDs of the containers removed.
   */
  async remove(ref: string, opts: { force?: boolean } = {}): Promise<string[]> {
    const pod = this.get(ref);
    const members = this.info(pod).containers;
    const busy = members.filter(running);
    if (busy.length && !opts.force)
      throw conflict(
        `pod ${pod.Name} has running containers (${busy.map((c) => c.Name.slice(1)).join(', ')}): stop them or remove the pod with force`,
      );
    await this.each(pod, 'remove', (c) => this.opts.containers.remove(c.Id, { force: true }));
    try {
      await this.opts.containers.remove(pod.InfraId, { force: true, pod: true });
    } catch (e) {
      if (!isKind(e, 'not-found')) throw e;
    }
    await this.store.remove(pod.Id);
    this.byId.delete(pod.Id);
    this.log('info', `removed pod ${pod.Id.slice(0, 12)} ${pod.Name}`);
    return [...members.map((c) => c.Id), pod.InfraId];
  }

  /** podman's pod prune: removes the pods none of whose containers runs (the infra's included); returns their IDs. */
  async prune(): Promise<string[]> {
    const out: string[] = [];
    for (const i of this.list()) {
      if (i.state === 'Running' || i.state === 'Degraded' || i.state === 'Paused') continue;
      await this.remove(i.pod.Id, { force: true });
      out.push(i.pod.Id);
    }
    return out;
  }

  /** Runs `fn` on each member at once; throws the first failure with the count of the others. */
  private async each(pod: PodRecord, verb: string, fn: (c: ContainerRecord) => Promise<unknown> | undefined): Promise<void> {
    const members = this.info(pod).containers;
    const results = await Promise.allSettled(members.map((c) => fn(c)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ c: members[i], e: r.reason as unknown }] : []));
    if (!failed.length) return;
    const first = failed[0];
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : '';
    throw Object.assign(first.e instanceof Error ? first.e : new Error(String(first.e)), {
      message: `${verb} pod ${pod.Name}: container ${first.c.Name.slice(1)}: ${errorMessage(first.e)}${more}`,
    });
  }

  /** Resolves once every record saved so far is on disk (berthd's shutdown). */
  close(): Promise<void> {
    return this.store.flush();
  }
}
