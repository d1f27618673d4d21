// `berth create`: POST /containers/create with run's flags (pulling a missing image), printing
// the new container's ID.

import type { ApiClient } from '../../api/client.js';
import { errorMessage } from '../../errors.js';
import { UsageReport } from '../args.js';
import { createBody, createContainer, parseCreate } from './run-options.js';

export async function create(client: ApiClient, argv: string[]): Promise<number> {
  const { flags: f, image, cmd } = parseCreate('create', argv);
  let body: Record<string, unknown>;
  try {
    body = createBody(f, image, cmd, false);
  } catch (e) {
    // docker's create reports what its flags' parse refuses as run does, not as a daemon's error.
    throw new UsageReport(errorMessage(e));
  }
  process.stdout.write(`${await createContainer(client, f, image, body)}\n`);
  return 0;
}
