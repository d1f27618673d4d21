// Registry credentials over the API: the `X-Registry-Auth` header pulls and pushes carry
// (base64url of Docker's AuthConfig JSON) and `POST /auth` (`docker login`), which checks
// credentials against the registry and stores nothing: clients keep them.

import { invalid } from '../../errors.js';
import type { Engine } from '../../engine/index.js';
import type { Credentials } from '../../common/credentials.js';
import { base64JSONHeader, readJSON, sendJSON } from './http.js';
import { AuthConfig as AuthConfigBody } from './body-types.js';
import { decodeBody } from './body-decode.js';
import type { Context, Router } from './router.js';

/** Docker's AuthConfig, as clients send it. */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64 of `username:password`, the config file's form. */
  auth?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** The credentials an AuthConfig gives, or undefined when it gives none. */
export function credentialsOf(a: AuthConfig): Credentials | undefined {
  if (a.identitytoken) return { username: a.username ?? '', password: '', identityToken: a.identitytoken };
  if (a.username || a.password) return { username: a.username ?? '', password: a.password ?? '' };
  if (a.auth) {
    const dec = Buffer.from(a.auth, 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i < 0) throw invalid('X-Registry-Auth: auth is not base64 of user:password');
    return { username: dec.slice(0, i), password: dec.slice(i + 1) };
  }
  return undefined;
}

/**
 * The credentials of a request's `X-Registry-Auth` header, or undefined when it has none (no
 * header, `{}`, or empty fields: the daemon then pulls anonymously or with its own config).
 */
export function registryAuth(ctx: Context): Credentials | undefined {
  const parsed = base64JSONHeader(ctx, 'X-Registry-Auth', 'base64 of a JSON AuthConfig');
  if (parsed === undefined) return undefined;
  if (parsed === null || typeof parsed !== 'object') throw invalid('X-Registry-Auth: not base64 of a JSON AuthConfig');
  return credentialsOf(decodeBody(AuthConfigBody, parsed) as AuthConfig);
}

export function authRoutes(router: Router, engine: Engine): void {
  router.on('POST', '/auth', async (ctx) => {
    const a = (await readJSON(ctx, AuthConfigBody)) as AuthConfig;
    const creds = credentialsOf(a);
    if (!creds) throw invalid('login: give a username and password, or an identity token');
    const r = await engine.images.login(a.serveraddress ?? '', creds);
    sendJSON(ctx, 200, { Status: 'Login Succeeded', IdentityToken: r.identityToken ?? '' });
  });
}
