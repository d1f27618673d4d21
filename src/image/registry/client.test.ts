import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseReference } from '../../common/reference.js';
import { DOCKER_HUB_ENDPOINT, RegistryClient } from './client.js';

test('a short name is Docker Hub: docker.io/library/NAME:latest, served by registry-1.docker.io', () => {
  const ref = parseReference('alpine');
  assert.deepEqual(ref, { domain: 'docker.io', path: 'library/alpine', tag: 'latest' });
  assert.equal(DOCKER_HUB_ENDPOINT, 'https://registry-1.docker.io');
  assert.equal(RegistryClient.endpoint(ref.domain, {}), 'https://registry-1.docker.io');
  // library/ only for one-component names on Docker Hub, as distribution/reference.
  assert.equal(parseReference('user/app').path, 'user/app');
  assert.equal(parseReference('index.docker.io/alpine').path, 'library/alpine');
  assert.equal(parseReference('localhost:5000/alpine').path, 'alpine');
  assert.equal(RegistryClient.endpoint('localhost:5000', {}), 'http://localhost:5000');
  assert.equal(RegistryClient.endpoint('quay.io', {}), 'https://quay.io');
  assert.equal(RegistryClient.endpoint('quay.io', { insecure: ['quay.io'] }), 'http://quay.io');
});

test('pulls try the mirrors in order, then the registry itself (mirrors are for their host only)', () => {
  const opts = { mirrors: { 'docker.io': ['https://m1.example/', 'http://m2.example:5000'] } };
  assert.deepEqual(
    RegistryClient.forPull('docker.io', opts).map((c) => c.base),
    ['https://m1.example', 'http://m2.example:5000', 'https://registry-1.docker.io'],
  );
  assert.deepEqual(
    RegistryClient.forPull('quay.io', opts).map((c) => c.base),
    ['https://quay.io'],
  );
});

test('Docker Hub token flow: a 401 bearer challenge, a token for repository:library/NAME:pull, the request again', async (t) => {
  const seen: { url: string; auth?: string }[] = [];
  const srv = createServer((req: IncomingMessage, res) => {
    seen.push({ url: req.url!, auth: req.headers.authorization });
    if (req.url!.startsWith('/token')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ token: 'tok' }));
      return;
    }
    if (req.headers.authorization !== 'Bearer tok') {
      const { port } = srv.address() as AddressInfo;
      res.statusCode = 401;
      res.setHeader(
        'www-authenticate',
        `Bearer realm="http://127.0.0.1:${port}/token",service="registry.docker.io",scope="repository:library/alpine:pull"`,
      );
      res.end();
      return;
    }
    res.end('{}');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => srv.close());
  const { port } = srv.address() as AddressInfo;
  const ref = parseReference('alpine');
  const c = new RegistryClient(ref.domain, { endpoints: { 'docker.io': `http://127.0.0.1:${port}` }, dockerConfig: null });
  const res = await c.request('GET', ref.path, `/manifests/${ref.tag}`);
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(seen.length, 3);
  assert.equal(seen[0].url, '/v2/library/alpine/manifests/latest');
  const token = new URL(seen[1].url, 'http://x');
  assert.equal(token.pathname, '/token');
  assert.equal(token.searchParams.get('service'), 'registry.docker.io');
  assert.equal(token.searchParams.get('scope'), 'repository:library/alpine:pull');
  assert.equal(seen[2].auth, 'Bearer tok');
});
