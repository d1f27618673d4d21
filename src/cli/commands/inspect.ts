// `berth inspect [-f FORMAT] [-s] [--type container|image|network|volume] NAME...`: each name
// looked up as a container, then an image, a network, a volume (docker's order), printed as one
// indented JSON array or through a --format template per object. Names found nowhere are
// errors on stderr after what was found, and exit status 1. `network inspect`, `volume
// inspect` and `image inspect` print through the same inspectEach.

import { DaemonError, type ApiClient } from '../../api/client.js';
import { invalid } from '../../errors.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { compile } from '../template.js';

const KINDS = {
  container: (n: string, size: boolean) => ({ path: `/containers/${encodeURIComponent(n)}/json`, query: { size: size || undefined } }),
  image: (n: string) => ({ path: `/images/${n.split('/').map(encodeURIComponent).join('/')}/json`, query: {} }),
  network: (n: string) => ({ path: `/networks/${encodeURIComponent(n)}`, query: {} }),
  volume: (n: string) => ({ path: `/volumes/${encodeURIComponent(n)}`, query: {} }),
} as const;
type Kind = keyof typeof KINDS;

export const FORMAT_FLAG = {
  short: 'f',
  type: 'string',
  desc: "Format the output with a Go template ('json': the JSON as is)",
} as const;

const INSPECT: CommandSpec = {
  path: 'inspect',
  use: '[OPTIONS] NAME|ID [NAME|ID...]',
  about: 'Return low-level information on berth objects',
  args: { min: 1 },
  flags: {
    format: FORMAT_FLAG,
    size: { short: 's', type: 'bool', desc: 'Display total file sizes if the type is container' },
    type: { type: 'string', desc: 'Return JSON for the specified type (container, image, network, volume)' },
  },
};

/**
 * docker's inspect loop: `get` each name (undefined: not found), then print what was found as
 * one JSON array or a line per object through `format`; then the errors. Exit 1 if any failed.
 */
export async function inspectEach(
  names: string[],
  format: string | undefined,
  get: (name: string) => Promise<unknown>,
  missing: (name: string) => string,
): Promise<number> {
  const template = format && format !== 'json' ? compile(format, { missingKeyError: true }) : undefined;
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const name of names) {
    try {
      const obj = await get(name);
      if (obj === undefined) errors.push(missing(name));
      else found.push(obj);
    } catch (e) {
      if (!(e instanceof DaemonError)) throw e;
      errors.push(`Error response from daemon: ${e.message}`);
    }
  }
  if (template) {
    for (const o of found) process.stdout.write(`${template.render(o)}\n`);
  } else process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
  for (const m of errors) process.stderr.write(`${m}\n`);
  return errors.length ? 1 : 0;
}

/** GET of one object; undefined where the daemon has none by that name. */
export async function lookup(client: ApiClient, path: string, query: Record<string, boolean | undefined> = {}): Promise<unknown> {
  try {
    return await client.json('GET', path, { query });
  } catch (e) {
    // Not this kind (or a name this kind cannot have).
    if (e instanceof DaemonError && (e.statusCode === 404 || e.statusCode === 400)) return undefined;
    throw e;
  }
}

export async function inspect(client: ApiClient, argv: string[], only?: Kind): Promise<number> {
  const { flags, args } = parseCommand(
    only ? { ...INSPECT, path: `${only} inspect`, use: `[OPTIONS] ${only.toUpperCase()} [${only.toUpperCase()}...]` } : INSPECT,
    argv,
  );
  const type = only ?? (flags.type as string | undefined);
  if (type !== undefined && !(type in KINDS)) throw invalid(`"${type}" is not a valid value for --type`);
  const kinds = (type ? [type] : Object.keys(KINDS)) as Kind[];
  return inspectEach(
    args,
    flags.format as string | undefined,
    async (name) => {
      for (const k of kinds) {
        const { path, query } = KINDS[k](name, !!flags.size);
        const obj = await lookup(client, path, query);
        if (obj !== undefined) return obj;
      }
      return undefined;
    },
    (name) => `Error: No such ${type ?? 'object'}: ${name}`,
  );
}
