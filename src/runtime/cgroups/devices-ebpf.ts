// Device rules → a BPF_PROG_TYPE_CGROUP_DEVICE program (struct bpf_insn[], little-endian bytes)
// for cgroup v2. Default deny; the last matching rule wins (rules are tested last to first, the
// first hit returns), as runc's device filter does. Pure: attaching is the native helper's job.
import type { LinuxDeviceCgroup } from '../../oci/runtime-spec.js';
import { ACC_ALL, type DeviceRule, matchesEverything, normalizeDeviceRules } from './devices.js';

/** BPF_DEVCG_DEV_* as the kernel encodes the device type in the low 16 bits of access_type. */
export const DEV_BLOCK = 1;
export const DEV_CHAR = 2;

/** Opcodes used (linux/bpf_common.h + linux/bpf.h). */
export const OP = {
  LDX_MEM_W: 0x61, // dst = *(u32 *)(src + off)
  ALU32_AND_K: 0x54, // dst &= imm (32-bit)
  ALU32_RSH_K: 0x74, // dst >>= imm (32-bit)
  ALU32_MOV_X: 0xbc, // dst = src (32-bit)
  ALU64_MOV_K: 0xb7, // dst = imm
  JNE_K: 0x55, // if dst != imm goto +off
  JNE_X: 0x5d, // if dst != src goto +off
  EXIT: 0x95,
} as const;

export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });

/**
 * Registers after the prologue: r2 = device type, r3 = requested access, r4 = major, r5 = minor
 * (struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } in r1).
 */
const PROLOGUE: Insn[] = [
  insn(OP.LDX_MEM_W, 2, 1, 0),
  insn(OP.ALU32_AND_K, 2, 0, 0, 0xffff),
  insn(OP.LDX_MEM_W, 3, 1, 0),
  insn(OP.ALU32_RSH_K, 3, 0, 0, 16),
  insn(OP.LDX_MEM_W, 4, 1, 4),
  insn(OP.LDX_MEM_W, 5, 1, 8),
];

/** The instructions for one rule: each test jumps past the block on a mismatch. */
function ruleBlock(r: DeviceRule): Insn[] {
  const tests: Insn[][] = [];
  if (r.type !== 'a') tests.push([insn(OP.JNE_K, 2, 0, 0, r.type === 'b' ? DEV_BLOCK : DEV_CHAR)]);
  if (r.access !== ACC_ALL) {
    // (requested & allowed) != requested → some requested access is not covered.
    tests.push([insn(OP.ALU32_MOV_X, 1, 3), insn(OP.ALU32_AND_K, 1, 0, 0, r.access), insn(OP.JNE_X, 1, 3, 0)]);
  }
  if (r.major !== -1) tests.push([insn(OP.JNE_K, 4, 0, 0, r.major)]);
  if (r.minor !== -1) tests.push([insn(OP.JNE_K, 5, 0, 0, r.minor)]);
  const block = [...tests.flat(), insn(OP.ALU64_MOV_K, 0, 0, 0, r.allow ? 1 : 0), insn(OP.EXIT)];
  block.forEach((ins, i) => {
    if (ins.code === OP.JNE_K || ins.code === OP.JNE_X) ins.off = block.length - i - 1;
  });
  return block;
}

export function compileDeviceInsns(rules: LinuxDeviceCgroup[]): Insn[] {
  const norm = normalizeDeviceRules(rules);
  const prog = [...PROLOGUE];
  let complete = false;
  for (let i = norm.length - 1; i >= 0; i--) {
    prog.push(...ruleBlock(norm[i]));
    // A rule that matches every request ends the program: nothing before it is ever reached.
    if (matchesEverything(norm[i])) {
      complete = true;
      break;
    }
  }
  if (!complete) prog.push(insn(OP.ALU64_MOV_K, 0, 0, 0, 0), insn(OP.EXIT));
  return prog;
}

export function encodeInsns(prog: Insn[]): Buffer {
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((ins, i) => {
    buf.writeUInt8(ins.code, i * 8);
    buf.writeUInt8(((ins.src & 0xf) << 4) | (ins.dst & 0xf), i * 8 + 1);
    buf.writeInt16LE(ins.off, i * 8 + 2);
    buf.writeInt32LE(ins.imm | 0, i * 8 + 4);
  });
  return buf;
}

/** Rules → the program's bytes (8 per instruction), to load as BPF_PROG_TYPE_CGROUP_DEVICE and attach as BPF_CGROUP_DEVICE. */
export function compileDeviceFilter(rules: LinuxDeviceCgroup[]): Buffer {
  return encodeInsns(compileDeviceInsns(rules));
}
