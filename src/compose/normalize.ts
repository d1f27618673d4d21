// One file's services and resources in canonical form, as `compose config` prints them: commands
// as argument lists, environment, labels, sysctls and extra_hosts as mappings, ports and volumes
// in their long syntax (a range of ports expanded), depends_on and networks as mappings, relative
// paths made absolute against the directory they are relative to. Files are merged (merge.ts)
// in this form, so the short and long ways of writing a thing merge as one.

import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { PathSeg } from './source.js';

export type Dict = Record<string, any>;

/** Throws an error about the value at a path of the file being normalized. */
export type Complain = (path: PathSeg[], what: string) => never;

/** A `sh -c`-free split of a command string as Compose's shellwords does it: quotes and backslashes. */
export function shellSplit(s: string, path: PathSeg[], complain: Complain): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) q = undefined;
      else if (c === '\\' && q === '"' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      q = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += c;
  }
  if (q) complain(path, `the ${q} quote in ${JSON.stringify(s)} is not closed`);
  if (has || cur) out.push(cur);
  return out;
}

/** `KEY=VALUE` items or a mapping → a mapping; a bare `KEY` of a list is null (taken from the environment later). */
export function toDict(v: unknown, sep = '='): Dict {
  if (!v) return {};
  if (!Array.isArray(v)) {
    const out: Dict = {};
    for (const [k, x] of Object.entries(v as Dict)) out[k] = x === null || x === undefined ? null : String(x);
    return out;
  }
  const out: Dict = {};
  for (const item of v as string[]) {
    const i = item.indexOf(sep);
    if (i < 0) out[item] = null;
    else out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

const list = (v: unknown): any[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

function absPath(p: string, dir: string): string {
  if (p === '~' || p.startsWith('~/')) return homedir() + p.slice(1);
  return isAbsolute(p) ? p : resolve(dir, p);
}

export interface Port {
  mode: 'ingress' | 'host';
  host_ip?: string;
  target: number;
  published?: string;
  protocol: string;
  name?: string;
  app_protocol?: string;
}

function range(s: string, path: PathSeg[], complain: Complain): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) complain(path, `invalid port ${JSON.stringify(s)}: expected a number or a range N-M`);
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  if (a < 1 || b > 65535 || b < a) complain(path, `invalid port range ${JSON.stringify(s)}: ports are 1 to 65535, low to high`);
  return [a, b];
}

/** The long form of each port a `ports` item publishes (`[IP:][HOST[-END]:]TARGET[-END][/PROTO]`). */
export function parsePort(v: unknown, path: PathSeg[], complain: Complain): Port[] {
  if (typeof v === 'number') return [{ mode: 'ingress', target: v, protocol: 'tcp' }];
  if (typeof v === 'object' && v) {
    const o = v as Dict;
    if (o.target === undefined) complain(path, 'missing key "target"');
    const target = Number(o.target);
    if (!Number.isInteger(target)) complain([...path, 'target'], `invalid port ${JSON.stringify(o.target)}`);
    const p: Port = { mode: o.mode ?? 'ingress', target, protocol: o.protocol ?? 'tcp' };
    if (o.host_ip) p.host_ip = o.host_ip;
    if (o.published !== undefined && o.published !== '') p.published = String(o.published);
    if (o.name) p.name = o.name;
    if (o.app_protocol) p.app_protocol = o.app_protocol;
    return [p];
  }
  let s = String(v);
  let protocol = 'tcp';
  const slash = s.lastIndexOf('/');
  if (slash >= 0) {
    protocol = s.slice(slash + 1);
    s = s.slice(0, slash);
  }
  let hostIp: string | undefined;
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(s);
  let parts: string[];
  if (v6) {
    hostIp = v6[1];
    parts = v6[2].split(':');
    if (parts.length === 1) parts.unshift('');
  } else {
    parts = s.split(':');
    if (parts.length === 3) hostIp = parts.shift();
  }
  if (parts.length > 2) complain(path, `invalid port ${JSON.stringify(v)}: expected [IP:][HOST:]CONTAINER[/PROTOCOL]`);
  const [t0, t1] = range(parts[parts.length - 1], path, complain);
  const host = parts.length === 2 && parts[0] !== '' ? range(parts[0], path, complain) : undefined;
  if (host && host[1] - host[0] !== t1 - t0 && host[0] !== host[1])
    complain(path, `invalid port ${JSON.stringify(v)}: the host range and the container range differ in size`);
  const out: Port[] = [];
  for (let t = t0; t <= t1; t++) {
    const p: Port = { mode: 'ingress', target: t, protocol };
    if (hostIp) p.host_ip = hostIp;
    if (host) p.published = String(host[0] === host[1] ? host[0] : host[0] + (t - t0));
    out.push(p);
  }
  return out;
}

export interface Mount {
  type: 'bind' | 'volume' | 'tmpfs' | string;
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: Dict;
  volume?: Dict;
  tmpfs?: Dict;
  consistency?: string;
}

const PROPAGATIONS = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'];

/** The long form of a `volumes` item (`SRC:DST[:MODE]`, `DST`, or the long syntax), bind sources made absolute against `dir`. */
export function parseVolume(v: unknown, dir: string, path: PathSeg[], complain: Complain): Mount {
  if (typeof v === 'object' && v) {
    const m = { ...(v as Dict) } as Mount;
    if (!m.target) complain(path, 'missing key "target"');
    if (m.type === 'bind') {
      if (!m.source) complain(path, 'a bind mount needs "source"');
      m.source = absPath(m.source, dir);
      m.bind = { create_host_path: true, ...m.bind };
    }
    if (m.type === 'volume' && !m.volume) m.volume = {};
    return m;
  }
  const s = String(v);
  const parts = s.split(':');
  if (parts.length === 1) return { type: 'volume', target: s, volume: {} };
  if (parts.length > 3) complain(path, `invalid volume ${JSON.stringify(s)}: expected SOURCE:TARGET[:MODE]`);
  const [src, target, mode = ''] = parts;
  if (!target) complain(path, `invalid volume ${JSON.stringify(s)}: no target path`);
  const bind = src.startsWith('.') || src.startsWith('/') || src.startsWith('~');
  const m: Mount = bind
    ? { type: 'bind', source: absPath(src, dir), target, bind: { create_host_path: true } }
    : { type: 'volume', source: src, target, volume: {} };
  for (const opt of mode.split(',').filter(Boolean)) {
    if (opt === 'ro') m.read_only = true;
    else if (opt === 'rw') m.read_only = false;
    else if (opt === 'nocopy' && !bind) m.volume = { ...m.volume, nocopy: true };
    else if ((opt === 'z' || opt === 'Z') && bind) m.bind = { ...m.bind, selinux: opt };
    else if (PROPAGATIONS.includes(opt) && bind) m.bind = { ...m.bind, propagation: opt };
    else if (['cached', 'delegated', 'consistent'].includes(opt)) m.consistency = opt;
    else complain(path, `invalid mode ${JSON.stringify(opt)} in ${JSON.stringify(s)}`);
  }
  if (m.read_only === false) delete m.read_only;
  return m;
}

function fileRef(v: unknown): Dict {
  return typeof v === 'string' ? { source: v } : { ...(v as Dict) };
}

const DURATIONS = ['interval', 'timeout', 'start_period', 'start_interval'];

/** One service of one file in canonical form; `dir` is what its relative paths are relative to. */
export function normalizeService(raw: Dict, dir: string, path: PathSeg[], complain: Complain): Dict {
  const s: Dict = { ...raw };
  for (const k of ['command', 'entrypoint']) {
    if (typeof s[k] === 'string') s[k] = shellSplit(s[k], [...path, k], complain);
  }
  for (const k of ['environment', 'labels', 'sysctls', 'annotations']) if (s[k] !== undefined) s[k] = toDict(s[k]);
  if (s.extra_hosts !== undefined) {
    // `host:ip` or `host=ip` items; an IPv6 address has colons of its own.
    s.extra_hosts = Array.isArray(s.extra_hosts)
      ? Object.fromEntries(
          (s.extra_hosts as string[]).map((h, i) => {
            const eq = h.indexOf('=');
            const at = eq >= 0 ? eq : h.indexOf(':');
            if (at < 0) complain([...path, 'extra_hosts', i], `invalid extra host ${JSON.stringify(h)}: expected HOST:IP`);
            return [h.slice(0, at), h.slice(at + 1)];
          }),
        )
      : toDict(s.extra_hosts);
  }
  for (const k of ['dns', 'dns_search', 'tmpfs']) if (s[k] !== undefined) s[k] = list(s[k]);
  if (s.expose) s.expose = (s.expose as unknown[]).map(String);
  if (s.env_file !== undefined) {
    s.env_file = list(s.env_file).map((e) =>
      typeof e === 'string' ? { path: absPath(e, dir), required: true } : { required: true, ...e, path: absPath(e.path, dir) },
    );
  }
  if (s.label_file !== undefined) s.label_file = list(s.label_file).map((f: string) => absPath(f, dir));
  if (s.ports) s.ports = (s.ports as unknown[]).flatMap((p, i) => parsePort(p, [...path, 'ports', i], complain));
  if (s.volumes) s.volumes = (s.volumes as unknown[]).map((v, i) => parseVolume(v, dir, [...path, 'volumes', i], complain));
  if (s.networks !== undefined && Array.isArray(s.networks))
    s.networks = Object.fromEntries((s.networks as string[]).map((n) => [n, null]));
  if (s.depends_on !== undefined) {
    s.depends_on = Array.isArray(s.depends_on)
      ? Object.fromEntries((s.depends_on as string[]).map((d) => [d, { condition: 'service_started', required: true }]))
      : Object.fromEntries(Object.entries(s.depends_on as Dict).map(([d, c]) => [d, { required: true, ...c }]));
  }
  if (s.healthcheck) {
    const h = { ...s.healthcheck };
    if (typeof h.test === 'string') h.test = ['CMD-SHELL', h.test];
    for (const k of DURATIONS) if (h[k] !== undefined) h[k] = String(h[k]);
    s.healthcheck = h;
  }
  if (s.ulimits) {
    s.ulimits = Object.fromEntries(
      Object.entries(s.ulimits as Dict).map(([k, u]) => [
        k,
        typeof u === 'object' ? { soft: Number(u.soft), hard: Number(u.hard) } : { soft: Number(u), hard: Number(u) },
      ]),
    );
  }
  if (s.secrets) s.secrets = (s.secrets as unknown[]).map(fileRef);
  if (s.configs) s.configs = (s.configs as unknown[]).map(fileRef);
  if (typeof s.build === 'string') s.build = { context: s.build };
  if (s.build?.context !== undefined && !/^[a-z]+:\/\//.test(s.build.context))
    s.build = { ...s.build, context: absPath(s.build.context, dir) };
  if (s.build?.args !== undefined) s.build = { ...s.build, args: toDict(s.build.args) };
  if (s.deploy?.labels !== undefined) s.deploy = { ...s.deploy, labels: toDict(s.deploy.labels) };
  if (s.logging?.options) s.logging = { ...s.logging, options: toDict(s.logging.options) };
  return s;
}

/** A top-level volume, network, secret or config in canonical form (`null` is `{}`; labels a mapping; file sources absolute). */
export function normalizeResource(raw: Dict | null, dir: string): Dict {
  const r: Dict = { ...(raw ?? {}) };
  if (r.labels !== undefined) r.labels = toDict(r.labels);
  if (r.external !== undefined && typeof r.external === 'object') {
    // The old `external: {name: N}` form: the name goes where Compose now keeps it.
    r.name = r.external.name ?? r.name;
    r.external = true;
  }
  if (r.file !== undefined) r.file = absPath(r.file, dir);
  return r;
}
