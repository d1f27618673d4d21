// Events: what happened to containers, images, volumes and networks, as Docker's `/events`
// reports it. A bounded in-memory log (Docker keeps none across restarts either) for replay
// with `since`/`until`, and subscribers for the live stream. Knows nothing of HTTP.

import { invalid } from '../errors.js';

/** One event, in Docker's message shape (moby's `events.Message`). Immutable. */
export interface EventMessage {
  /** Legacy fields, filled for container and image events (`from` for containers only). */
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  /** `start`, `die`, `health_status: healthy`, `exec_create: sh -c …` … */
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  /** Unix seconds and nanoseconds; nanoseconds exceed a double's precision, hence bigint. */
  time: number;
  timeNano: bigint;
}

/** The filter keys Docker's `/events` accepts (others are a 400). */
const FILTER_KEYS = [
  'config',
  'container',
  'daemon',
  'event',
  'image',
  'label',
  'network',
  'node',
  'plugin',
  'scope',
  'secret',
  'service',
  'type',
  'volume',
];

export type EventFilters = Record<string, string[]>;

export class Events {
  private readonly log: EventMessage[] = [];
  private readonly subscribers = new Set<(e: EventMessage) => void>();
  private lastNano = 0n;

  /** `limit`: how many past events are kept for replay. */
  constructor(private readonly limit = 1000) {}

  /** Records and publishes an event; the legacy fields follow from the type. */
  emit(type: string, action: string, id: string, attributes: Record<string, string> = {}): EventMessage {
    const nano = this.now();
    const msg: EventMessage = {
      ...(type === 'container' || type === 'image' ? { status: action, id } : {}),
      ...(type === 'container' && attributes.image !== undefined ? { from: attributes.image } : {}),
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: { ...attributes } },
      scope: 'local',
      time: Number(nano / 1_000_000_000n),
      timeNano: nano,
    };
    this.log.push(msg);
    if (this.log.length > this.limit) this.log.splice(0, this.log.length - this.limit);
    for (const s of this.subscribers) s(msg);
    return msg;
  }

  /**
   * The kept events between `since` and `until` (nanoseconds, inclusive) that match, and a
   * subscription to what comes next. Without either bound nothing is replayed, as Docker.
   */
  subscribe(
    opts: { since?: bigint; until?: bigint; filters?: EventFilters },
    fn: (e: EventMessage) => void,
  ): { past: EventMessage[]; unsubscribe: () => void } {
    const match = (e: EventMessage) => matches(e, opts.filters ?? {});
    const past =
      opts.since === undefined && opts.until === undefined
        ? []
        : this.log.filter(
            (e) =>
              (opts.since === undefined || e.timeNano >= opts.since) && (opts.until === undefined || e.timeNano <= opts.until) && match(e),
          );
    const sub = (e: EventMessage) => {
      if (match(e)) fn(e);
    };
    this.subscribers.add(sub);
    return {
      past,
      unsubscribe: () => {
        this.subscribers.delete(sub);
      },
    };
  }

  /**
   * Wall-clock nanoseconds, strictly increasing so that replay keeps the order. Whole
   * milliseconds of the wall clock (plus the ordering nanoseconds), never a sub-millisecond part
   * from another clock: an event must not be stamped after a client's `until` read just after it.
   */
  private now(): bigint {
    let nano = BigInt(Date.now()) * 1_000_000n;
    if (nano <= this.lastNano) nano = this.lastNano + 1n;
    this.lastNano = nano;
    return nano;
  }
}

/** Checks the keys of `/events` filters (moby's accepted set). */
export function checkEventFilters(filters: EventFilters): void {
  for (const k of Object.keys(filters)) if (!FILTER_KEYS.includes(k)) throw invalid(`Invalid filter '${k}'`);
}

/** `seconds[.nanoseconds]` (what the docker CLI sends for --since/--until) → nanoseconds. */
export function parseEventTime(s: string): bigint {
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(s.trim());
  if (!m) throw invalid(`invalid timestamp: ${s}`);
  return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

/** The message as Docker's JSON (timeNano as an exact integer). */
export function eventJSON(e: EventMessage): string {
  const { timeNano, ...rest } = e;
  return `${JSON.stringify(rest).slice(0, -1)},"timeNano":${timeNano}}`;
}

/**
 * Whether `e` passes `filters`, as moby's daemon/events/filter.go: each key given must match;
 * values of one key are alternatives; `container`, `volume`, `network` match an ID prefix or
 * the name; `image` the image's ID or name, with or without its tag; `label` every `k` or `k=v`.
 */
export function matches(e: EventMessage, filters: EventFilters): boolean {
  const attrs = e.Actor.Attributes;
  const any = (key: string, ok: (v: string) => boolean) => !filters[key]?.length || filters[key].some(ok);
  const byName = (type: string) => any(type, (v) => e.Type === type && (e.Actor.ID.startsWith(v) || attrs.name === v));
  // health_status and exec_* actions carry a suffix; a filter without one matches them all.
  const event = (v: string) =>
    e.Action === v || (['health_status', 'exec_create', 'exec_start'].includes(v) && e.Action.startsWith(`${v}:`));
  const imageName = e.Type === 'image' ? attrs.name : attrs.image;
  const image = (v: string) => [e.Actor.ID, imageName, stripTag(e.Actor.ID), stripTag(imageName)].some((x) => x !== undefined && x === v);
  const labels = (filters.label ?? []).every((l) => {
    const eq = l.indexOf('=');
    return eq < 0 ? l in attrs : attrs[l.slice(0, eq)] === l.slice(eq + 1);
  });
  return (
    any('event', event) &&
    any('type', (v) => e.Type === v) &&
    any('scope', (v) => v === 'local') &&
    byName('container') &&
    byName('volume') &&
    byName('network') &&
    byName('plugin') &&
    any('image', image) &&
    labels
  );
}

/** `name:tag` → `name` (a registry's `host:port/` prefix keeps its colon). */
function stripTag(ref: string | undefined): string | undefined {
  if (!ref || ref.includes('@')) return ref?.split('@')[0];
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(0, colon) : ref;
}
