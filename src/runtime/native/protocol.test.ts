import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** native/berth.h of this checkout, found upwards from this module (src/ or dist/src/). */
function berthH(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const p = join(dir, 'native/berth.h');
    if (existsSync(p)) return p;
    if (dirname(dir) === dir) throw new Error('native/berth.h not found');
  }
}

test('Op is the enum of native/berth.h: the same names and numbers, none missing on either side', () => {
  const body = /enum op \{([\s\S]*?)\};/.exec(readFileSync(berthH(), 'utf8'))?.[1];
  assert.ok(body, 'enum op in berth.h');
  const fromC: Record<string, number> = {};
  let next = 0;
  for (const line of body.replace(/\/\*[\s\S]*?\*\//g, '').split(',')) {
    const m = /^\s*([A-Z_]+)\s*(?:=\s*(\d+))?\s*$/.exec(line);
    if (!line.trim()) continue;
    assert.ok(m, `unparsed enum entry: ${JSON.stringify(line)}`);
    const value = m[2] !== undefined ? Number(m[2]) : next;
    next = value + 1;
    // OP_NS_CLONE → NsClone, MSG_PID → MsgPid: the prefix OP_ is dropped, MSG_ kept.
    const name = m[1]
      .replace(/^OP_/, '')
      .toLowerCase()
      .split('_')
      .map((w) => w[0].toUpperCase() + w.slice(1))
      .join('');
    fromC[name] = value;
  }
  const fromTs = Object.fromEntries(Object.entries(Op).filter(([, v]) => typeof v === 'number'));
  assert.deepEqual(fromTs, fromC);
});
