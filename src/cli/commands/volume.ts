// `berth volume create|ls|inspect|rm|prune`: the /volumes routes, printed as docker prints them.

import type { ApiClient } from '../../api/client.js';
import { BerthError, errorMessage } from '../../errors.js';
import { parseArgs } from '../args.js';
import { filters } from '../filters.js';
import { table } from '../output.js';
import { volumePrune } from './prune.js';

const USAGE = `Usage:  berth volume COMMAND

Manage volumes

Commands:
  create      Create a volume
  inspect     Display detailed information on one or more volumes
  ls          List volumes
  prune       Remove unused local volumes
  rm          Remove one or more volumes
`;

const keyValues = (list: string[] | undefined) => Object.fromEntries((list ?? []).map((l) => [l.split('=', 1)[0], l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));

export async function volume(client: ApiClient, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'create': {
      const { flags, args } = parseArgs(rest, { driver: { short: 'd', type: 'string' }, label: { type: 'list' }, opt: { short: 'o', type: 'list' }, name: { type: 'string' } });
      const v = await client.json<{ Name: string }>('POST', '/volumes/create', {
        body: { Name: (flags.name as string | undefined) ?? args[0] ?? '', Driver: (flags.driver as string | undefined) ?? 'local', DriverOpts: keyValues(flags.opt as string[]), Labels: keyValues(flags.label as string[]) },
      });
      process.stdout.write(`${v.Name}\n`);
      return 0;
    }
    case 'ls': case 'list': {
      const { flags } = parseArgs(rest, { quiet: { short: 'q', type: 'bool' }, filter: { short: 'f', type: 'list' } });
      const r = await client.json<{ Volumes: { Name: string; Driver: string }[] }>('GET', '/volumes', { query: { filters: filters(flags.filter as string[]) } });
      if (flags.quiet) process.stdout.write(r.Volumes.map((v) => `${v.Name}\n`).join(''));
      else process.stdout.write(table([['DRIVER', 'VOLUME NAME'], ...r.Volumes.map((v) => [v.Driver, v.Name])]));
      return 0;
    }
    case 'inspect': {
      const { args } = parseArgs(rest, {});
      if (!args.length) throw new BerthError('invalid', '"berth volume inspect" requires at least 1 argument');
      const out: unknown[] = [];
      let failed = false;
      for (const n of args) {
        try { out.push(await client.json('GET', `/volumes/${encodeURIComponent(n)}`)); } catch (e) { process.stderr.write(`Error response from daemon: ${errorMessage(e)}\n`); failed = true; }
      }
      process.stdout.write(JSON.stringify(out, null, 4) + '\n');
      return failed ? 1 : 0;
    }
    case 'rm': case 'remove': {
      const { flags, args } = parseArgs(rest, { force: { short: 'f', type: 'bool' } });
      if (!args.length) throw new BerthError('invalid', '"berth volume rm" requires at least 1 argument');
      let failed = false;
      for (const n of args) {
        try {
          await client.json('DELETE', `/volumes/${encodeURIComponent(n)}`, { query: { force: flags.force ? true : undefined } });
          process.stdout.write(`${n}\n`);
        } catch (e) {
          process.stderr.write(`Error response from daemon: ${errorMessage(e)}\n`);
          failed = true;
        }
      }
      return failed ? 1 : 0;
    }
    case 'prune': return volumePrune(client, rest);
    case undefined: case '--help': case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`berth: 'volume ${sub}' is not a berth command.\nSee 'berth volume --help'\n`);
      return 125;
  }
}
