// `berth network create|ls|inspect|rm|connect|disconnect|prune`: the /networks routes, printed
// as docker prints them.

import type { ApiClient } from '../../api/client.js';
import { BerthError, errorMessage } from '../../errors.js';
import { parseArgs } from '../args.js';
import { table } from '../output.js';
import { networkPrune } from './prune.js';
import { filters } from '../filters.js';

const USAGE = `Usage:  berth network COMMAND

Manage networks

Commands:
  connect     Connect a container to a network
  create      Create a network
  disconnect  Disconnect a container from a network
  inspect     Display detailed information on one or more networks
  ls          List networks
  prune       Remove all unused networks
  rm          Remove one or more networks
`;

const keyValues = (list: string[] | undefined) => Object.fromEntries((list ?? []).map((l) => [l.split('=', 1)[0], l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));

interface NetworkSummary { Id: string; Name: string; Driver: string; Scope: string }

function need(args: string[], n: number, cmd: string): void {
  if (args.length < n) throw new BerthError('invalid', `"berth network ${cmd}" requires ${n === 1 ? 'at least 1 argument' : `exactly ${n} arguments`}`);
}

export async function network(client: ApiClient, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'create': {
      const { flags, args } = parseArgs(rest, {
        driver: { short: 'd', type: 'string' }, subnet: { type: 'string' }, gateway: { type: 'string' }, 'ip-range': { type: 'string' },
        internal: { type: 'bool' }, attachable: { type: 'bool' }, label: { type: 'list' }, opt: { short: 'o', type: 'list' },
      });
      need(args, 1, 'create');
      const cfg = flags.subnet || flags.gateway || flags['ip-range']
        ? [{ Subnet: flags.subnet as string | undefined, Gateway: flags.gateway as string | undefined, IPRange: flags['ip-range'] as string | undefined }] : [];
      const r = await client.json<{ Id: string }>('POST', '/networks/create', {
        body: {
          Name: args[0], Driver: (flags.driver as string | undefined) ?? 'bridge', Internal: !!flags.internal, Attachable: !!flags.attachable,
          IPAM: { Driver: 'default', Config: cfg }, Options: keyValues(flags.opt as string[]), Labels: keyValues(flags.label as string[]),
        },
      });
      process.stdout.write(`${r.Id}\n`);
      return 0;
    }
    case 'ls': case 'list': {
      const { flags } = parseArgs(rest, { quiet: { short: 'q', type: 'bool' }, filter: { short: 'f', type: 'list' }, 'no-trunc': { type: 'bool' } });
      const list = await client.json<NetworkSummary[]>('GET', '/networks', { query: { filters: filters(flags.filter as string[]) } });
      const id = (n: NetworkSummary) => (flags['no-trunc'] ? n.Id : n.Id.slice(0, 12));
      if (flags.quiet) process.stdout.write(list.map((n) => `${id(n)}\n`).join(''));
      else process.stdout.write(table([['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], ...list.map((n) => [id(n), n.Name, n.Driver, n.Scope])]));
      return 0;
    }
    case 'inspect': {
      const { args } = parseArgs(rest, {});
      need(args, 1, 'inspect');
      const out: unknown[] = [];
      let failed = false;
      for (const n of args) {
        try { out.push(await client.json('GET', `/networks/${encodeURIComponent(n)}`)); } catch (e) { process.stderr.write(`Error response from daemon: ${errorMessage(e)}\n`); failed = true; }
      }
      process.stdout.write(JSON.stringify(out, null, 4) + '\n');
      return failed ? 1 : 0;
    }
    case 'rm': case 'remove': {
      const { args } = parseArgs(rest, { force: { short: 'f', type: 'bool' } });
      need(args, 1, 'rm');
      let failed = false;
      for (const n of args) {
        try {
          await client.json('DELETE', `/networks/${encodeURIComponent(n)}`);
          process.stdout.write(`${n}\n`);
        } catch (e) {
          process.stderr.write(`Error response from daemon: ${errorMessage(e)}\n`);
          failed = true;
        }
      }
      return failed ? 1 : 0;
    }
    case 'connect': {
      const { flags, args } = parseArgs(rest, { ip: { type: 'string' }, alias: { type: 'list' }, 'mac-address': { type: 'string' } });
      need(args, 2, 'connect');
      await client.json('POST', `/networks/${encodeURIComponent(args[0])}/connect`, {
        body: { Container: args[1], EndpointConfig: { IPAMConfig: flags.ip ? { IPv4Address: flags.ip } : null, Aliases: flags.alias ?? null, MacAddress: flags['mac-address'] ?? '' } },
      });
      return 0;
    }
    case 'disconnect': {
      const { flags, args } = parseArgs(rest, { force: { short: 'f', type: 'bool' } });
      need(args, 2, 'disconnect');
      await client.json('POST', `/networks/${encodeURIComponent(args[0])}/disconnect`, { body: { Container: args[1], Force: !!flags.force } });
      return 0;
    }
    case 'prune': return networkPrune(client, rest);
    case undefined: case '--help': case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`berth: 'network ${sub}' is not a berth command.\nSee 'berth network --help'\n`);
      return 125;
  }
}
