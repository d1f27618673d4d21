// Legacy container links (`--link name:alias`), the pure part: dockerd's parsing of a link, and
// what a link gives the linking container on the default bridge — its /etc/hosts line and the
// `ALIAS_*` environment dockerd 20.10 writes (daemon/links). No container state here: the
// engine's side (which container a link names, when it applies) is containers/links.ts.

import { invalid } from '../errors.js';

/**
 * dockerd's ParseLink: `name:alias`, `name` (its own alias), or the `/name:/parent/alias` form
 * inspect shows (so a HostConfig read back from inspect creates again).
 */
export function parseLink(v: string): { name: string; alias: string } {
  if (!v) throw invalid('empty string specified for links');
  const parts = v.split(':');
  if (parts.length > 2) throw invalid(`bad format for links: ${v}`);
  if (parts.length === 1) return { name: v, alias: v };
  if (parts[0].startsWith('/')) return { name: parts[0].slice(1), alias: parts[1].slice(parts[1].lastIndexOf('/') + 1) };
  return { name: parts[0], alias: parts[1] };
}

/** What a link reads of the container it names. */
export interface LinkedContainer {
  /** Its address on the default bridge. */
  ip: string;
  /** Its Config.Env. */
  env: string[];
  /** Its exposed ports, `80/tcp`. */
  exposed: string[];
}

interface Port {
  num: number;
  proto: string;
}

/**
 * The environment a link gives, in dockerd 20.10's order and with its repeats: `ALIAS_PORT` (the
 * lowest port, TCP first), runs of three or more consecutive ports as `_START`/`_END` entries,
 * then four entries per port, `ALIAS_NAME` (`/parent/alias`) and `ALIAS_ENV_*` (less HOME and PATH).
 */
export function linkEnv(fullName: string, c: LinkedContainer): string[] {
  const alias = fullName
    .slice(fullName.lastIndexOf('/') + 1)
    .toUpperCase()
    .replace(/-/g, '_');
  const ports: Port[] = c.exposed.map((p) => {
    const [num, proto = 'tcp'] = p.split('/');
    return { num: Number(num), proto };
  });
  // nat.Sort with dockerd's predicate: by number, TCP before other protocols of the same number.
  ports.sort((a, b) => a.num - b.num || (a.proto === 'tcp' ? -1 : b.proto === 'tcp' ? 1 : 0));
  const env: string[] = [];
  const url = (p: Port) => `${p.proto}://${c.ip}:${p.num}`;
  const key = (p: Port) => `${alias}_PORT_${p.num}_${p.proto.toUpperCase()}`;
  if (ports.length) env.push(`${alias}_PORT=${url(ports[0])}`);
  for (let i = 0; i < ports.length;) {
    const p = ports[i];
    const j = nextContiguous(ports, i);
    if (j > i + 1) {
      const q = ports[j];
      env.push(`${key(p)}_START=${url(p)}`, `${key(p)}_ADDR=${c.ip}`, `${key(p)}_PROTO=${p.proto}`, `${key(p)}_PORT_START=${p.num}`);
      // (dockerd names the end by the first port's number and the last one's protocol.)
      const end = `${alias}_PORT_${p.num}_${q.proto.toUpperCase()}`;
      env.push(`${end}_END=${url(q)}`, `${end}_PORT_END=${q.num}`);
      i = j + 1;
    } else i++;
  }
  for (const p of ports) env.push(`${key(p)}=${url(p)}`, `${key(p)}_ADDR=${c.ip}`, `${key(p)}_PORT=${p.num}`, `${key(p)}_PROTO=${p.proto}`);
  env.push(`${alias}_NAME=${fullName}`);
  for (const e of c.env) {
    const i = e.indexOf('=');
    if (i < 0) continue;
    const k = e.slice(0, i);
    if (k !== 'HOME' && k !== 'PATH') env.push(`${alias}_ENV_${k}=${e.slice(i + 1)}`);
  }
  return env;
}

/** The index of the last port of the run of consecutive numbers that starts at `i` (any protocol, as dockerd counts). */
function nextContiguous(ports: Port[], i: number): number {
  let value = ports[i].num;
  for (let k = i + 1; k < ports.length; k++) {
    if (ports[k].num > value + 1) return k - 1;
    value++;
  }
  return ports.length - 1;
}

/** The names a link puts on the linked container's /etc/hosts line: the alias, its hostname, and its name when the alias is not that. */
export function linkHostNames(alias: string, hostname: string, name: string): string {
  return alias === name ? `${alias} ${hostname}` : `${alias} ${hostname} ${name}`;
}
