// `--env-file` and `--label-file` as docker's CLI reads them: one KEY=VALUE a line, the value
// passed through untouched; leading white space, blank lines and `#` comments skipped; a UTF-8
// BOM dropped; a bare KEY takes its value from berth's own environment where it is set (env
// files) or stays bare. A key with white space, a line with no key, or bytes that are not UTF-8
// are refused with docker's words.

import { readFileSync } from 'node:fs';
import { invalid } from '../errors.js';

/** The entries of one file's text; `lookup` gives a bare KEY its value (undefined: left bare). */
export function parseKeyValueText(text: Buffer, file: string, lookup: (key: string) => string | undefined): string[] {
  const out: string[] = [];
  const lines = text.toString('latin1').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (const [n, raw] of lines.entries()) {
    const bytes = Buffer.from(raw.replace(/\r$/, ''), 'latin1');
    let decoded: string;
    try {
      decoded = utf8.decode(bytes);
    } catch {
      throw invalid(`invalid env file (${file}): invalid utf8 bytes at line ${n + 1}: [${[...bytes].join(' ')}]`);
    }
    const line = (n === 0 ? decoded.replace(/^\uFEFF/, '') : decoded).replace(/^\s+/, '');
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (/[ \t]/.test(key)) throw invalid(`invalid env file (${file}): variable '${key}' contains whitespaces`);
    if (!key) throw invalid(`invalid env file (${file}): no variable name on line '${line}'`);
    if (eq >= 0) {
      out.push(`${key}=${line.slice(eq + 1)}`);
      continue;
    }
    const value = lookup(key);
    out.push(value === undefined ? key : `${key}=${value}`);
  }
  return out;
}

/** Reads `path` (an --env-file or --label-file). */
export function readKeyValueFile(path: string, lookup: (key: string) => string | undefined): string[] {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw invalid(
      `open ${path}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`,
    );
  }
  return parseKeyValueText(text, path, lookup);
}
