// Decodes a parsed JSON request body into the Go types dockerd declares for it (body-types.ts),
// with Go encoding/json's rules: fields matched by name (exact, else case-insensitively), unknown
// fields dropped, `null` leaving a field unset, and a value of the wrong JSON type or out of its
// integer range refused with Go's own words (`json: cannot unmarshal string into Go struct field
// HostConfig.HostConfig.Privileged of type bool`). Nothing is ever coerced. What comes out holds
// only declared fields, so no caller walks a client's unbounded nesting. It never throws anything
// but an `invalid` error, and recurses only as deep as the declared types.

import { invalid } from '../../errors.js';

/** Go's integer types with their ranges (int and uint are 64-bit on the platforms berth runs on). */
const INT_RANGES = {
  int: [-(2 ** 63), 2 ** 63 - 1],
  int64: [-(2 ** 63), 2 ** 63 - 1],
  uint: [0, 2 ** 64 - 1],
  uint64: [0, 2 ** 64 - 1],
  uint32: [0, 2 ** 32 - 1],
  uint16: [0, 2 ** 16 - 1],
} as const;
export type GoInt = keyof typeof INT_RANGES;

/** A Go type as encoding/json sees it; `go` names it in messages where Go names it otherwise. */
export type GoType =
  | { kind: 'bool' }
  | { kind: 'string'; go?: string; oneOf?: readonly string[]; refuse?: (v: string) => string }
  | { kind: 'int'; go: GoInt }
  | { kind: 'slice'; of: GoType; go?: string; length?: number }
  /** strslice.StrSlice: a list of strings, or one string taken as a list of one. */
  | { kind: 'strslice' }
  | { kind: 'map'; of: GoType; go?: string }
  | { kind: 'struct'; go: string; fields: Record<string, GoType> }
  /** struct{}: any JSON object, its content ignored (ExposedPorts' and Volumes' values). */
  | { kind: 'empty' };

/** Go's name of a type, as its messages print it. */
export function goName(t: GoType): string {
  switch (t.kind) {
    case 'bool':
      return 'bool';
    case 'string':
      return t.go ?? 'string';
    case 'int':
      return t.go;
    case 'slice':
      return t.go ?? `${t.length ? `[${t.length}]` : '[]'}${goName(t.of)}`;
    case 'strslice':
      return 'strslice.StrSlice';
    case 'map':
      return t.go ?? `map[string]${goName(t.of)}`;
    case 'struct':
      return t.go;
    case 'empty':
      return 'struct {}';
  }
}

/** The JSON kind of a value as Go's messages name it. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // string, number, object
}

/** Where a value is: the innermost struct's short name and the field names from the root (Go's errorContext). */
interface At {
  struct?: string;
  fields: string[];
}

function typeError(what: string, t: GoType, at: At): Error {
  const into = at.struct && at.fields.length ? `Go struct field ${at.struct}.${at.fields.join('.')}` : 'Go value';
  return invalid(`json: cannot unmarshal ${what} into ${into} of type ${goName(t)}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sets `k` as an own property even when it is `__proto__`. */
function put(out: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Go's zero value, what a `null` element of a list or map becomes. */
function zero(t: GoType): unknown {
  switch (t.kind) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'int':
      return 0;
    case 'struct':
    case 'empty':
      return {};
    default:
      return null;
  }
}

function decodeValue(t: GoType, v: unknown, at: At): unknown {
  switch (t.kind) {
    case 'bool':
      if (typeof v !== 'boolean') throw typeError(jsonKind(v), t, at);
      return v;
    case 'string':
      if (typeof v !== 'string') throw typeError(jsonKind(v), t, at);
      if (t.oneOf && v !== '' && !t.oneOf.includes(v)) {
        throw invalid(t.refuse?.(v) ?? `invalid ${at.fields.join('.')} "${v}": give one of ${t.oneOf.map((x) => `"${x}"`).join(', ')}`);
      }
      return v;
    case 'int': {
      if (typeof v !== 'number') throw typeError(jsonKind(v), t, at);
      const [lo, hi] = INT_RANGES[t.go];
      if (!Number.isInteger(v) || v < lo || v > hi) throw typeError(`number ${v}`, t, at);
      return v;
    }
    case 'strslice':
      if (typeof v === 'string') return [v];
      if (!Array.isArray(v)) throw typeError(jsonKind(v), t, at);
      return v.map((x) => (x === null ? '' : decodeValue({ kind: 'string' }, x, at)));
    case 'slice': {
      if (!Array.isArray(v)) throw typeError(jsonKind(v), t, at);
      if (t.length !== undefined && v.length !== t.length) {
        throw invalid(
          `json: cannot unmarshal array of ${v.length} into Go struct field ${at.struct}.${at.fields.join('.')} of type ${goName(t)}`,
        );
      }
      return v.map((x) => (x === null ? zero(t.of) : decodeValue(t.of, x, at)));
    }
    case 'map': {
      if (!isObject(v)) throw typeError(jsonKind(v), t, at);
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) put(out, k, x === null ? zero(t.of) : decodeValue(t.of, x, at));
      return out;
    }
    case 'empty':
      if (!isObject(v)) throw typeError(jsonKind(v), t, at);
      return {};
    case 'struct': {
      if (!isObject(v)) throw typeError(jsonKind(v), t, at);
      const out: Record<string, unknown> = {};
      const struct = t.go.slice(t.go.lastIndexOf('.') + 1);
      for (const [k, x] of Object.entries(v)) {
        const name = fieldName(t, k);
        if (name === undefined) continue; // unknown: Go drops it
        if (x === null) continue; // null: a no-op, as in Go
        put(out, name, decodeValue(t.fields[name], x, { struct, fields: [...at.fields, name] }));
      }
      return out;
    }
  }
}

/** The declared field `key` names: the exact name, else one equal ignoring case (as Go matches). */
function fieldName(t: Extract<GoType, { kind: 'struct' }>, key: string): string | undefined {
  if (Object.hasOwn(t.fields, key)) return key;
  const lower = key.toLowerCase();
  return Object.keys(t.fields).find((f) => f.toLowerCase() === lower);
}

/**
 * `body` decoded as `t` (a struct): only its declared fields, each of its declared type, or an
 * `invalid` error in dockerd's words. `null` gives an empty struct, as Go decodes it.
 */
export function decodeBody(t: Extract<GoType, { kind: 'struct' }>, body: unknown): Record<string, any> {
  if (body === null) return {};
  return decodeValue(t, body, { fields: [] }) as Record<string, any>;
}
