// `berth system df|prune|info`: the group's dispatch; df is system-df.ts's, prune prune.ts's,
// info info.ts's.

import type { ApiClient } from '../../api/client.js';
import { info } from './info.js';
import { df } from './system-df.js';
import { systemPrune } from './prune.js';
import { unknownSubcommand } from './volume.js';

const USAGE = `Usage:  berth system COMMAND

Manage berth

Commands:
  df          Show berth disk usage
  info        Display system-wide information
  prune       Remove unused data

Run 'berth system COMMAND --help' for more information on a command.
`;

export async function system(client: ApiClient, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'df':
      return df(client, rest);
    case 'prune':
      return systemPrune(client, rest);
    case 'info':
      return info(client, rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      return unknownSubcommand('system', sub);
  }
}
