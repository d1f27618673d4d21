// `berth logs [-f] [-t] [-n N] [--since T] [--until T] CONTAINER`: GET /containers/{id}/logs, split
// onto stdout/stderr; the times as docker's client sends them (a duration before now, a date).

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { copyStream } from '../output.js';
import { apiTimestamp } from '../units.js';

const LOGS: CommandSpec = {
  path: 'logs',
  use: '[OPTIONS] CONTAINER',
  about: 'Fetch the logs of a container',
  aliases: ['berth container logs', 'berth logs'],
  args: { min: 1, max: 1 },
  flags: {
    details: { type: 'bool', desc: 'Show the extra details given to the log' },
    follow: { short: 'f', type: 'bool', desc: 'Follow the log output' },
    since: { type: 'string', desc: 'Show logs since a time (e.g. "2013-01-02T13:23:37Z") or a duration before now (e.g. "42m")' },
    tail: { short: 'n', type: 'string', desc: 'Number of lines to show from the end of the logs', dflt: '"all"' },
    timestamps: { short: 't', type: 'bool', desc: 'Show timestamps' },
    until: { type: 'string', desc: 'Show logs before a time (e.g. "2013-01-02T13:23:37Z") or a duration before now (e.g. "42m")' },
  },
};

export async function logs(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(LOGS, argv);
  const c = await client.json<{ Config: { Tty: boolean } }>('GET', `/containers/${encodeURIComponent(args[0])}/json`);
  const res = await client.stream('GET', `/containers/${encodeURIComponent(args[0])}/logs`, {
    query: {
      stdout: true,
      stderr: true,
      details: flags.details ? true : undefined,
      follow: !!flags.follow,
      timestamps: !!flags.timestamps,
      tail: flags.tail as string | undefined,
      since: flags.since ? apiTimestamp(flags.since as string) : undefined,
      until: flags.until ? apiTimestamp(flags.until as string) : undefined,
    },
  });
  await copyStream(res, c.Config.Tty);
  return 0;
}
