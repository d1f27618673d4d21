// Brings up `lo` in a container's new network namespace, as Docker's `--network none` has it,
// through CNI's own `loopback` plugin (Debian's containernetworking-plugins) — the one kind of
// outside program berth calls, by design. Issue 6's networks add the bridge plugins beside it.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { notFound, systemError } from '../errors.js';

/** Where CNI plugins live: $CNI_PATH, then Debian's and upstream's folders. */
export function cniPath(): string[] {
  return (process.env.CNI_PATH ?? '/usr/lib/cni:/opt/cni/bin').split(':').filter(Boolean);
}

function plugin(name: string): string {
  for (const dir of cniPath()) if (existsSync(join(dir, name))) return join(dir, name);
  throw notFound(`CNI plugin ${name} not found in ${cniPath().join(':')} (install Debian's containernetworking-plugins)`);
}

export function loopbackUp(id: string, pid: number): Promise<void> {
  const bin = plugin('loopback');
  return new Promise((resolve, reject) => {
    const child = execFile(bin, [], {
      env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_NETNS: `/proc/${pid}/ns/net`, CNI_IFNAME: 'lo', CNI_PATH: cniPath().join(':') },
    }, (err, stdout) => {
      if (!err) return resolve();
      // A CNI plugin reports failure as a JSON error object on stdout.
      let msg = err.message;
      try { msg = (JSON.parse(stdout) as { msg?: string }).msg ?? msg; } catch { /* not JSON */ }
      reject(systemError(`bring up lo in the container's network namespace: ${msg}`));
    });
    child.stdin!.end(JSON.stringify({ cniVersion: '1.0.0', name: 'berth-loopback', type: 'loopback' }));
  });
}
