// `berth diff CONTAINER`: GET /containers/{id}/changes, one `C|A|D path` line each, as docker.

import type { ApiClient } from '../../api/client.js';
import { invalid } from '../../errors.js';
import { parseArgs } from '../args.js';

export async function diff(client: ApiClient, argv: string[]): Promise<number> {
  const { args } = parseArgs(argv, {});
  if (args.length !== 1) throw invalid('"berth diff" requires exactly 1 argument: berth diff CONTAINER');
  const changes = await client.json<{ Path: string; Kind: number }[] | null>('GET', `/containers/${encodeURIComponent(args[0])}/changes`);
  process.stdout.write((changes ?? []).map((c) => `${'CAD'[c.Kind]} ${c.Path}\n`).join(''));
  return 0;
}
