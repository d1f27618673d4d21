// RUN --mount=… values: a CSV record of key=value fields (BuildKit's keys and defaults) made
// into a typed mount. At parse time nothing is expanded, and a value holding `$` is left for
// the builder's expansion (Docker checks it then); `from` may never hold a variable.

import { fault } from './errors.js';
import { withSuggestion } from './suggest.js';
import type { RunMount } from './types.js';

/** Expands one value with the variables in scope; absent at parse time. */
export type ValueExpander = (value: string) => string;

const SHARING = new Set(['shared', 'private', 'locked']);
const ALL_KEYS = [
  'type',
  'from',
  'source',
  'target',
  'readonly',
  'id',
  'sharing',
  'required',
  'size',
  'mode',
  'uid',
  'gid',
  'src',
  'dst',
  'destination',
  'ro',
  'rw',
  'readwrite',
  'env',
];

/** One `--mount=` value as a typed mount; `expand` given once the variables in scope are known. */
export function parseMount(spec: string, expand?: ValueExpander): RunMount {
  const fields = parseCsvRecord(spec);
  let type = 'bind';
  let from: string | undefined;
  let source: string | undefined;
  let target: string | undefined;
  let id: string | undefined;
  let sharing: string | undefined;
  let env: string | undefined;
  let readonly: boolean | undefined;
  let required = false;
  let mode: number | undefined;
  let uid: number | undefined;
  let gid: number | undefined;
  let size: number | undefined;
  /** Keys whose value holds a variable: not known until the builder expands them. */
  const deferred = new Set<string>();

  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') readonly = true;
      else if (key === 'readwrite' || key === 'rw') readonly = false;
      else if (key === 'required') {
        if (type !== 'secret') throw fault(`unexpected key '${key}' for mount type '${type}'`);
        required = true;
      } else throw fault(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    let value = field.slice(eq + 1);
    if (expand) value = expand(value);
    else if (key === 'from' && /\$./s.test(value)) {
      throw fault(`'${key}' doesn't support variable expansion, define alias stage instead`);
    } else if (value.includes('$')) {
      deferred.add(key); // checked once expanded, as Docker does
      continue;
    }
    switch (key) {
      case 'type': {
        const t = value.toLowerCase();
        if (t === 'ssh') throw fault('RUN --mount=type=ssh is not supported: berth does not forward an SSH agent to builds');
        if (t !== 'bind' && t !== 'cache' && t !== 'tmpfs' && t !== 'secret') {
          throw fault(
            withSuggestion(`unsupported mount type ${JSON.stringify(value)}`, value, ['bind', 'cache', 'tmpfs', 'secret', 'ssh'], true),
          );
        }
        type = t;
        break;
      }
      case 'from':
        from = value;
        break;
      case 'source':
      case 'src':
        source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        target = value;
        break;
      case 'readonly':
      case 'ro':
        readonly = parseGoBool(key, value);
        break;
      case 'readwrite':
      case 'rw':
        readonly = !parseGoBool(key, value);
        break;
      case 'required':
        if (type !== 'secret') throw fault(`unexpected key '${key}' for mount type '${type}'`);
        required = parseGoBool(key, value);
        break;
      case 'id':
        id = value;
        break;
      case 'sharing':
        if (!SHARING.has(value.toLowerCase())) throw fault(`unsupported sharing value ${JSON.stringify(value)}`);
        sharing = value.toLowerCase();
        break;
      case 'mode':
        if (!/^[0-7]+$/.test(value) || parseInt(value, 8) > 0xffffffff) throw fault(`invalid value ${value} for mode`);
        mode = parseInt(value, 8);
        break;
      case 'uid':
      case 'gid': {
        if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) throw fault(`invalid value ${value} for ${key}`);
        if (key === 'uid') uid = Number(value);
        else gid = Number(value);
        break;
      }
      case 'size':
        size = parseRamBytes(value);
        break;
      case 'env':
        env = value;
        break;
      default:
        throw fault(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ALL_KEYS, true));
    }
  }

  const fileInfo = type === 'secret' || type === 'cache';
  for (const [name, v] of [
    ['mode', mode],
    ['uid', uid],
    ['gid', gid],
  ] as const) {
    if (v !== undefined && !fileInfo) throw fault(`${name} not allowed for ${JSON.stringify(type)} type mounts`);
  }
  if (sharing !== undefined && type !== 'cache') throw fault(`invalid cache sharing set for ${type} mount`);
  if (size !== undefined && type !== 'tmpfs') throw fault(`size not allowed for ${JSON.stringify(type)} type mounts`);
  if (env !== undefined && type !== 'secret') throw fault(`env not allowed for ${JSON.stringify(type)} type mounts`);

  switch (type) {
    case 'secret': {
      if (from !== undefined) throw fault('secret mount should not have a from');
      if (source !== undefined && id !== undefined) throw fault("both source and id can't be set");
      if (source === undefined && target === undefined && id === undefined && env === undefined && deferred.size === 0) {
        throw fault('invalid secret mount. one of source, target required');
      }
      const secretId = id ?? source ?? (target !== undefined ? baseName(target) : (env ?? ''));
      const file = target ?? (env === undefined ? `/run/secrets/${baseName(secretId)}` : undefined);
      return {
        type: 'secret',
        id: secretId,
        ...(file !== undefined ? { target: file } : {}),
        ...(env !== undefined ? { env } : {}),
        required,
        mode: mode ?? 0o400,
        uid: uid ?? 0,
        gid: gid ?? 0,
      };
    }
    case 'cache':
      return {
        type: 'cache',
        target: target ?? '',
        ...(id !== undefined ? { id } : {}),
        sharing: (sharing ?? 'shared') as 'shared' | 'private' | 'locked',
        ...(from !== undefined ? { from } : {}),
        ...(source !== undefined ? { source } : {}),
        readonly: readonly ?? false,
        ...(mode !== undefined ? { mode } : {}),
        ...(uid !== undefined ? { uid } : {}),
        ...(gid !== undefined ? { gid } : {}),
      };
    case 'tmpfs':
      return { type: 'tmpfs', target: target ?? '', ...(size !== undefined ? { size } : {}) };
    default:
      return {
        type: 'bind',
        target: target ?? '',
        ...(source !== undefined ? { source } : {}),
        ...(from !== undefined ? { from } : {}),
        readonly: readonly ?? true,
      };
  }
}

function baseName(p: string): string {
  const parts = p.split('/').filter((s) => s !== '');
  return parts.length ? parts[parts.length - 1] : '/';
}

/** Go's strconv.ParseBool. */
function parseGoBool(key: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw fault(`invalid value for ${key}: ${value}`);
}

/** docker/go-units RAMInBytes: `64m`, `1g`, `512k`, `1024` (binary multiples). */
function parseRamBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(value);
  if (!m) throw fault(`invalid size: '${value}'`);
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 }[(m[2] ?? '').toLowerCase()]!;
  return Math.floor(Number(m[1]) * mult);
}

/** One record of Go's encoding/csv: commas split fields, a field in double quotes may hold commas and `""`. */
function parseCsvRecord(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw fault('failed to parse csv mounts: extraneous or missing " in quoted-field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== ',') throw fault('failed to parse csv mounts: extraneous or missing " in quoted-field');
    } else {
      while (i < text.length && text[i] !== ',') {
        if (text[i] === '"') throw fault('failed to parse csv mounts: bare " in non-quoted-field');
        field += text[i++];
      }
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the comma
  }
}
