// The runtimes a daemon knows by name (HostConfig.Runtime), behind the one `Runtime` interface:
// each call goes to the runtime that runs that container, as `runtimeOf` names it (the engine
// reads the container's record), or to the one that listed it (a container no record owns, which
// recovery takes apart), or to the default. It knows nothing of containers beyond their ids.
import type { LinuxResources } from '../oci/runtime-spec.js';
import type { ContainerState, ContainerStats, CreateRequest, ExecRequest, Runtime, RuntimeEvent } from './runtime.js';

/** berth-runtime's name in a daemon's set; `runc`, the name dockerd gives its own, is kept for it too (as berthd took it before). */
export const BUILTIN_RUNTIME = 'berth';
export const BUILTIN_ALIASES = [BUILTIN_RUNTIME, 'runc'] as const;

export class RuntimeSet implements Runtime {
  /** Ids `list` found, by the runtime that keeps them. */
  private readonly listed = new Map<string, string>();

  /**
   * @param runtimes every runtime by name; `defaultName` must be one of them.
   * @param runtimeOf the runtime of a container by id, undefined for an id the caller has no record of.
   */
  constructor(
    readonly runtimes: ReadonlyMap<string, Runtime>,
    readonly defaultName: string,
    private readonly runtimeOf: (id: string) => string | undefined,
  ) {
    if (!runtimes.has(defaultName)) throw new Error(`default runtime ${defaultName} is not among the runtimes`);
  }

  /** The runtime of `id`; one named that no longer exists (removed from the configuration) is the caller's error to meet. */
  of(id: string): Runtime {
    const name = this.runtimeOf(id) ?? this.listed.get(id) ?? this.defaultName;
    const r = this.runtimes.get(name);
    if (!r) throw new Error(`container ${id} runs under runtime ${name}, which berthd's configuration no longer has`);
    return r;
  }

  create(req: CreateRequest): Promise<{ pid: number }> {
    return this.of(req.id).create(req);
  }
  start(id: string): Promise<void> {
    return this.of(id).start(id);
  }
  kill(id: string, signal: string | number, opts?: { all?: boolean }): Promise<void> {
    return this.of(id).kill(id, signal, opts);
  }
  async delete(id: string, opts?: { force?: boolean }): Promise<void> {
    await this.of(id).delete(id, opts);
    this.listed.delete(id);
  }
  pause(id: string): Promise<void> {
    return this.of(id).pause(id);
  }
  resume(id: string): Promise<void> {
    return this.of(id).resume(id);
  }
  exec(req: ExecRequest): Promise<number> {
    return this.of(req.id).exec(req);
  }
  state(id: string): Promise<ContainerState> {
    return this.of(id).state(id);
  }
  update(id: string, resources: LinuxResources): Promise<void> {
    return this.of(id).update(id, resources);
  }
  stats(id: string): Promise<ContainerStats> {
    return this.of(id).stats(id);
  }
  ps(id: string): Promise<number[]> {
    return this.of(id).ps(id);
  }
  events(id: string, opts: { intervalMs: number; signal?: AbortSignal }): AsyncIterable<RuntimeEvent> {
    return this.of(id).events(id, opts);
  }

  /** Every runtime's ids; a runtime that cannot list fails the call (recovery must not miss a container). */
  async list(): Promise<string[]> {
    const all: string[] = [];
    const seen = new Set<Runtime>(); // a runtime under two names lists once
    for (const [name, r] of this.runtimes) {
      if (seen.has(r)) continue;
      seen.add(r);
      for (const id of await r.list()) {
        this.listed.set(id, name);
        all.push(id);
      }
    }
    return all;
  }
}
