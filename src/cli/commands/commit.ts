// `berth commit [-a AUTHOR] [-c CHANGE]... [-m MESSAGE] [-p=false] CONTAINER [REPOSITORY[:TAG]]`:
// POST /commit; prints the new image's ID.

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';

const COMMIT: CommandSpec = {
  path: 'commit',
  use: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  about: "Create a new image from a container's changes",
  aliases: ['berth container commit', 'berth commit'],
  args: { min: 1, max: 2 },
  flags: {
    author: { short: 'a', type: 'string', desc: 'Author (e.g. "Jane Doe <jane@example.org>")' },
    change: { short: 'c', type: 'list', desc: 'Apply a Dockerfile instruction to the new image' },
    message: { short: 'm', type: 'string', desc: 'Commit message' },
    pause: { short: 'p', type: 'bool', desc: 'Pause the container while committing', dflt: 'true' },
  },
};

export async function commit(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(COMMIT, argv);
  let repo: string | undefined;
  let tag: string | undefined;
  if (args[1]) {
    // The tag follows the last ':' after the last '/' (a registry's port is not a tag).
    const i = args[1].lastIndexOf(':');
    if (i > args[1].lastIndexOf('/')) {
      repo = args[1].slice(0, i);
      tag = args[1].slice(i + 1);
    } else repo = args[1];
  }
  const query = new URLSearchParams({ container: args[0] });
  if (repo) query.set('repo', repo);
  if (tag) query.set('tag', tag);
  if (flags.author) query.set('author', flags.author as string);
  if (flags.message) query.set('comment', flags.message as string);
  query.set('pause', flags.pause === false ? '0' : '1');
  for (const c of (flags.change as string[] | undefined) ?? []) query.append('changes', c);
  const r = await client.json<{ Id: string }>('POST', `/commit?${query}`, { body: {} });
  process.stdout.write(`${r.Id}\n`);
  return 0;
}
