// Image references, parsed and normalised as Docker does (distribution/reference): `busybox`
// → `docker.io/library/busybox:latest`, `host:5000/a/b:tag`, `name@sha256:…`. Pure: no disk,
// no network. Malformed references are `invalid` errors that say what is wrong.

import { invalid } from '../errors.js';
import { parseDigest } from '../oci/image.js';

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_TOTAL_LENGTH_MAX = 255;

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})(?::[0-9]+)?$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const ANCHORED_ID_RE = /^[a-f0-9]{64}$/;

/** A normalised reference. `domain` and `path` are always set; `tag` is set unless only a digest was given. */
export interface Reference {
  /** Registry host, with port when given: `docker.io`, `localhost:5000`. */
  readonly domain: string;
  /** Repository path inside the registry: `library/busybox`, `a/b`. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

/**
 * Parses a reference the way `docker pull` does: adds `docker.io` and `library/` where Docker
 * would, and `:latest` when neither tag nor digest is given.
 */
export function parseReference(input: string): Reference {
  const s = input;
  if (s === '') throw invalid('invalid reference format: repository name must have at least one component');
  if (ANCHORED_ID_RE.test(s)) {
    throw invalid(`invalid repository name "${s}": cannot specify 64-byte hexadecimal strings`);
  }
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/.test(digest)) {
      throw invalid(`invalid reference format "${s}": malformed digest "${digest}"`);
    }
    parseDigest(digest);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) {
      throw invalid(`invalid reference format "${s}": invalid tag "${tag}" (want [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`);
    }
  }
  if (rest === '') throw invalid(`invalid reference format "${s}": repository name must have at least one component`);
  let domain: string;
  let path: string;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN_RE.test(domain)) throw invalid(`invalid reference format "${s}": invalid registry host "${domain}"`);
  } else {
    domain = DEFAULT_DOMAIN;
    path = rest;
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;
  if (path !== path.toLowerCase()) {
    throw invalid(`invalid reference format "${s}": repository name "${path}" must be lowercase`);
  }
  if (!PATH_RE.test(path)) {
    throw invalid(
      `invalid reference format "${s}": invalid repository name "${path}" (lowercase letters, digits and separators . _ __ - only, components split by /)`,
    );
  }
  if (domain.length + 1 + path.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(`invalid reference format "${s}": repository name longer than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  if (!tag && !digest) tag = DEFAULT_TAG;
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** `domain/path`: the repository's full name. */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The canonical string: `docker.io/library/busybox:latest`, `host/a@sha256:…`. */
export function formatReference(ref: Reference): string {
  return repositoryName(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** The short form Docker shows: `busybox:latest`, `user/app:1`, `localhost:5000/a:b`. */
export function familiarName(ref: Reference): string {
  let name = repositoryName(ref);
  if (ref.domain === DEFAULT_DOMAIN) {
    name = ref.path.startsWith(OFFICIAL_REPO_PREFIX) ? ref.path.slice(OFFICIAL_REPO_PREFIX.length) : ref.path;
  }
  return name;
}

export function familiarString(ref: Reference): string {
  return familiarName(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** A copy of `ref` with another tag and no digest. */
export function withTag(ref: Reference, tag: string): Reference {
  if (!TAG_RE.test(tag)) throw invalid(`invalid tag "${tag}"`);
  return { domain: ref.domain, path: ref.path, tag };
}

/**
 * The index a `docker search` term names and the name searched for there, as moby's
 * splitReposSearchTerm: the part before the first `/` is a registry host when it has a `.` or
 * `:` or is `localhost`; otherwise the whole term is Docker Hub's.
 */
export function splitSearchTerm(term: string): { index: string; remote: string } {
  const slash = term.indexOf('/');
  const first = slash < 0 ? '' : term.slice(0, slash);
  if (slash < 0 || (!first.includes('.') && !first.includes(':') && first !== 'localhost')) {
    return { index: DEFAULT_DOMAIN, remote: term };
  }
  return { index: first, remote: term.slice(slash + 1) };
}
