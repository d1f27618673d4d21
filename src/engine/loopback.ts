// Brings up `lo` in a container's new network namespace, as Docker's `--network none` has it.
// TODO(network): issue 6's networks (CNI's loopback plugin) take this over; until then one
// `ip` run in the namespace (~3 ms) while the process waits on its exec fifo.

import { execFile } from 'node:child_process';
import { systemError } from '../errors.js';

export function loopbackUp(pid: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', 'link', 'set', 'lo', 'up'], (err, _out, stderr) => {
      if (err) reject(systemError(`bring up lo in the container's network namespace: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}
