// The `.env` format Compose reads for `--env-file`, the project's `.env` and a service's
// `env_file`: `KEY=VALUE` lines, `export KEY=VALUE`, `#` comments (a whole line, or after a
// space in an unquoted value), 'single quotes' kept literally (across lines too), "double quotes"
// with \n \t \\ \" escapes, and `${VAR}` substitution in unquoted and double-quoted values from
// the lines above and then `lookup`. A bare `KEY` takes its value from `lookup`, or is left out.

import { substitute, type Lookup } from './interpolate.js';

/** Parses `text`; `where` names the file in errors. Keys keep the file's order. */
export function parseDotenv(text: string, where: string, lookup: Lookup = () => undefined): Map<string, string> {
  const out = new Map<string, string>();
  const look: Lookup = (name) => out.get(name) ?? lookup(name);
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].replace(/^\s+/, '');
    if (!line || line.startsWith('#')) continue;
    const body = line.replace(/^export\s+/, '');
    const m = /^([^=\s]+)\s*(=)?/.exec(body);
    if (!m) throw new Error(`${where}:${n + 1}: cannot parse ${JSON.stringify(lines[n])}: expected KEY=VALUE`);
    const key = m[1];
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) throw new Error(`${where}:${n + 1}: ${JSON.stringify(key)} is not a variable name`);
    if (!m[2]) {
      const v = lookup(key);
      if (v !== undefined) out.set(key, v);
      continue;
    }
    let rest = body.slice(m[0].length).replace(/^[ \t]+/, '');
    const unset = () => undefined;
    if (rest.startsWith("'") || rest.startsWith('"')) {
      const q = rest[0];
      let value = '';
      let i = 1;
      let start = n;
      for (;;) {
        if (i >= rest.length) {
          // The quote goes on to the next line.
          if (++n >= lines.length) throw new Error(`${where}:${start + 1}: ${key}: the ${q} quote is not closed`);
          value += '\n';
          rest = lines[n];
          i = 0;
          continue;
        }
        const c = rest[i];
        if (c === q) break;
        if (q === '"' && c === '\\' && i + 1 < rest.length) {
          const e = rest[++i];
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
        } else value += c;
        i++;
      }
      start = n;
      const after = rest.slice(i + 1).trim();
      if (after && !after.startsWith('#'))
        throw new Error(`${where}:${start + 1}: ${key}: unexpected ${JSON.stringify(after)} after the closing quote`);
      out.set(key, q === '"' ? substitute(value, look, [key], unset) : value);
      continue;
    }
    const hash = rest.search(/\s#/);
    const raw = (hash >= 0 ? rest.slice(0, hash) : rest).trim();
    out.set(key, substitute(raw, look, [key], unset));
  }
  return out;
}
