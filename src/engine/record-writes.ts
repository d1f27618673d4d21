// berthd's records (containers', the runtime's state, snapshots, volumes) are written with
// common/atomic.ts, several a container start. Through the native binding each write is one
// trip to the thread pool and one callback on the loop's thread, where fs/promises takes about
// ten (open, write, sync, close, rename, the folder's open, sync, close), each resuming
// JavaScript there.

import { useOneTripWrites } from '../common/atomic.js';
import { writeAtomic } from '../native/binding.js';

/** Call once at start-up; a binding built before writeAtomic leaves the fs/promises writes, saying so. */
export function writeRecordsInOneTrip(log: (level: 'info', msg: string) => void): void {
  const w = writeAtomic();
  if (w) useOneTripWrites(w);
  else log('info', 'record writes: the native binding predates writeAtomic; rebuild it (npm run install)');
}
