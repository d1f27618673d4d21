// Registry credentials and challenges: `WWW-Authenticate` parsing, credentials from the file
// `docker login` writes (`~/.docker/config.json`, `auths.<host>.auth` or username/password).
// Credential helpers (`credsStore`, `credHelpers`) are not read yet. Never logs a secret.

import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { invalid } from '../../errors.js';
import { DEFAULT_DOMAIN } from '../reference.js';

export interface Credentials { username: string; password: string }

export interface Challenge {
  scheme: string; // lower-case: 'bearer' or 'basic'
  params: Record<string, string>;
}

/** Parses a `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenges(header: string | null): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skip = (chars: RegExp) => { while (i < n && chars.test(header[i])) i++; };
  const token = () => { const s = i; while (i < n && /[A-Za-z0-9_.~+\/!#$%&'*^`|-]/.test(header[i])) i++; return header.slice(s, i); };
  let cur: Challenge | undefined;
  while (i < n) {
    skip(/[\s,]/);
    const t = token();
    if (!t) { i++; continue; }
    skip(/\s/);
    if (header[i] === '=' && cur) {
      i++;
      skip(/\s/);
      let v = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') { if (header[i] === '\\') i++; v += header[i] ?? ''; i++; }
        i++;
      } else {
        const s = i; while (i < n && !/[\s,]/.test(header[i])) i++; v = header.slice(s, i);
      }
      cur.params[t.toLowerCase()] = v;
    } else {
      cur = { scheme: t.toLowerCase(), params: {} };
      out.push(cur);
    }
  }
  return out;
}

export const defaultDockerConfigPath = () =>
  join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');

/** Reads credentials for `host` from a Docker config file; undefined when none (or no file). */
export async function credentialsFor(host: string, configPath = defaultDockerConfigPath()): Promise<Credentials | undefined> {
  let text: string;
  try { text = await readFile(configPath, 'utf8'); } catch { return undefined; }
  let cfg: { auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }> };
  try { cfg = JSON.parse(text); } catch {
    throw invalid(`${configPath}: not valid JSON; fix or remove it, or run docker login again`);
  }
  const auths = cfg.auths ?? {};
  const keys = host === DEFAULT_DOMAIN
    ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'https://docker.io']
    : [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `https://${host}/v2/`];
  for (const k of keys) {
    const a = auths[k];
    if (!a) continue;
    if (a.auth) {
      const dec = Buffer.from(a.auth, 'base64').toString('utf8');
      const i = dec.indexOf(':');
      if (i < 0) throw invalid(`${configPath}: auths["${k}"].auth is not base64 of user:password`);
      return { username: dec.slice(0, i), password: dec.slice(i + 1) };
    }
    if (a.username !== undefined && a.password !== undefined) return { username: a.username, password: a.password };
  }
  return undefined;
}

export const basicHeader = (c: Credentials) =>
  `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
