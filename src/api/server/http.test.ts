import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { base64JSONHeader } from './http.js';
import type { Context } from './router.js';

const ctx = (headers: Record<string, string>) => ({ req: { headers } as unknown as IncomingMessage }) as Context;

test('base64JSONHeader: base64 and base64url of JSON, absent as undefined, anything else a 400 naming the header', () => {
  const doc = { 'localhost:5000': { username: 'u', password: 'p?>' } };
  const std = Buffer.from(JSON.stringify(doc)).toString('base64');
  const url = Buffer.from(JSON.stringify(doc)).toString('base64url');
  assert.notEqual(std, url);
  assert.deepEqual(base64JSONHeader(ctx({ 'x-registry-config': std }), 'X-Registry-Config', 'x'), doc);
  assert.deepEqual(base64JSONHeader(ctx({ 'x-registry-config': url }), 'X-Registry-Config', 'x'), doc);
  assert.equal(base64JSONHeader(ctx({}), 'X-Registry-Config', 'x'), undefined);
  assert.throws(
    () =>
      base64JSONHeader(
        ctx({ 'x-registry-auth': Buffer.from('{nope').toString('base64') }),
        'X-Registry-Auth',
        'base64 of a JSON AuthConfig',
      ),
    (e: Error & { kind?: string }) => e.kind === 'invalid' && e.message === 'X-Registry-Auth: not base64 of a JSON AuthConfig',
  );
});
