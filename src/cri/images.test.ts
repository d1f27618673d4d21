import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialsOf } from './images.js';

test('registry credentials of a CRI AuthConfig', () => {
  assert.equal(credentialsOf(undefined), undefined);
  assert.equal(credentialsOf({ server_address: 'r' }), undefined);
  assert.deepEqual(credentialsOf({ username: 'u', password: 'p' }), { username: 'u', password: 'p' });
  assert.deepEqual(credentialsOf({ auth: Buffer.from('u:p:q').toString('base64') }), { username: 'u', password: 'p:q' });
  assert.deepEqual(credentialsOf({ username: 'u', identity_token: 't' }), { username: 'u', password: '', identityToken: 't' });
  assert.throws(() => credentialsOf({ auth: Buffer.from('nocolon').toString('base64') }), /auth\.auth/);
});
