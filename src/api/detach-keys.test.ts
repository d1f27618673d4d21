import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetachMatcher, parseDetachKeys } from './detach-keys.js';

test("detach keys: docker's notation", () => {
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [0x10, 0x11]);
  assert.deepEqual(parseDetachKeys('ctrl-@, ctrl-[ ,ctrl-\\,ctrl-],ctrl-^,ctrl-_,a'), [0, 27, 28, 29, 30, 31, 97]);
  assert.throws(() => parseDetachKeys('ctrl-pq'), /Invalid detach keys \(ctrl-pq\) provided/);
  assert.throws(() => parseDetachKeys(''), /Invalid detach keys/);
});

test('detach keys: the sequence detaches, across chunks; a broken one goes on unchanged', () => {
  const m = new DetachMatcher([0x10, 0x11]);
  assert.deepEqual(m.push(Buffer.from('ab\x10')), { forward: Buffer.from('ab'), detached: false });
  assert.deepEqual(m.push(Buffer.from('c')), { forward: Buffer.from('\x10c'), detached: false });
  assert.deepEqual(m.push(Buffer.from('\x10\x10')), { forward: Buffer.from('\x10'), detached: false });
  assert.deepEqual(m.push(Buffer.from('\x11rest')), { forward: Buffer.alloc(0), detached: true });
  assert.deepEqual(new DetachMatcher([0x10, 0x11]).push(Buffer.from('x\x10\x11')), { forward: Buffer.from('x'), detached: true });
});
