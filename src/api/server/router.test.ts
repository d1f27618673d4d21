import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from './router.js';

const r = new Router();
const h = (name: string) => () => {
  void name;
};
r.on('GET', '/images/json', h('list'))
  .on('GET', '/images/:name*/json', h('inspect'))
  .on('DELETE', '/images/:name*', h('rmi'))
  .on('POST', '/containers/:id/start', h('start'));

test('version prefix stripped, params decoded, image names with slashes and ports', () => {
  const m = r.match('GET', '/v1.50/images/127.0.0.1:5000/a/b:1/json');
  assert.equal(m.version, '1.50');
  assert.equal(m.path, '/images/127.0.0.1:5000/a/b:1/json');
  assert.deepEqual(m.params, { name: '127.0.0.1:5000/a/b:1' });
  assert.deepEqual(r.match('DELETE', '/images/busybox%3Alatest').params, { name: 'busybox:latest' });
  assert.deepEqual(r.match('GET', '/images/json').params, {});
  assert.deepEqual(r.match('POST', '/containers/abc/start?x=1').params, { id: 'abc' });
  assert.equal(r.match('POST', '/containers/abc/start?x=1').query.get('x'), '1');
});

test('HEAD finds GET routes; unknown routes and bad prefixes are errors', () => {
  assert.ok(r.match('HEAD', '/images/json'));
  assert.throws(() => r.match('GET', '/nope'), /page not found/);
  assert.throws(() => r.match('GET', '/vfoo/images/json'), /invalid API version/);
  assert.throws(() => r.match('POST', '/images/json'), /page not found/);
});

test('a malformed percent escape in the path is a 400, not a URIError', () => {
  assert.throws(
    () => r.match('POST', '/containers/%ff/start'),
    (e: Error & { kind?: string }) => e.kind === 'invalid' && /invalid escape/.test(e.message),
  );
});
