import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder, encode, Op, rec } from './protocol.js';

test('records survive encoding and arrive whole however the stream splits them', () => {
  const records = [rec(Op.MsgPid, 42), rec(Op.MsgError, 'mount proc to /proc: permission denied'), rec(Op.MsgReady), rec(Op.Env, 'A=ü')];
  const bytes = encode(records);
  for (const size of [1, 3, 7, bytes.length]) {
    const d = new Decoder();
    const out = [];
    for (let i = 0; i < bytes.length; i += size) out.push(...d.push(bytes.subarray(i, i + size)));
    assert.deepEqual(out, records);
  }
});

test('a field holding a NUL byte is refused', () => {
  assert.throws(() => encode([rec(Op.Arg, 'a\0b')]), /NUL/);
});
