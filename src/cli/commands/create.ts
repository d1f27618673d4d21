// `berth create`: POST /containers/create with run's flags (pulling a missing image), printing
// the new container's ID.

import type { ApiClient } from '../../api/client.js';
import { createBody, createContainer, parseCreate } from './run-options.js';

export async function create(client: ApiClient, argv: string[]): Promise<number> {
  const { flags: f, image, cmd } = parseCreate('create', argv);
  process.stdout.write(`${await createContainer(client, f, image, createBody(f, image, cmd, false))}\n`);
  return 0;
}
