// Registry credentials as Docker keeps them: the file `docker login` writes
// (`~/.docker/config.json`, `auths.<host>.auth` or username/password) and the credential
// helpers it names (`credsStore`, `credHelpers`), asked as Docker asks them. Shared by the CLI
// (login, pull, push) and the image library. Never logs a secret.

import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { invalid } from '../errors.js';
import { DEFAULT_DOMAIN } from './reference.js';

export interface Credentials {
  username: string;
  password: string;
  /** An OAuth refresh token from an earlier login (Docker's `identitytoken`), used instead of the password. */
  identityToken?: string;
}

export const defaultDockerConfigPath = () => join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');

/** Reads credentials for `host` from a Docker config file; undefined when none (or no file). */
export async function credentialsFor(host: string, configPath = defaultDockerConfigPath()): Promise<Credentials | undefined> {
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch {
    return undefined;
  }
  let cfg: {
    auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
    credsStore?: string;
    credHelpers?: Record<string, string>;
  };
  try {
    cfg = JSON.parse(text);
  } catch {
    throw invalid(`${configPath}: not valid JSON; fix or remove it, or run docker login again`);
  }
  const auths = cfg.auths ?? {};
  const keys =
    host === DEFAULT_DOMAIN
      ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'https://docker.io']
      : [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `https://${host}/v2/`];
  const helper = cfg.credHelpers?.[host] ?? cfg.credsStore;
  if (helper) {
    const c = await fromHelper(helper, host === DEFAULT_DOMAIN ? keys[0] : host);
    if (c) return c;
  }
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

/**
 * Asks a Docker credential helper (`docker-credential-<name> get`, the server URL on stdin)
 * as `docker login` configures with `credsStore`/`credHelpers`. Undefined when it has none.
 */
export function fromHelper(name: string, server: string): Promise<Credentials | undefined> {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) return Promise.reject(invalid(`invalid credential helper name "${name}"`));
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${name}`, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', () => {});
    child.on('error', (e) =>
      reject(
        invalid(
          `credential helper docker-credential-${name}: ${e.message}; install it or remove credsStore/credHelpers from the Docker config`,
        ),
      ),
    );
    child.on('close', (code) => {
      if (code !== 0) {
        if (/credentials not found/i.test(out)) {
          resolve(undefined);
          return;
        }
        reject(invalid(`credential helper docker-credential-${name} failed for ${server}: ${out.trim() || `exit ${code}`}`));
        return;
      }
      try {
        const j = JSON.parse(out) as { Username?: string; Secret?: string };
        resolve(j.Secret !== undefined ? { username: j.Username ?? '', password: j.Secret } : undefined);
      } catch {
        reject(invalid(`credential helper docker-credential-${name} answered something not JSON`));
      }
    });
    child.stdin.end(server);
  });
}
