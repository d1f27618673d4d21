// A verb applied to several containers as the docker CLI does: each name printed on success,
// each failure reported as the daemon's and the rest still tried; exit 1 if any failed.

import { errorMessage } from '../../errors.js';

export async function eachContainer(names: string[], fn: (name: string) => Promise<unknown>): Promise<number> {
  let failed = false;
  for (const c of names) {
    try {
      await fn(c);
      process.stdout.write(`${c}\n`);
    } catch (e) {
      process.stderr.write(`Error response from daemon: ${errorMessage(e)}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}
