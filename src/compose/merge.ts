// Merging Compose files (`-f a -f b`) and `extends`, by Compose v2's rules, on the canonical
// form of normalize.ts: a mapping merges key by key, a scalar is replaced; `command`,
// `entrypoint` and `healthcheck.test` are replaced whole; `environment`, `labels`, `sysctls`,
// `extra_hosts`, `depends_on`, `networks` and `ulimits` merge as mappings; `volumes` by target,
// `secrets`/`configs` by target (or source), `ports` and the other lists are appended without
// repeats; `logging` keeps the options only while the driver stays the same.

import { isDeepStrictEqual } from 'node:util';
import type { Dict } from './normalize.js';

const REPLACED = new Set(['command', 'entrypoint']);

function isObj(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unique(a: unknown[], b: unknown[]): unknown[] {
  const out = [...a];
  for (const x of b) if (!out.some((y) => isDeepStrictEqual(x, y))) out.push(x);
  return out;
}

/** `b`'s items replace `a`'s of the same key; others are appended. */
function byKey(a: Dict[], b: Dict[], key: (x: Dict) => unknown): Dict[] {
  const out = [...a];
  for (const x of b) {
    const i = out.findIndex((y) => key(y) === key(x));
    if (i >= 0) out[i] = x;
    else out.push(x);
  }
  return out;
}

function deep(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (isObj(a) && isObj(b)) {
    const out: Dict = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in a ? deep(a[k], v) : v;
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) return unique(a, b);
  return b;
}

/** `over` merged onto `base`: two canonical services. */
export function mergeService(base: Dict, over: Dict): Dict {
  const out: Dict = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const a = base[k];
    if (a === undefined || v === null || REPLACED.has(k)) out[k] = v;
    else if (k === 'volumes') out[k] = byKey(a, v, (m) => m.target);
    else if (k === 'secrets' || k === 'configs') out[k] = byKey(a, v, (r) => r.target ?? r.source);
    else if (k === 'healthcheck') out[k] = { ...(deep(a, { ...v, test: undefined }) as Dict), ...(v.test ? { test: v.test } : {}) };
    else if (k === 'logging') out[k] = !v.driver || v.driver === a.driver ? deep(a, v) : v;
    else if (k === 'build') out[k] = deep(a, v);
    else out[k] = deep(a, v);
  }
  if (out.healthcheck && out.healthcheck.test === undefined) delete out.healthcheck.test;
  return out;
}

/** `over` merged onto `base`: two canonical top-level resources (a volume, a network…). */
export function mergeResource(base: Dict, over: Dict): Dict {
  return deep(base, over) as Dict;
}
