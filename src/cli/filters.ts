// The CLI's `--filter k=v` flags, turned into the API's `filters` query parameter (JSON of
// `{"k": ["v", …]}`), for every command that lists or prunes.

import { BerthError } from '../errors.js';

/** `--filter k=v` flags as the API's filters JSON. */
export function filters(list: string[] | undefined): string | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string[]> = {};
  for (const f of list) {
    const i = f.indexOf('=');
    if (i < 1) throw new BerthError('invalid', `bad format of filter (expected name=value): ${f}`);
    (out[f.slice(0, i)] ??= []).push(f.slice(i + 1));
  }
  return JSON.stringify(out);
}
