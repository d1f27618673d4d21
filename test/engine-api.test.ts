// The Engine API's surface itself, over the raw socket: /_ping headers, version prefixes, and
// Docker's error bodies and status codes (404, 409, 400, 304).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
  assert.equal((await eng.api('POST', '/images/create?fromImage=busybox&tag=latest')).status, 200);
});
after(async () => {
  await eng?.stop();
});

test('_ping answers GET and HEAD with the API version headers', async () => {
  const g = await eng.api('GET', '/_ping');
  assert.equal(g.status, 200);
  assert.equal(g.body, 'OK');
  assert.equal(g.headers['api-version'], '1.50');
  assert.equal(g.headers['ostype'], 'linux');
  assert.equal(g.headers['docker-experimental'], 'false');
  const h = await eng.api('HEAD', '/_ping');
  assert.equal(h.status, 200);
  assert.equal(h.body, '');
  assert.equal(h.headers['api-version'], '1.50');
});

test('a /v1.XX prefix is accepted and stripped', async () => {
  for (const v of ['v1.41', 'v1.44', 'v1.50']) {
    const r = await eng.api('GET', `/${v}/version`);
    assert.equal(r.status, 200, v);
    assert.equal(JSON.parse(r.body).ApiVersion, '1.50');
  }
  assert.equal((await eng.api('GET', '/vX/version')).status, 400);
});

test('errors are {"message"} with the status of their kind', async () => {
  const nf = await eng.api('GET', '/containers/nope/json');
  assert.equal(nf.status, 404);
  assert.deepEqual(JSON.parse(nf.body), { message: 'No such container: nope' });
  assert.equal((await eng.api('GET', '/no/such/route')).status, 404);
  assert.equal((await eng.api('POST', '/containers/create', { Image: 'no-such-image' })).status, 404);
  const bad = await eng.api('POST', '/containers/create?name=a%20b', { Image: 'busybox' });
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).message, /Invalid container name/);

  const c = await eng.api('POST', '/containers/create?name=dup', { Image: 'busybox', Cmd: ['sleep', '100'] });
  assert.equal(c.status, 201);
  const { Id, Warnings } = JSON.parse(c.body);
  assert.deepEqual(Warnings, []);
  const dup = await eng.api('POST', '/containers/create?name=dup', { Image: 'busybox' });
  assert.equal(dup.status, 409);
  assert.match(JSON.parse(dup.body).message, /The container name "\/dup" is already in use/);
  assert.equal((await eng.api('POST', `/containers/${Id}/stop`)).status, 304, 'stop of a created container');
  assert.equal((await eng.api('POST', `/containers/${Id}/kill`)).status, 409);
  assert.equal((await eng.api('POST', `/containers/${Id}/start`)).status, 204);
  assert.equal((await eng.api('POST', `/containers/${Id}/start`)).status, 304);
  assert.equal((await eng.api('DELETE', `/containers/${Id}`)).status, 409);
  const rmi = await eng.api('DELETE', '/images/busybox');
  assert.equal(rmi.status, 409, 'an image in use is not removed');
  assert.equal((await eng.api('DELETE', `/containers/${Id.slice(0, 12)}?force=1`)).status, 204);
  assert.equal((await eng.api('GET', `/containers/${Id}/json`)).status, 404);
  assert.equal((await eng.api('GET', `/containers/${Id}/logs`)).status, 404);
});

test('wait conditions', async () => {
  const { Id } = JSON.parse((await eng.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', 'exit 9'] })).body);
  const next = eng.api('POST', `/containers/${Id}/wait?condition=next-exit`);
  assert.equal((await eng.api('POST', `/containers/${Id}/start`)).status, 204);
  assert.deepEqual(JSON.parse((await next).body), { StatusCode: 9, Error: null });
  assert.deepEqual(JSON.parse((await eng.api('POST', `/containers/${Id}/wait`)).body).StatusCode, 9, 'not-running answers at once');
  assert.equal((await eng.api('POST', `/containers/${Id}/wait?condition=bogus`)).status, 400);
  // An exited container starts again (its root remounted) and its new exit is waited for.
  const again = eng.api('POST', `/containers/${Id}/wait?condition=next-exit`);
  assert.equal((await eng.api('POST', `/containers/${Id}/start`)).status, 204);
  assert.equal(JSON.parse((await again).body).StatusCode, 9);
  const removed = eng.api('POST', `/containers/${Id}/wait?condition=removed`);
  assert.equal((await eng.api('DELETE', `/containers/${Id}`)).status, 204);
  assert.equal(JSON.parse((await removed).body).StatusCode, 9);
});

test('import a root file system tar (fromSrc=-)', async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { makeRootfs } = await import('./helpers/bundle.js');
  const dir = mkdtempSync('/tmp/berth-test-import-');
  try {
    makeRootfs(join(dir, 'rootfs'));
    const tar = execFileSync('tar', ['-C', join(dir, 'rootfs'), '-cf', '-', '.'], { maxBuffer: 64 << 20 });
    const { request } = await import('node:http');
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        { socketPath: eng.socket, agent: false, method: 'POST', path: '/images/create?fromSrc=-&repo=imported&tag=v1' },
        (res) => {
          let s = '';
          res.on('data', (c) => (s += c));
          res.on('end', () => resolve(s));
        },
      );
      req.on('error', reject);
      req.end(tar);
    });
    assert.match(JSON.parse(body.trim()).status, /^sha256:[0-9a-f]{64}$/);
    const img = JSON.parse((await eng.api('GET', '/images/imported:v1/json')).body);
    assert.deepEqual(img.RepoTags, ['imported:v1']);
    assert.equal((await eng.api('DELETE', '/images/imported:v1')).status, 200);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
