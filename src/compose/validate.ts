// Checks a Compose file (after substitution) against berth's Compose schema (schema.ts), with
// the validator Ajv compiled from it at build time, and turns Ajv's errors into one that a person can act on: the file, line and column, the
// key path, and what was expected (an unknown key, a missing key, a wrong type, a value not
// allowed). Of the many errors a `oneOf` gives, the one deepest in the file is told, since it
// is where the value matched a branch's type and then went wrong.

import type { ErrorObject, ValidateFunction } from 'ajv';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pointerPath, TYPE_WORDS, typeOf, valueAt } from '../common/key-path.js';
import type { Source } from './source.js';

/** The schema's validator as `npm run build` compiles it (scripts/compose-validator.js), from the package's root. */
export const VALIDATOR_FILE = 'dist/bundle/compose-validator.cjs';

let compiled: ValidateFunction | undefined;

/** The build's validator, found upwards from this module or its bundle: compiling the schema here cost every command ~0.2 s of CPU. */
function validator(): ValidateFunction {
  if (compiled) return compiled;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, VALIDATOR_FILE);
    if (existsSync(file)) return (compiled = (createRequire(import.meta.url)(file) as { default: ValidateFunction }).default);
    if (dirname(dir) === dir) throw new Error(`the Compose schema's validator (${VALIDATOR_FILE}) is missing: run \`npm run build\``);
  }
}

function words(list: string[]): string {
  const u = [...new Set(list)];
  return u.length > 1 ? `${u.slice(0, -1).join(', ')} or ${u[u.length - 1]}` : u[0];
}

/** Throws the clearest of the schema's complaints about `value` (the file's content after substitution). */
export function validate(src: Source, value: unknown): void {
  const check = validator();
  if (check(value)) return;
  const errors = (check.errors ?? []).filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf');
  const depth = (e: ErrorObject) =>
    pointerPath(e.instancePath).length + (e.keyword === 'additionalProperties' || e.keyword === 'required' ? 1 : 0);
  // A type error at a path where another branch got further (a deeper error) is that other branch's noise.
  const structural = errors.filter((e) => e.keyword !== 'type');
  const useful = errors.filter(
    (e) =>
      e.keyword !== 'type' || !structural.some((s) => s.instancePath === e.instancePath || s.instancePath.startsWith(`${e.instancePath}/`)),
  );
  const rank = (e: ErrorObject) => depth(e) * 10 + (e.keyword === 'type' ? 0 : 1);
  const best = useful.sort((a, b) => rank(b) - rank(a))[0] ?? errors[0];
  const path = pointerPath(best.instancePath);
  const got = valueAt(value, path);
  switch (best.keyword) {
    case 'additionalProperties': {
      const key = String((best.params as { additionalProperty: string }).additionalProperty);
      const what =
        path.length === 2 && path[0] === 'services' ? `unknown key "${key}" in service ${String(path[1])}` : `unknown key "${key}"`;
      throw src.error([...path, key], what, true);
    }
    case 'required':
      throw src.error(path, `missing key "${(best.params as { missingProperty: string }).missingProperty}"`);
    case 'type': {
      const expected = errors
        .filter((e) => e.keyword === 'type' && e.instancePath === best.instancePath)
        .flatMap((e) => [(e.params as { type: string | string[] }).type].flat());
      throw src.error(path, `expected ${words(expected.map((t) => TYPE_WORDS[t] ?? t))}, got ${TYPE_WORDS[typeOf(got)]}`);
    }
    case 'enum':
      throw src.error(
        path,
        `${JSON.stringify(got)} is not allowed: expected ${words((best.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)))}`,
      );
    case 'pattern':
      throw src.error(path, `${JSON.stringify(got)} does not match ${(best.params as { pattern: string }).pattern}`);
    case 'uniqueItems':
      throw src.error(
        path,
        `the list has an item twice (items ${(best.params as { j: number }).j} and ${(best.params as { i: number }).i})`,
      );
    default:
      throw src.error(path, best.message ?? 'is not valid');
  }
}
