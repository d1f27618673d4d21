// Test-only: a classic BPF interpreter with the kernel's seccomp checks (opcodes allowed,
// aligned loads inside seccomp_data, forward in-range jumps, ends with a return, at most
// 4096 instructions), to run compiled filters over a seccomp_data in unit tests.

import { decode, type Insn } from './bpf.js';

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  /** Up to six u64 arguments; missing ones are 0. */
  args?: Array<bigint | number>;
}

const ALLOWED = new Set([0x20, 0x54, 0x05, 0x15, 0x25, 0x35, 0x45, 0x06]);

/** Checks a program the way the kernel's bpf_check_classic + seccomp_check_filter would; throws on a fault. */
export function verify(program: Buffer): Insn[] {
  const insns = decode(program);
  if (insns.length === 0 || insns.length > 4096) throw new Error(`bad program length ${insns.length}`);
  insns.forEach((insn, pc) => {
    if (!ALLOWED.has(insn.code)) throw new Error(`opcode 0x${insn.code.toString(16)} at ${pc} not allowed`);
    if (insn.code === 0x20 && (insn.k % 4 !== 0 || insn.k >= 64)) throw new Error(`load of offset ${insn.k} at ${pc}`);
    if (insn.code === 0x05 && pc + insn.k + 1 >= insns.length) throw new Error(`ja at ${pc} out of range`);
    if ((insn.code & 0x07) === 0x05 && insn.code !== 0x05 && (pc + insn.jt + 1 >= insns.length || pc + insn.jf + 1 >= insns.length)) {
      throw new Error(`jump at ${pc} out of range`);
    }
  });
  if (insns[insns.length - 1]!.code !== 0x06) throw new Error('program does not end with ret');
  return insns;
}

function layout(d: SeccompData): Buffer {
  const buf = Buffer.alloc(64);
  buf.writeUInt32LE(d.nr >>> 0, 0);
  buf.writeUInt32LE(d.arch >>> 0, 4);
  buf.writeBigUInt64LE(d.instructionPointer ?? 0n, 8);
  (d.args ?? []).forEach((v, i) => buf.writeBigUInt64LE(BigInt(v), 16 + 8 * i));
  return buf;
}

export interface RunResult {
  ret: number;
  steps: number;
}

/** Runs the program over `data`; returns the 32-bit value it returns and how many instructions ran. */
export function run(program: Buffer, data: SeccompData): RunResult {
  const insns = verify(program);
  const mem = layout(data);
  let a = 0;
  let pc = 0;
  let steps = 0;
  for (;;) {
    const insn = insns[pc];
    if (!insn) throw new Error(`pc ${pc} out of program`);
    steps++;
    pc++;
    switch (insn.code) {
      case 0x20:
        a = mem.readUInt32LE(insn.k);
        break;
      case 0x54:
        a = (a & insn.k) >>> 0;
        break;
      case 0x05:
        pc += insn.k;
        break;
      case 0x15:
        pc += a === insn.k ? insn.jt : insn.jf;
        break;
      case 0x25:
        pc += a > insn.k ? insn.jt : insn.jf;
        break;
      case 0x35:
        pc += a >= insn.k ? insn.jt : insn.jf;
        break;
      case 0x45:
        pc += (a & insn.k) !== 0 ? insn.jt : insn.jf;
        break;
      case 0x06:
        return { ret: insn.k >>> 0, steps };
      default:
        throw new Error(`opcode 0x${insn.code.toString(16)}`);
    }
  }
}
