import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AmbiguousNetwork, cniName } from './store.js';

test("a network's CNI name: its own where CNI takes it, else its ID", () => {
  const Id = 'f'.repeat(64);
  assert.equal(cniName({ Name: 'web_net-1.x', Id }), 'web_net-1.x');
  assert.equal(cniName({ Name: 'my net', Id }), Id);
  assert.equal(cniName({ Name: 'a/b', Id }), Id);
  assert.equal(cniName({ Name: '-x', Id }), Id);
  assert.equal(cniName({ Name: 'n'.repeat(256), Id }), Id);
});

test("an ambiguous prefix is the caller's 400 in dockerd's words", () => {
  const e = new AmbiguousNetwork('2', 3);
  assert.equal(e.kind, 'invalid');
  assert.equal(e.message, 'network 2 is ambiguous (3 matches found based on ID prefix)');
});
