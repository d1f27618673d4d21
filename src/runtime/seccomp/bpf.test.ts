// Unit tests of the BPF assembler: encoding, fall-through, and long jumps through `ja`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Assembler, BPF_JMP_JA, decode, encode } from './bpf.js';
import { run } from './bpf-interpreter.test-helper.js';

const ARCH = 0xc000003e;

test('encode writes struct sock_filter little-endian and decode reads it back', () => {
  const insns = [
    { code: 0x15, jt: 3, jf: 250, k: 0xc000003e },
    { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 },
  ];
  const buf = encode(insns);
  assert.equal(buf.length, 16);
  assert.deepEqual([...buf.subarray(0, 8)], [0x15, 0x00, 3, 250, 0x3e, 0x00, 0x00, 0xc0]);
  assert.deepEqual(decode(buf), insns);
});

/** ld nr; one conditional jump; `pad` filler returns; then the targets. */
function far(pad: number, shape: 'both' | 'true-only' | 'false-only'): Buffer {
  const a = new Assembler();
  const t = a.label();
  const f = a.label();
  a.ldAbs(0);
  if (shape === 'both') a.jeq(1, t, f);
  else if (shape === 'true-only') a.jeq(1, t, null);
  else a.jeq(1, null, f);
  a.ret(0xaaaa); // what the `null` branch reaches
  for (let i = 0; i < pad; i++) a.ret(0xdead);
  a.bind(t);
  a.ret(0x1111);
  a.bind(f);
  a.ret(0x2222);
  return encode(a.assemble());
}

test('short jumps need no ja', () => {
  const prog = far(10, 'both');
  assert.equal(decode(prog).filter((i) => i.code === BPF_JMP_JA).length, 0);
  assert.equal(run(prog, { nr: 1, arch: ARCH }).ret, 0x1111);
  assert.equal(run(prog, { nr: 2, arch: ARCH }).ret, 0x2222);
});

for (const shape of ['both', 'true-only', 'false-only'] as const) {
  test(`jumps past 255 instructions go through ja (${shape})`, () => {
    const prog = far(600, shape);
    const jas = decode(prog).filter((i) => i.code === BPF_JMP_JA).length;
    assert.equal(jas, shape === 'both' ? 2 : 1);
    assert.equal(run(prog, { nr: 1, arch: ARCH }).ret, shape === 'false-only' ? 0xaaaa : 0x1111);
    assert.equal(run(prog, { nr: 2, arch: ARCH }).ret, shape === 'true-only' ? 0xaaaa : 0x2222);
  });
}

test('a jump just at the 8-bit limit stays short, one past it goes long', () => {
  // Offset = pad + 1 (the `ret 0xaaaa`) for the true branch.
  assert.equal(decode(far(254, 'true-only')).filter((i) => i.code === BPF_JMP_JA).length, 0);
  assert.equal(decode(far(255, 'true-only')).filter((i) => i.code === BPF_JMP_JA).length, 1);
  assert.equal(run(far(255, 'true-only'), { nr: 1, arch: ARCH }).ret, 0x1111);
  assert.equal(run(far(254, 'true-only'), { nr: 1, arch: ARCH }).ret, 0x1111);
});

test('programs over 4096 instructions are refused', () => {
  const a = new Assembler();
  for (let i = 0; i < 4097; i++) a.ret(0);
  assert.throws(
    () => a.assemble(),
    (e: Error & { kind?: string }) => e.kind === 'invalid' && /4097.*4096/.test(e.message),
  );
  const b = new Assembler();
  for (let i = 0; i < 4096; i++) b.ret(0);
  assert.equal(b.assemble().length, 4096);
});

test('a label never bound or a program not ending in ret is a programming error', () => {
  const a = new Assembler();
  a.ja(a.label());
  a.ret(0);
  assert.throws(() => a.assemble(), /never bound/);
  const b = new Assembler();
  b.ldAbs(0);
  assert.throws(() => b.assemble(), /end with a return/);
});
