// `berth inspect [-f FORMAT] [-s] [--type container|image|volume] NAME...`: each name looked up
// as a container, then an image, then a volume (as docker's inspect), printed as one indented
// JSON array or through a --format template per object. Names found nowhere are errors on
// stderr after what was found, and exit status 1.

import { DaemonError, type ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { compile } from '../template.js';

const KINDS = {
  container: (n: string, size: boolean) => ({ path: `/containers/${encodeURIComponent(n)}/json`, query: { size: size || undefined } }),
  image: (n: string) => ({ path: `/images/${n.split('/').map(encodeURIComponent).join('/')}/json`, query: {} }),
  volume: (n: string) => ({ path: `/volumes/${encodeURIComponent(n)}`, query: {} }),
} as const;
type Kind = keyof typeof KINDS;

export async function inspect(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(argv, { format: { short: 'f', type: 'string' }, size: { short: 's', type: 'bool' }, type: { type: 'string' } });
  if (!args.length) throw new BerthError('invalid', '"berth inspect" requires at least 1 argument: berth inspect [OPTIONS] NAME|ID [NAME|ID...]');
  const type = flags.type as string | undefined;
  if (type !== undefined && !(type in KINDS)) throw new BerthError('invalid', `"${type}" is not a valid value for --type`);
  const kinds = (type ? [type] : Object.keys(KINDS)) as Kind[];
  const template = flags.format ? compile(flags.format as string, { missingKeyError: true }) : undefined;
  const found: unknown[] = [];
  const missing: string[] = [];
  for (const name of args) {
    let obj: unknown;
    for (const k of kinds) {
      const { path, query } = KINDS[k](name, !!flags.size);
      try {
        obj = await client.json('GET', path, { query });
        break;
      } catch (e) {
        // Not this kind (or a name this kind cannot have): try the next.
        if (!(e instanceof DaemonError && (e.statusCode === 404 || e.statusCode === 400))) throw e;
      }
    }
    if (obj === undefined) missing.push(name);
    else found.push(obj);
  }
  if (template) {
    for (const o of found) {
      try { process.stdout.write(`${template.render(o)}\n`); } catch (e) {
        process.stderr.write(`${(e as Error).message}\n`);
        return 1;
      }
    }
  } else process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
  for (const n of missing) process.stderr.write(`Error: No such ${type ?? 'object'}: ${n}\n`);
  return missing.length ? 1 : 0;
}
