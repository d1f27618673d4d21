import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialsFor } from '../../common/credentials.js';
import { parseChallenges } from './auth.js';

test('parses WWW-Authenticate challenges', () => {
  assert.deepEqual(
    parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'),
    [{ scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } }],
  );
  assert.deepEqual(parseChallenges('Basic realm="x y"'), [{ scheme: 'basic', params: { realm: 'x y' } }]);
  assert.deepEqual(parseChallenges('Basic realm=plain, Bearer realm="r",error="insufficient_scope"'), [
    { scheme: 'basic', params: { realm: 'plain' } },
    { scheme: 'bearer', params: { realm: 'r', error: 'insufficient_scope' } },
  ]);
  assert.deepEqual(parseChallenges('Bearer realm="a\\"b"'), [{ scheme: 'bearer', params: { realm: 'a"b' } }]);
  assert.deepEqual(parseChallenges(null), []);
});

test('credentials from the Docker config file and from a credential helper', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-auth-'));
  const oldPath = process.env.PATH;
  try {
    const cfg = join(dir, 'config.json');
    assert.equal(await credentialsFor('h:5000', cfg), undefined, 'no file, no credentials');
    await writeFile(
      cfg,
      JSON.stringify({
        auths: {
          'h:5000': { auth: Buffer.from('u:p:with:colons').toString('base64') },
          'https://other.example': { username: 'o', password: 'q' },
        },
      }),
    );
    assert.deepEqual(await credentialsFor('h:5000', cfg), { username: 'u', password: 'p:with:colons' });
    assert.deepEqual(await credentialsFor('other.example', cfg), { username: 'o', password: 'q' });
    assert.equal(await credentialsFor('nothere', cfg), undefined);
    await writeFile(cfg, '{broken');
    await assert.rejects(credentialsFor('h:5000', cfg), { kind: 'invalid', message: /not valid JSON/ });

    const helper = join(dir, 'docker-credential-berthtest');
    await writeFile(
      helper,
      '#!/bin/sh\nread server\nif [ "$server" = "helped.example" ]; then echo \'{"ServerURL":"helped.example","Username":"hu","Secret":"hs"}\'; else echo "credentials not found in native keychain"; exit 1; fi\n',
    );
    await chmod(helper, 0o755);
    process.env.PATH = `${dir}:${oldPath}`;
    await writeFile(
      cfg,
      JSON.stringify({ credsStore: 'berthtest', auths: { 'plain.example': { auth: Buffer.from('a:b').toString('base64') } } }),
    );
    assert.deepEqual(await credentialsFor('helped.example', cfg), { username: 'hu', password: 'hs' });
    assert.deepEqual(await credentialsFor('plain.example', cfg), { username: 'a', password: 'b' }, 'falls back to auths');
    await writeFile(cfg, JSON.stringify({ credHelpers: { 'x.example': 'missing-helper' } }));
    await assert.rejects(credentialsFor('x.example', cfg), { kind: 'invalid', message: /docker-credential-missing-helper/ });
  } finally {
    process.env.PATH = oldPath;
    await rm(dir, { recursive: true, force: true });
  }
});
