// Argument conditions of a seccomp rule (`args` of the OCI spec): validation into 64-bit
// values, and the BPF that tests one condition on seccomp_data.args[i] as two 32-bit words
// (or the low word only, on ABIs where libseccomp compares 32 bits).

import { invalid } from '../../errors.js';
import type { Assembler, Label } from './bpf.js';

export type Operator = 'NE' | 'LT' | 'LE' | 'EQ' | 'GE' | 'GT' | 'MASKED_EQ';

export interface Condition {
  index: number;
  op: Operator;
  /** The datum compared with; for MASKED_EQ the datum (`valueTwo`). */
  datum: bigint;
  /** For MASKED_EQ the mask (`value`); otherwise all ones. */
  mask: bigint;
}

const OPS: Record<string, Operator> = {
  SCMP_CMP_NE: 'NE',
  SCMP_CMP_LT: 'LT',
  SCMP_CMP_LE: 'LE',
  SCMP_CMP_EQ: 'EQ',
  SCMP_CMP_GE: 'GE',
  SCMP_CMP_GT: 'GT',
  SCMP_CMP_MASKED_EQ: 'MASKED_EQ',
};

const U64_MAX = (1n << 64n) - 1n;

/**
 * A u64 from a JSON number (or a bigint, for callers that parse JSON losslessly). Numbers past
 * 2^53 are taken at the value of the double JSON.parse made of them, and 2^64 — what
 * 18446744073709551615 (all ones) parses to — is read as 2^64-1.
 */
export function toU64(v: unknown, what: string): bigint {
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v);
  else throw invalid(`seccomp: ${what} ${JSON.stringify(v)} is not an unsigned integer`);
  if (n === 1n << 64n) n = U64_MAX;
  if (n < 0n || n > U64_MAX) throw invalid(`seccomp: ${what} ${String(v)} is out of the range of a 64-bit unsigned value`);
  return n;
}

/** Validates one OCI `LinuxSeccompArg`. */
export function parseCondition(arg: unknown, what: string): Condition {
  if (typeof arg !== 'object' || arg === null) throw invalid(`seccomp: ${what}: an argument condition must be an object`);
  const { index, value, valueTwo, op } = arg as Record<string, unknown>;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) {
    throw invalid(`seccomp: ${what}: argument index ${JSON.stringify(index)} must be 0 to 5`);
  }
  const o = typeof op === 'string' ? OPS[op] : undefined;
  if (!o) throw invalid(`seccomp: ${what}: unknown operator ${JSON.stringify(op)} (known: ${Object.keys(OPS).join(', ')})`);
  const val = toU64(value ?? 0, `${what}: argument value`);
  if (o === 'MASKED_EQ') {
    return { index, op: o, mask: val, datum: toU64(valueTwo ?? 0, `${what}: argument valueTwo`) };
  }
  return { index, op: o, mask: U64_MAX, datum: val };
}

const lo = (v: bigint): number => Number(v & 0xffffffffn);
const hi = (v: bigint): number => Number(v >> 32n);
// Offsets in struct seccomp_data: nr 0, arch 4, instruction_pointer 8, args[6] from 16;
// each u64 in host (little-endian) order, so the low word comes first.
const argLo = (i: number): number => 16 + 8 * i;
const argHi = (i: number): number => 16 + 8 * i + 4;

/**
 * Emits code that goes to `pass` if the condition holds and to `fail` if not. With `bits`
 * 32 only the low words are compared (libseccomp's rule on 32-bit ABIs: a datum's high
 * word is ignored there). Clobbers the accumulator.
 */
export function emitCondition(a: Assembler, c: Condition, bits: 32 | 64, pass: Label, fail: Label): void {
  const i = c.index;
  if (bits === 32) {
    a.ldAbs(argLo(i));
    if (c.op === 'MASKED_EQ') a.and(lo(c.mask));
    lowWord(a, c.op, lo(c.datum), pass, fail);
    return;
  }
  const dh = hi(c.datum);
  const dl = lo(c.datum);
  switch (c.op) {
    case 'EQ':
    case 'NE': {
      const [t, f] = c.op === 'EQ' ? [pass, fail] : [fail, pass];
      a.ldAbs(argHi(i));
      a.jeq(dh, null, f);
      a.ldAbs(argLo(i));
      a.jeq(dl, t, f);
      return;
    }
    case 'GT':
    case 'GE':
    case 'LT':
    case 'LE': {
      // arg > d  ⇔  hi > dh, or hi == dh and lo > dl (lo >= dl for GE); LT and LE are the negations of GE and GT.
      const strict = c.op === 'GT' || c.op === 'LE';
      const [t, f] = c.op === 'GT' || c.op === 'GE' ? [pass, fail] : [fail, pass];
      a.ldAbs(argHi(i));
      a.jgt(dh, t, null);
      a.jeq(dh, null, f);
      a.ldAbs(argLo(i));
      if (strict) a.jgt(dl, t, f);
      else a.jge(dl, t, f);
      return;
    }
    case 'MASKED_EQ': {
      const mh = hi(c.mask);
      if (mh === 0 && dh !== 0) {
        a.ja(fail);
        return;
      } // (arg & mask) has no high bits to equal the datum's
      if (mh !== 0) {
        a.ldAbs(argHi(i));
        if (mh !== 0xffffffff) a.and(mh);
        a.jeq(dh, null, fail);
      }
      a.ldAbs(argLo(i));
      if (lo(c.mask) !== 0xffffffff) a.and(lo(c.mask));
      a.jeq(dl, pass, fail);
      return;
    }
  }
}

function lowWord(a: Assembler, op: Operator, d: number, pass: Label, fail: Label): void {
  switch (op) {
    case 'EQ':
    case 'MASKED_EQ':
      a.jeq(d, pass, fail);
      return;
    case 'NE':
      a.jeq(d, fail, pass);
      return;
    case 'GT':
      a.jgt(d, pass, fail);
      return;
    case 'GE':
      a.jge(d, pass, fail);
      return;
    case 'LT':
      a.jge(d, fail, pass);
      return;
    case 'LE':
      a.jgt(d, fail, pass);
      return;
  }
}
