// Which containers a `GET /containers/json` with `all`, `limit` and `filters` returns, as
// moby's daemon/list.go decides it (the filters themselves are common/filters.ts's). Pure: the
// caller hands in the containers (newest first) and resolves names and images.

import { matches, matchesLabels, validateFilters, type Filters } from '../common/filters.js';
import { invalid } from '../errors.js';

export const CONTAINER_FILTERS = [
  'ancestor',
  'before',
  'expose',
  'exited',
  'health',
  'id',
  'isolation',
  'is-task',
  'label',
  'name',
  'network',
  'publish',
  'since',
  'status',
  'volume',
] as const;

const STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const HEALTH = ['starting', 'healthy', 'unhealthy', 'none'];

/** What the container filters look at, in the Engine API's own names. */
export interface ContainerView {
  Id: string;
  /** With the leading slash. */
  Name: string;
  /** `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`. */
  State: string;
  Running: boolean;
  ExitCode: number;
  /** Whether it ever started (the exited filter skips containers that never ran). */
  Started: boolean;
  /** `starting`, `healthy`, `unhealthy`, or `none` without a health check. */
  Health: string;
  ImageID: string;
  Labels: Record<string, string> | null;
  Mounts: { Name?: string; Source: string; Destination: string }[];
  /** Network names → their IDs. */
  Networks: Record<string, string>;
  /** `PrivatePort/Type` and, where published, `PublicPort/Type`. */
  Ports: { PrivatePort: number; PublicPort?: number; Type: string }[];
}

export interface ListContext {
  all: boolean;
  /** At most this many (0: no limit); a limit lists stopped containers too, as `ps -n`. */
  limit: number;
  /** The full ID of a container named by `before`/`since` (throws when there is none). */
  findContainer(ref: string): string;
  /** The image IDs an `ancestor` value names (none when it names no image). */
  ancestors?: Set<string>;
}

function ports(f: Filters, key: 'publish' | 'expose'): Set<string> {
  const out = new Set<string>();
  for (const v of f[key] ?? []) {
    if (v.includes(':')) throw invalid(`filter for '${key}' should not contain ':': ${v}`);
    const [range, proto = 'tcp'] = v.split('/');
    const m = /^(\d+)(?:-(\d+))?$/.exec(range);
    if (!m) throw invalid(`error while looking up for ${key} ${v}: invalid port '${range}'`);
    const start = Number(m[1]),
      end = Number(m[2] ?? m[1]);
    if (end < start || end > 65535) throw invalid(`error while looking up for ${key} ${v}: invalid range ${range}`);
    for (let p = start; p <= end; p++) out.add(`${p}/${proto.toLowerCase()}`);
  }
  return out;
}

/**
 * The containers `list` (newest first) that a listing returns. Throws an invalid error for a
 * bad filter, a not-found one for a `before`/`since` that names no container.
 */
export function filterContainers<T extends ContainerView>(list: T[], f: Filters, ctx: ListContext): T[] {
  validateFilters(f, CONTAINER_FILTERS);
  let all = ctx.all;
  const exited = (f.exited ?? []).map((v) => {
    if (!/^-?\d+$/.test(v)) throw invalid(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  });
  for (const s of f.status ?? []) {
    if (!STATES.includes(s)) throw invalid(`Invalid filter 'status=${s}'`);
    all = true;
  }
  let isTask: boolean | undefined;
  if (f['is-task']?.length) {
    const v = f['is-task'];
    if (v.includes('true')) isTask = true;
    else if (v.includes('false')) isTask = false;
    else throw invalid(`Invalid filter 'is-task=[${v.join(' ')}]'`);
  }
  for (const h of f.health ?? []) if (!HEALTH.includes(h)) throw invalid(`Unrecognised filter value for health: ${h}`);
  let before = f.before?.length ? ctx.findContainer(f.before[f.before.length - 1]) : undefined;
  const since = f.since?.length ? ctx.findContainer(f.since[f.since.length - 1]) : undefined;
  const publish = ports(f, 'publish'),
    expose = ports(f, 'expose');

  const out: T[] = [];
  for (const c of list) {
    // Newest first: `before` skips up to and including its container, `since` stops there.
    if (before) {
      if (c.Id === before) before = undefined;
      continue;
    }
    if (since && c.Id === since) break;
    if (!c.Running && !all && ctx.limit <= 0) continue;
    if (!matches(f, 'name', c.Name) && !matches(f, 'name', c.Name.replace(/^\//, ''))) continue;
    if (!matches(f, 'id', c.Id)) continue;
    // berth has no swarm: no container is a task.
    if (isTask === true) continue;
    if (!matchesLabels(f, 'label', c.Labels)) continue;
    if (f.isolation?.length && !f.isolation.includes('default')) continue;
    if (ctx.limit > 0 && out.length === ctx.limit) break;
    if (exited.length && !exited.some((code) => code === c.ExitCode && !c.Running && c.Started)) continue;
    if (!matches(f, 'status', c.State)) continue;
    if (f.health?.length && !f.health.includes(c.Health)) continue;
    if (f.volume?.length && !f.volume.some((v) => c.Mounts.some((m) => m.Destination === v || (m.Name || m.Source) === v))) continue;
    if (f.ancestor?.length && !ctx.ancestors?.has(c.ImageID)) continue;
    if (f.network?.length && !f.network.some((v) => v in c.Networks || Object.values(c.Networks).some((id) => id && id.startsWith(v))))
      continue;
    if (
      (publish.size || expose.size) &&
      !c.Ports.some(
        (p) => (p.PublicPort !== undefined && publish.has(`${p.PublicPort}/${p.Type}`)) || expose.has(`${p.PrivatePort}/${p.Type}`),
      )
    )
      continue;
    out.push(c);
  }
  return out;
}
