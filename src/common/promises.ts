// The two honest ways to attach a handler to a promise without using its outcome there, so
// that no rejection is dropped by an anonymous `.catch(() => {})` (which `npm run lint` refuses):
// a promise whose error is met where it is awaited later, and a promise whose end (not its
// result) something waits for.

/**
 * Marks `p` handled now because it is awaited later, where its error is met: Node calls a
 * rejection nobody handled by then "unhandled" and ends the process, though the await that
 * would have handled it is still to come (a pipeline awaited after the reader that drains it).
 */
export function awaitedLater(p: Promise<unknown>): void {
  p.catch(metWhereAwaited);
}

function metWhereAwaited(): void {
  // The same promise is awaited later by its owner, which receives this rejection.
}

/**
 * Resolves when `p` settles, either way: for a queue whose next step waits for the last one to
 * end, not for its result (which the last one's own caller receives, error included).
 */
export function settled(p: Promise<unknown>): Promise<void> {
  return p.then(ended, ended);
}

function ended(): void {
  // Only the end matters here; see `settled`.
}

/**
 * Promise.all that settles only once every promise has, so that nothing of the work is still
 * under way when the caller goes on (or cleans up) after a failure; rejects with the first
 * failure in the order given.
 */
export async function allDone(ps: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(ps)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}
