import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { splitSearchTerm } from '../../common/reference.js';
import { DOCKER_HUB_INDEX, filterResults, searchRegistry, searchURL, searchWanted, type SearchResult } from './search.js';

test('a search term names Docker Hub unless its first part is a host, as moby splits it', () => {
  assert.deepEqual(splitSearchTerm('nginx'), { index: 'docker.io', remote: 'nginx' });
  assert.deepEqual(splitSearchTerm('user/app'), { index: 'docker.io', remote: 'user/app' });
  assert.deepEqual(splitSearchTerm('localhost/app'), { index: 'localhost', remote: 'app' });
  assert.deepEqual(splitSearchTerm('127.0.0.1:5000/a/b'), { index: '127.0.0.1:5000', remote: 'a/b' });
  assert.deepEqual(splitSearchTerm('quay.io/x'), { index: 'quay.io', remote: 'x' });
});

test("Docker Hub's index answers searches of plain terms, library/ dropped; other hosts their own /v1/search", () => {
  assert.equal(DOCKER_HUB_INDEX, 'https://index.docker.io');
  assert.deepEqual(searchURL('library/busybox', 0, {}), { host: 'docker.io', url: 'https://index.docker.io/v1/search?q=busybox&n=25' });
  assert.equal(searchURL('user/app x', 7, {}).url, 'https://index.docker.io/v1/search?q=user%2Fapp%20x&n=7');
  assert.equal(searchURL('127.0.0.1:5000/library/a', 100, {}).url, 'http://127.0.0.1:5000/v1/search?q=library%2Fa&n=100');
  assert.equal(searchURL('quay.io/x', 1, {}).url, 'https://quay.io/v1/search?q=x&n=1');
  assert.throws(() => searchURL('a', 101, {}), /^BerthError: Limit 101 is outside the range of \[1, 100\]$/);
  assert.throws(
    () => searchURL('https://quay.io/x', 0, {}),
    /^BerthError: Invalid repository name \(ex: "registry.domain.tld\/myrepos"\)$/,
  );
});

test("the search filters are checked in dockerd's words and applied to the index's answer", () => {
  assert.throws(() => searchWanted({ bogus: ['1'] }), /^BerthError: Invalid filter 'bogus'$/);
  assert.throws(() => searchWanted({ 'is-official': ['maybe'] }), /^BerthError: Invalid filter 'is-official=\[maybe\]'$/);
  assert.throws(() => searchWanted({ 'is-official': ['true', 'false'] }), /Invalid filter 'is-official=\[true false\]'/);
  assert.throws(() => searchWanted({ stars: ['x'] }), /^BerthError: Invalid filter 'stars=x'$/);
  const r = (name: string, stars: number, official: boolean): SearchResult => ({
    name,
    star_count: stars,
    is_official: official,
    is_automated: true,
    description: '',
  });
  const all = [r('a', 10, true), r('b', 3, false), r('c', 5, false)];
  const names = (f: Record<string, string[]>) => filterResults(all, searchWanted(f)).map((x) => x.name);
  assert.deepEqual(names({}), ['a', 'b', 'c']);
  assert.deepEqual(names({ 'is-official': ['1'] }), ['a']);
  assert.deepEqual(names({ 'is-official': ['false'], stars: ['2', '4'] }), ['c']);
  // Docker Hub no longer marks automated builds: dockerd 25 and later answer none, and false.
  assert.deepEqual(names({ 'is-automated': ['true'] }), []);
  assert.ok(filterResults(all, searchWanted({ 'is-automated': ['false'] })).every((x) => x.is_automated === false));
});

test('a search goes to the index with the caller credentials, through a bearer challenge for catalog:search', async () => {
  const seen: { url: string; auth?: string }[] = [];
  const results = [{ name: 'team/app', description: 'd', star_count: 4, is_official: false, is_automated: false }];
  const server = createServer((req: IncomingMessage, res) => {
    seen.push({ url: req.url!, auth: req.headers.authorization });
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url!.startsWith('/token')) return res.end(JSON.stringify({ token: 'T' }));
    if (req.headers.authorization !== 'Bearer T') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${origin}/token",service="idx"` });
      return res.end();
    }
    if (req.url!.includes('q=gone')) {
      res.writeHead(404);
      return res.end('no v1 here');
    }
    res.end(JSON.stringify({ num_results: 1, query: 'app', results }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const opts = { dockerConfig: null, credentials: { username: 'u', password: 'p' } };
    assert.deepEqual(await searchRegistry(`${host}/app`, 0, {}, opts), results);
    assert.match(seen[0].auth!, /^Basic /);
    assert.equal(seen[1].url, '/token?service=idx&scope=registry%3Acatalog%3Asearch');
    assert.equal(seen[2].url, '/v1/search?q=app&n=25');
    await assert.rejects(searchRegistry(`${host}/gone`, 0, {}, opts), /^BerthError: Unexpected status code 404$/);
  } finally {
    server.close();
  }
});
