// Errors a user can meet, in the few categories callers test for. Each maps to a Docker API
// status code (see `httpStatus`) and the CLIs print `message` as one line.

export type ErrorKind =
  | 'not-found'
  | 'conflict'
  | 'invalid'
  | 'unsupported'
  | 'forbidden'
  | 'unauthorized'
  | 'too-large'
  | 'not-implemented'
  | 'unavailable'
  | 'system';

export class BerthError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = 'BerthError';
  }
}

export const notFound = (msg: string) => new BerthError('not-found', msg);

/** dockerd's words (its errNoSwarm) for what needs a swarm manager, on a node in no swarm, which berthd always is. */
export const NOT_SWARM_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
export const conflict = (msg: string) => new BerthError('conflict', msg);
export const invalid = (msg: string) => new BerthError('invalid', msg);
export const unsupported = (msg: string) => new BerthError('unsupported', msg);
/** Refused by a setting (a read-only rootfs or volume): 403. */
export const forbidden = (msg: string) => new BerthError('forbidden', msg);
/** Credentials refused (a registry login): 401, as Docker's errdefs.Unauthorized. */
export const unauthorized = (msg: string) => new BerthError('unauthorized', msg);
/** A request past a documented size limit: 413. */
export const tooLarge = (msg: string) => new BerthError('too-large', msg);
/** A feature the object's configuration lacks (a log driver that keeps nothing): 501, as errdefs.NotImplemented. */
export const notImplemented = (msg: string) => new BerthError('not-implemented', msg);
/** A feature that is off on this node (swarm): 503, as errdefs.Unavailable. */
export const unavailable = (msg: string) => new BerthError('unavailable', msg);
export const systemError = (msg: string, cause?: unknown) => new BerthError('system', msg, { cause });

export function httpStatus(err: unknown): number {
  if (!(err instanceof BerthError)) return 500;
  switch (err.kind) {
    case 'not-found':
      return 404;
    case 'conflict':
      return 409;
    case 'invalid':
      return 400;
    case 'unsupported':
      return 400;
    case 'forbidden':
      return 403;
    case 'unauthorized':
      return 401;
    case 'too-large':
      return 413;
    case 'not-implemented':
      return 501;
    case 'unavailable':
      return 503;
    default:
      return 500;
  }
}

/** `message` of any thrown value, with Node's errno errors shortened the way Go prints them. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * `err`, with the errors met while cleaning up after it kept beside it: the message names both
 * (`create: …; and cleaning up: …`), the kind stays `err`'s, and `cause` is an AggregateError of
 * all of them, the first being `err`. Without cleanup errors, `err` itself.
 */
export function withCleanup(err: unknown, cleanup: Error[]): unknown {
  if (cleanup.length === 0) return err;
  const kind = err instanceof BerthError ? err.kind : 'system';
  const all = new AggregateError([err, ...cleanup], 'an error and the errors of its cleanup');
  return new BerthError(kind, `${errorMessage(err)}; and cleaning up: ${cleanup.map(errorMessage).join('; ')}`, { cause: all });
}

/** Whether `e` is a BerthError of one of `kinds`: for callers that expect one failure and let the rest through. */
export function isKind(e: unknown, ...kinds: ErrorKind[]): boolean {
  return e instanceof BerthError && kinds.includes(e.kind);
}
