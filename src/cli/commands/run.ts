// `berth run`: create (pulling the image when it is missing), attach, wait, start, relay the
// output, stdin and signals, and exit with the container's code, as `docker run` drives the
// API; `-d` starts it and prints its ID.

import type { ApiClient } from '../../api/client.js';
import { attachAndWait } from './run-attach.js';
import { createBody, createContainer, parseCreate } from './run-options.js';

export async function run(client: ApiClient, argv: string[]): Promise<number> {
  const { flags: f, image, cmd } = parseCreate('run', argv, { detach: { short: 'd', type: 'bool' }, 'sig-proxy': { type: 'bool' }, 'detach-keys': { type: 'string' } });
  const detach = !!f.detach;
  const id = await createContainer(client, f.name as string | undefined, image, createBody(f, image, cmd, detach));
  if (detach) {
    await client.json('POST', `/containers/${id}/start`);
    process.stdout.write(`${id}\n`);
    return 0;
  }
  return attachAndWait(client, id, { tty: !!f.tty, stdin: !!f.interactive, sigProxy: f['sig-proxy'] !== false, autoRemove: !!f.rm, start: true, detachKeys: f['detach-keys'] as string | undefined });
}
