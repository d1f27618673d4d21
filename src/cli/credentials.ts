// Registry credentials of the `berth` CLI: `berth login` keeps them in berth's own config file
// (`$BERTH_CONFIG/config.json`, default `~/.berth/config.json`) in docker's `auths` format, and
// pull/push send them to berthd as `X-Registry-Auth`, as the docker CLI does. Docker's own
// config.json is read (never written) as a fallback, so a `docker login` serves berth too.
// berth keeps a file of its own so that its logins never change what docker uses, nor touch
// the `credsStore` helpers docker's file may name.

import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { invalid } from '../errors.js';
import { writeFileAtomic } from '../common/atomic.js';
import { credentialsFor, type Credentials } from '../common/credentials.js';
import { parseReference } from '../common/reference.js';

/** The key docker's CLI uses for Docker Hub in `auths`. */
export const DOCKER_HUB = 'https://index.docker.io/v1/';

interface AuthEntry {
  auth?: string;
  identitytoken?: string;
}
interface BerthConfig {
  auths?: Record<string, AuthEntry>;
  [k: string]: unknown;
}

export const configPath = () => join(process.env.BERTH_CONFIG || join(homedir(), '.berth'), 'config.json');

/** A server address as `auths` keys it: the host (`127.0.0.1:5000`), or Docker Hub's URL. */
export function serverKey(server: string | undefined): string {
  const host = (server ?? '')
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '');
  return !host || ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host) ? DOCKER_HUB : host;
}

async function readConfig(path = configPath()): Promise<BerthConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return {};
  }
  try {
    return JSON.parse(text) as BerthConfig;
  } catch {
    throw invalid(`${path}: not valid JSON; fix or remove it`);
  }
}

/** Stores (or, with undefined, removes) the credentials for `key`; returns whether an entry was there. */
export async function storeCredentials(key: string, creds: Credentials | undefined): Promise<boolean> {
  const path = configPath();
  const cfg = await readConfig(path);
  const auths = cfg.auths ?? {};
  const had = key in auths;
  if (creds) {
    auths[key] = creds.identityToken
      ? { auth: Buffer.from(`${creds.username}:`).toString('base64'), identitytoken: creds.identityToken }
      : { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  } else delete auths[key];
  cfg.auths = auths;
  await writeFileAtomic(path, JSON.stringify(cfg, null, '\t') + '\n', 0o600);
  return had;
}

/** The credentials for the registry of `image`: berth's config first, then docker's. */
export async function credentialsForImage(image: string): Promise<Credentials | undefined> {
  const domain = parseReference(image).domain;
  const key = domain === 'docker.io' ? DOCKER_HUB : domain;
  const own = (await readConfig()).auths?.[key];
  if (own?.identitytoken) return { username: '', password: '', identityToken: own.identitytoken };
  return (await credentialsFor(domain, configPath())) ?? credentialsFor(domain);
}

/** `X-Registry-Auth` for a pull or push of `image` (base64url of Docker's AuthConfig), or none. */
export async function registryAuthHeader(image: string): Promise<Record<string, string>> {
  const c = await credentialsForImage(image);
  if (!c) return {};
  const domain = parseReference(image).domain;
  const config = c.identityToken
    ? { identitytoken: c.identityToken, serveraddress: domain }
    : { username: c.username, password: c.password, serveraddress: domain };
  return { 'X-Registry-Auth': Buffer.from(JSON.stringify(config)).toString('base64url') };
}
