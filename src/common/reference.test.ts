import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReference, formatReference, familiarString, repositoryName } from './reference.js';
import { BerthError } from '../errors.js';

const D = 'sha256:' + 'a'.repeat(64);

test('normalises like docker', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['user/app', 'docker.io/user/app:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/a/b:tag', 'localhost:5000/a/b:tag'],
    ['host:5000/a/b:tag', 'host:5000/a/b:tag'],
    ['registry.example/x/y/z', 'registry.example/x/y/z:latest'],
    ['127.0.0.1:5000/app', '127.0.0.1:5000/app:latest'],
    ['[::1]:5000/app:v1', '[::1]:5000/app:v1'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1@${D}`, `docker.io/library/busybox:1@${D}`],
    ['a__b-c/e---f.g:V1.0_x', 'docker.io/a__b-c/e---f.g:V1.0_x'],
  ];
  for (const [input, want] of cases) assert.equal(formatReference(parseReference(input)), want, input);
});

test('parts and familiar form', () => {
  const r = parseReference('localhost:5000/a/b:tag');
  assert.equal(r.domain, 'localhost:5000');
  assert.equal(r.path, 'a/b');
  assert.equal(r.tag, 'tag');
  assert.equal(repositoryName(r), 'localhost:5000/a/b');
  assert.equal(familiarString(parseReference('busybox')), 'busybox:latest');
  assert.equal(familiarString(parseReference('user/x:1')), 'user/x:1');
  assert.equal(familiarString(r), 'localhost:5000/a/b:tag');
  const d = parseReference(`x@${D}`);
  assert.equal(d.tag, undefined);
  assert.equal(d.digest, D);
});

test('malformed references are invalid errors that say why', () => {
  const bad: [string, RegExp][] = [
    ['', /at least one component/],
    ['Busybox', /must be lowercase/],
    ['docker.io/Library/x', /must be lowercase/],
    ['a:b:c', /invalid/],
    ['x:' + 'a'.repeat(129), /invalid tag/],
    ['x:-tag', /invalid tag/],
    ['x@sha256:abc', /malformed digest/],
    [`x@sha256:${'A'.repeat(64)}`, /hex/],
    ['a'.repeat(64), /64-byte hexadecimal/],
    ['-x', /invalid repository name/],
    ['x/', /invalid repository name/],
    ['a//b', /invalid repository name/],
    ['-bad.host:5000/x', /invalid registry host/],
    [':tag', /at least one component/],
    ['x/' + 'a'.repeat(260), /longer than 255/],
  ];
  for (const [input, re] of bad) {
    assert.throws(
      () => parseReference(input),
      (e: unknown) => {
        assert.ok(e instanceof BerthError, input);
        assert.equal(e.kind, 'invalid', input);
        assert.match(e.message, re, input);
        return true;
      },
    );
  }
});
