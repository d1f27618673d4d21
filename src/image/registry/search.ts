// `docker search` (`GET /images/search`): Docker's v1 search API (`/v1/search?q=TERM&n=LIMIT`) on
// the index a term names, Docker Hub's index for a term without a registry host, as moby's
// registry.Service.Search: the term split as moby's splitReposSearchTerm, `library/` dropped on
// Docker Hub, the limit checked, and the filters `is-official`, `stars` and `is-automated`
// applied to what the index answers. A registry that has no v1 search (the distribution
// registry: a 404) is an error in dockerd's words.

import { invalid, systemError } from '../../errors.js';
import { DEFAULT_DOMAIN, splitSearchTerm } from '../../common/reference.js';
import { validateFilters, type Filters } from '../../common/filters.js';
import { RegistryClient, discard, type RegistryOptions } from './client.js';

/** One result (the Engine API's RegistrySearchResult). */
export interface SearchResult {
  star_count: number;
  is_official: boolean;
  name: string;
  /** Deprecated by Docker Hub: always false, as dockerd 25 and later answer. */
  is_automated: boolean;
  description: string;
}

/** Docker Hub's index, where dockerd sends the searches of terms without a host (moby's IndexServer). */
export const DOCKER_HUB_INDEX = 'https://index.docker.io';

/** dockerd's default number of results (moby's defaultSearchLimit). */
export const DEFAULT_SEARCH_LIMIT = 25;

/** The filters a search takes (moby's acceptedSearchFilterTags). */
export const SEARCH_FILTERS = ['is-automated', 'is-official', 'stars'] as const;

/** What the filters ask for, checked in dockerd's words (moby's Search before it asks the index). */
export interface SearchWanted {
  official?: boolean;
  minStars?: number;
  /** `is-automated=true`: Docker Hub no longer marks automated builds, so nothing matches. */
  automated: boolean;
}

/** A boolean filter's one value, as moby's GetBoolOrDefault: `1`/`true` or `0`/`false`, not both. */
function boolFilter(f: Filters, key: string): boolean | undefined {
  const values = f[key];
  if (!values) return undefined;
  const isTrue = values.some((v) => v === '1' || v === 'true');
  const isFalse = values.some((v) => v === '0' || v === 'false');
  if (isTrue === isFalse) throw invalid(`Invalid filter '${key}=[${values.join(' ')}]'`);
  return isTrue;
}

export function searchWanted(f: Filters): SearchWanted {
  validateFilters(f, SEARCH_FILTERS);
  const automated = boolFilter(f, 'is-automated') ?? false;
  const official = boolFilter(f, 'is-official');
  let minStars: number | undefined;
  for (const v of f.stars ?? []) {
    if (!/^[+-]?\d+$/.test(v)) throw invalid(`Invalid filter 'stars=${v}'`);
    minStars = Math.max(minStars ?? 0, Number(v));
  }
  return { official, minStars, automated };
}

/** The index's results that the filters keep, `is_automated` forced false as dockerd 25 and later do. */
export function filterResults(results: SearchResult[], w: SearchWanted): SearchResult[] {
  if (w.automated) return [];
  return results
    .filter((r) => (w.official === undefined || r.is_official === w.official) && (w.minStars === undefined || r.star_count >= w.minStars))
    .map((r) => ({ ...r, is_automated: false }));
}

/** The v1 search URL for a term (moby's searchRepositories), and the index's host. */
export function searchURL(term: string, limit: number, opts: RegistryOptions): { host: string; url: string } {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(term)) {
    // dockerd 20.10's words (moby since: `repository name (…) should not have a scheme`).
    throw invalid('Invalid repository name (ex: "registry.domain.tld/myrepos")');
  }
  const n = limit || DEFAULT_SEARCH_LIMIT;
  // dockerd 20.10's words; moby since writes `limit` in lower case.
  if (n < 1 || n > 100) throw invalid(`Limit ${n} is outside the range of [1, 100]`);
  const { index, remote } = splitSearchTerm(term);
  const official = index === DEFAULT_DOMAIN;
  // On Docker Hub `library/foo` is stored as `foo` (moby trims the prefix for the official index).
  const q = official ? remote.replace(/^library\//, '') : remote;
  const base = official ? (opts.endpoints?.[DOCKER_HUB_INDEX] ?? DOCKER_HUB_INDEX) : RegistryClient.endpoint(index, opts);
  return { host: index, url: `${base.replace(/\/+$/, '')}/v1/search?q=${encodeURIComponent(q)}&n=${n}` };
}

/**
 * Searches the index a term names. The caller's credentials go to the index as dockerd sends them
 * (basic, or a bearer token for `registry:catalog:search` when the index challenges for one).
 */
export async function searchRegistry(term: string, limit: number, filters: Filters, opts: RegistryOptions): Promise<SearchResult[]> {
  const wanted = searchWanted(filters);
  const { host, url } = searchURL(term, limit, opts);
  const res = await new RegistryClient(host, opts).getWithAuth(url, 'registry:catalog:search', `search of ${host}`);
  if (res.status !== 200) {
    await discard(res.body);
    // dockerd passes no more of the index's answer than its status (moby issue 27286).
    throw systemError(`Unexpected status code ${res.status}`);
  }
  let body: { results?: SearchResult[] };
  try {
    body = (await res.json()) as { results?: SearchResult[] };
  } catch (e) {
    throw systemError(`error decoding registry search results: ${(e as Error).message}`, e);
  }
  return filterResults(body.results ?? [], wanted);
}
