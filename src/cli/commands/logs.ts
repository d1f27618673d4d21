// `berth logs [-f] [-t] [--tail N] CONTAINER`: GET /containers/{id}/logs, split onto stdout/stderr.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { copyStream } from '../output.js';

export async function logs(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, {
    follow: { short: 'f', type: 'bool' }, timestamps: { short: 't', type: 'bool' }, tail: { short: 'n', type: 'string' },
    since: { type: 'string' }, until: { type: 'string' },
  });
  if (args.length !== 1) throw new BerthError('invalid', '"berth logs" requires exactly 1 argument: berth logs [OPTIONS] CONTAINER');
  const c = await client.json<{ Config: { Tty: boolean } }>('GET', `/containers/${encodeURIComponent(args[0])}/json`);
  const res = await client.stream('GET', `/containers/${encodeURIComponent(args[0])}/logs`, {
    query: { stdout: true, stderr: true, follow: !!flags.follow, timestamps: !!flags.timestamps, tail: flags.tail as string | undefined,
      since: flags.since as string | undefined, until: flags.until as string | undefined },
  });
  await copyStream(res, c.Config.Tty);
  return 0;
}
