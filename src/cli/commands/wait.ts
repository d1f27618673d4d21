// `berth wait CONTAINER...`: blocks until each container stops, printing its exit code.

import type { ApiClient } from '../../api/client.js';
import { errorMessage } from '../../errors.js';
import { parseCommand, type CommandSpec } from '../args.js';

const WAIT: CommandSpec = {
  path: 'wait',
  use: 'CONTAINER [CONTAINER...]',
  about: 'Block until one or more containers stop, then print their exit codes',
  aliases: ['berth container wait', 'berth wait'],
  args: { min: 1 },
  flags: {},
};

export async function wait(client: ApiClient, argv: string[]): Promise<number> {
  const { args } = parseCommand(WAIT, argv);
  let failed = false;
  for (const n of args) {
    try {
      const r = await client.json<{ StatusCode: number }>('POST', `/containers/${encodeURIComponent(n)}/wait`);
      process.stdout.write(`${r.StatusCode}\n`);
    } catch (e) {
      process.stderr.write(`Error response from daemon: ${errorMessage(e)}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}
