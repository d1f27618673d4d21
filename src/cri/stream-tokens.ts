// The streaming server's requests between the CRI call that asks for a URL and the client that
// opens it: each behind a random single-use token that expires, as kubelet's request cache
// (8 random bytes, one minute, at most 1000 waiting). A token is the only key to the stream, so
// it is never logged and never reused.

import { randomBytes } from 'node:crypto';

export const TOKEN_TTL_MS = 60_000;
export const MAX_WAITING = 1000;

export class TokenCache<T> {
  private readonly waiting = new Map<string, { req: T; expires: number }>();

  constructor(
    private readonly ttlMs = TOKEN_TTL_MS,
    private readonly max = MAX_WAITING,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new token for `req`; throws when `max` are waiting and none has expired. */
  insert(req: T): string {
    this.evictExpired();
    if (this.waiting.size >= this.max) throw new Error(`too many streaming requests waiting (${this.max}); try again`);
    const token = randomBytes(8).toString('base64url');
    this.waiting.set(token, { req, expires: this.now() + this.ttlMs });
    return token;
  }

  /** The request behind `token`, once: undefined when unknown, used or expired. */
  consume(token: string): T | undefined {
    const e = this.waiting.get(token);
    this.waiting.delete(token);
    return e && e.expires > this.now() ? e.req : undefined;
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [t, e] of this.waiting) if (e.expires <= now) this.waiting.delete(t);
  }
}
