// `berth run`: create (pulling the image as --pull says), attach, wait, start, relay the
// output, stdin and signals, and exit with the container's code, as `docker run` drives the
// API; `-d` starts it and prints its ID.

import type { ApiClient } from '../../api/client.js';
import { attachAndWait } from './run-attach.js';
import { createBody, createContainer, parseCreate } from './run-options.js';

export async function run(client: ApiClient, argv: string[]): Promise<number> {
  const { flags: f, image, cmd } = parseCreate('run', argv);
  const detach = !!f.detach;
  const body = createBody(f, image, cmd, detach);
  const id = await createContainer(client, f, image, body);
  if (detach) {
    await client.json('POST', `/containers/${id}/start`);
    process.stdout.write(`${id}\n`);
    return 0;
  }
  return attachAndWait(client, id, {
    tty: !!f.tty,
    stdin: body.AttachStdin as boolean,
    stdout: body.AttachStdout as boolean,
    stderr: body.AttachStderr as boolean,
    sigProxy: f['sig-proxy'] !== false,
    autoRemove: !!f.rm,
    start: true,
    detachKeys: f['detach-keys'] as string | undefined,
  });
}
