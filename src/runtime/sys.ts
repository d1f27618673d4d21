// The few Node.js system calls the runtime uses, in one place, so that the seam between
// pure logic and the kernel stays visible.
export { existsSync, readFileSync, writeFileSync, rmSync, openSync, closeSync, readSync, constants } from 'node:fs';
export { spawnSync } from 'node:child_process';

/** Blocks this thread for `ms` (no event loop needed: the CLI is a short-lived process). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
