// `docker commit`: the new image's config — the container's (which already holds its image's,
// merged at create), then the caller's config body over it, then the `changes` (the Dockerfile
// instructions Docker allows there: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER,
// VOLUME, WORKDIR) — and the history line Docker writes. Pure.

import { posix } from 'node:path';
import { invalid } from '../errors.js';
import type { ImageConfigConfig } from '../oci/image.js';
import type { ContainerConfig } from './types.js';

/** Config fields an image keeps from a container, as moby's commit does. */
export function imageConfigOf(c: ContainerConfig & { ExposedPorts?: Record<string, object> | null }): ImageConfigConfig {
  const out: ImageConfigConfig = {};
  if (c.User) out.User = c.User;
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length) out.ExposedPorts = c.ExposedPorts;
  if (c.Env?.length) out.Env = c.Env;
  out.Entrypoint = c.Entrypoint?.length ? c.Entrypoint : null;
  out.Cmd = c.Cmd?.length ? c.Cmd : null;
  if (c.Volumes && Object.keys(c.Volumes).length) out.Volumes = c.Volumes;
  if (c.WorkingDir) out.WorkingDir = c.WorkingDir;
  if (c.Labels && Object.keys(c.Labels).length) out.Labels = c.Labels;
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (c.Healthcheck?.Test?.length) out.Healthcheck = c.Healthcheck;
  return out;
}

/** Words of an instruction's arguments: quotes group, backslash escapes (enough for ENV and LABEL). */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let any = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      any = true;
    } else if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      any = true;
    } else if (/\s/.test(ch)) {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else {
      cur += ch;
      any = true;
    }
  }
  if (quote) throw invalid(`unterminated quote in "${s}"`);
  if (cur || any) out.push(cur);
  return out;
}

/** JSON array form (`["a","b"]`), else the shell form run by /bin/sh -c. */
function execForm(args: string): string[] {
  if (args.startsWith('[')) {
    try {
      const v = JSON.parse(args) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e; // not JSON: shell form, as the Dockerfile parser does
    }
  }
  return ['/bin/sh', '-c', args];
}

/** `k=v k2="v 2"` pairs, or the legacy `k v` form (one pair). */
function pairs(instr: string, args: string): [string, string][] {
  const w = words(args);
  if (w.length === 0) throw invalid(`${instr} requires at least one argument`);
  if (!w[0].includes('=')) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(args.trim());
    if (!m) throw invalid(`${instr} must have two arguments`);
    return [[m[1], words(m[2]).join(' ')]];
  }
  return w.map((x) => {
    const i = x.indexOf('=');
    if (i <= 0) throw invalid(`${instr} names can not be blank: ${x}`);
    return [x.slice(0, i), x.slice(i + 1)];
  });
}

/** Applies `changes` (one instruction a line; several values are joined by newlines, as moby does). */
export function applyChanges(base: ImageConfigConfig, changes: string[]): ImageConfigConfig {
  const cfg: ImageConfigConfig = { ...base };
  let cmdSet = false;
  for (const raw of changes.join('\n').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
    const instr = m[1].toLowerCase();
    const args = m[2].trim();
    switch (instr) {
      case 'cmd':
        cfg.Cmd = execForm(args);
        cmdSet = true;
        break;
      case 'entrypoint':
        cfg.Entrypoint = args ? execForm(args) : null;
        // As in a Dockerfile: a new ENTRYPOINT drops the inherited CMD unless CMD is set here too.
        if (!cmdSet) cfg.Cmd = null;
        break;
      case 'env': {
        const env = [...(cfg.Env ?? [])];
        for (const [k, v] of pairs('ENV', args)) {
          const i = env.findIndex((e) => e.split('=', 1)[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        cfg.Env = env;
        break;
      }
      case 'label':
        cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(pairs('LABEL', args)) };
        break;
      case 'workdir':
        if (!args) throw invalid('WORKDIR requires exactly one argument');
        cfg.WorkingDir = posix.resolve(cfg.WorkingDir || '/', args);
        break;
      case 'user':
        if (!args) throw invalid('USER requires exactly one argument');
        cfg.User = args;
        break;
      case 'stopsignal':
        if (!args) throw invalid('STOPSIGNAL requires exactly one argument');
        cfg.StopSignal = args;
        break;
      case 'expose': {
        const ports = { ...(cfg.ExposedPorts ?? {}) };
        for (const p of words(args)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw invalid(`invalid containerPort: ${p}`);
          ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        cfg.ExposedPorts = ports;
        break;
      }
      case 'volume': {
        const list = args.startsWith('[') ? execForm(args) : words(args);
        if (list[0] === '/bin/sh' && args.startsWith('[')) throw invalid(`VOLUME: invalid JSON array ${args}`);
        const vols = { ...(cfg.Volumes ?? {}) };
        for (const v of list) {
          if (!v.trim()) throw invalid('VOLUME specified can not be an empty string');
          vols[v] = {};
        }
        cfg.Volumes = vols;
        break;
      }
      default:
        throw invalid(`${instr} is not a valid change command`);
    }
  }
  return cfg;
}
