// `berth commit [-a AUTHOR] [-c CHANGE]... [-m MESSAGE] [-p=false] CONTAINER [REPOSITORY[:TAG]]`:
// POST /commit; prints the new image's ID.

import type { ApiClient } from '../../api/client.js';
import { invalid } from '../../errors.js';
import { parseArgs } from '../args.js';

export async function commit(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, {
    author: { short: 'a', type: 'string' }, change: { short: 'c', type: 'list' }, message: { short: 'm', type: 'string' }, pause: { short: 'p', type: 'bool' },
  });
  if (args.length < 1 || args.length > 2) throw invalid('"berth commit" requires at least 1 and at most 2 arguments: berth commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]');
  let repo: string | undefined;
  let tag: string | undefined;
  if (args[1]) {
    // The tag follows the last ':' after the last '/' (a registry's port is not a tag).
    const i = args[1].lastIndexOf(':');
    if (i > args[1].lastIndexOf('/')) { repo = args[1].slice(0, i); tag = args[1].slice(i + 1); } else repo = args[1];
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
