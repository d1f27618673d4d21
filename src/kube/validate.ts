// Checks each document of a manifest against the schema of its kind (schema.ts) with Ajv, and
// turns the first complaint into an error a person can act on: the file, line and column, the
// document's index and title, the key path, and what berth expected. A kind berth does not play
// is refused here too, naming the kinds it does.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { KIND_SCHEMAS } from './schema.js';
import { pointerPath, TYPE_WORDS, typeOf, valueAt } from '../common/key-path.js';
import type { ManifestDoc } from './source.js';

let compiled: Map<string, ValidateFunction> | undefined;

function validators(): Map<string, ValidateFunction> {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, code: { optimize: false } });
    compiled = new Map(Object.entries(KIND_SCHEMAS).map(([k, s]) => [k, ajv.compile(s)]));
  }
  return compiled;
}

/** The kinds berth kube plays, for the refusal of any other. */
export const PLAYED_KINDS = Object.keys(KIND_SCHEMAS);

/** Throws the clearest complaint about the document, or returns its kind. */
export function validateDoc(doc: ManifestDoc): string {
  const v = doc.value as Record<string, unknown>;
  if (typeof v !== 'object' || Array.isArray(v)) throw doc.error([], `expected a mapping, got ${TYPE_WORDS[typeOf(v)]}`);
  if (typeof v.kind !== 'string') throw doc.error(['kind'], 'missing "kind"');
  const kind = v.kind;
  const check = validators().get(kind);
  if (!check) throw doc.error(['kind'], `kind "${kind}" is not supported by berth kube: it plays ${PLAYED_KINDS.join(', ')}`);
  if (check(v)) return kind;
  const errors = check.errors ?? [];
  const depth = (e: ErrorObject) =>
    pointerPath(e.instancePath).length + (e.keyword === 'additionalProperties' || e.keyword === 'required' ? 1 : 0);
  const best = [...errors].sort((a, b) => depth(b) - depth(a))[0];
  const path = pointerPath(best.instancePath);
  const got = valueAt(v, path);
  switch (best.keyword) {
    case 'additionalProperties': {
      const key = String((best.params as { additionalProperty: string }).additionalProperty);
      throw doc.error([...path, key], `field "${key}" is not supported by berth kube (or is not a field of ${kind})`, true);
    }
    case 'required':
      throw doc.error(path, `missing required field "${(best.params as { missingProperty: string }).missingProperty}"`);
    case 'type': {
      const t = [(best.params as { type: string | string[] }).type].flat();
      throw doc.error(path, `expected ${t.map((x) => TYPE_WORDS[x] ?? x).join(' or ')}, got ${TYPE_WORDS[typeOf(got)]}`);
    }
    case 'enum':
      throw doc.error(
        path,
        `Unsupported value: ${JSON.stringify(got)}: supported values: ${(best.params as { allowedValues: unknown[] }).allowedValues
          .map((x) => JSON.stringify(x))
          .join(', ')}`,
      );
    case 'const':
      throw doc.error(
        path,
        `${JSON.stringify(got)}: berth kube supports only ${JSON.stringify((best.params as { allowedValue: unknown }).allowedValue)}`,
      );
    case 'pattern':
      throw doc.error(path, `Invalid value: ${JSON.stringify(got)}: must be a lowercase RFC 1123 name (a-z, 0-9, '-')`);
    case 'minItems':
      throw doc.error(path, 'Required value: at least one item');
    default:
      throw doc.error(path, best.message ?? 'is not valid');
  }
}
