// Container names: Docker's grammar (`/?[a-zA-Z0-9][a-zA-Z0-9_.-]+`) and generated
// `adjective_noun` names for containers created without one.

import { randomInt } from 'node:crypto';
import { invalid } from '../errors.js';

const NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const ADJECTIVES = [
  'brave',
  'calm',
  'eager',
  'fond',
  'keen',
  'lucid',
  'merry',
  'quiet',
  'sharp',
  'sleepy',
  'swift',
  'vivid',
  'wise',
  'zen',
];
const NOUNS = [
  'albatross',
  'beacon',
  'cove',
  'dock',
  'ferry',
  'harbor',
  'keel',
  'lighthouse',
  'mooring',
  'pier',
  'quay',
  'skiff',
  'tide',
  'wharf',
];

/** `name` with Docker's leading slash, after checking the grammar. */
export function checkName(name: string): string {
  if (!NAME.test(name)) throw invalid(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name : `/${name}`;
}

/** A fresh generated name not in `taken`. */
export function generateName(taken: (name: string) => boolean): string {
  for (let i = 0; ; i++) {
    const base = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NOUNS[randomInt(NOUNS.length)]}`;
    const name = `/${i < 10 ? base : `${base}${randomInt(1000)}`}`;
    if (!taken(name)) return name;
  }
}
