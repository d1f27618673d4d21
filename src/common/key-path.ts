// Key paths into a parsed YAML/JSON value (`services.web.ports[0]`), shared by the Compose and
// Kubernetes file readers: how an error shows a path, Ajv's JSON Pointers turned into one, the
// value found there, and the words for a value's type.

export type PathSeg = string | number;

/** `services.web.ports[0]`: a path as the errors show it. */
export function showPath(path: PathSeg[]): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s ? `.${seg}` : seg;
  return s || '(top level)';
}

/** A JSON Pointer (Ajv's `instancePath`, `/spec/ports/0`) as path segments, indexes as numbers. */
export function pointerPath(pointer: string): PathSeg[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export function valueAt(root: unknown, path: PathSeg[]): unknown {
  let v = root;
  for (const seg of path) v = (v as Record<string | number, unknown> | undefined)?.[seg];
  return v;
}

/** A JSON schema type (or typeOf's answer) in an error's words. */
export const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'a mapping',
  array: 'a list',
  null: 'nothing (null)',
};

/** A value's JSON schema type, integers apart. */
export function typeOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}
