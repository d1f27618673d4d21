// Classic BPF for seccomp: the instruction opcodes, their 8-byte `struct sock_filter` encoding,
// and an assembler with forward labels that turns jumps too far for 8-bit jt/jf into long `ja`s.
// It knows nothing of syscalls or profiles; compile.ts says what to emit.

import { invalid } from '../../errors.js';

export const BPF_LD_W_ABS = 0x20; // A = *(u32 *)(seccomp_data + k)
export const BPF_ALU_AND_K = 0x54; // A &= k
export const BPF_JMP_JA = 0x05; // pc += k
export const BPF_JMP_JEQ_K = 0x15; // pc += (A == k) ? jt : jf
export const BPF_JMP_JGT_K = 0x25; // pc += (A > k) ? jt : jf (unsigned)
export const BPF_JMP_JGE_K = 0x35; // pc += (A >= k) ? jt : jf (unsigned)
export const BPF_JMP_JSET_K = 0x45; // pc += (A & k) ? jt : jf
export const BPF_RET_K = 0x06; // return k

/** BPF_MAXINSNS: the kernel refuses longer programs. */
export const BPF_MAXINSNS = 4096;
/** Size of one `struct sock_filter` in bytes. */
export const BPF_INSN_SIZE = 8;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Encodes instructions as the bytes of a `struct sock_filter[]` in little-endian order. */
export function encode(insns: readonly Insn[]): Buffer {
  const buf = Buffer.alloc(insns.length * BPF_INSN_SIZE);
  insns.forEach((insn, i) => {
    const o = i * BPF_INSN_SIZE;
    buf.writeUInt16LE(insn.code, o);
    buf.writeUInt8(insn.jt, o + 2);
    buf.writeUInt8(insn.jf, o + 3);
    buf.writeUInt32LE(insn.k >>> 0, o + 4);
  });
  return buf;
}

/** Decodes the bytes of a `struct sock_filter[]` (the inverse of `encode`). */
export function decode(buf: Buffer): Insn[] {
  if (buf.length % BPF_INSN_SIZE !== 0) throw new Error(`BPF program of ${buf.length} bytes is not a whole number of instructions`);
  const out: Insn[] = [];
  for (let o = 0; o < buf.length; o += BPF_INSN_SIZE) {
    out.push({ code: buf.readUInt16LE(o), jt: buf.readUInt8(o + 2), jf: buf.readUInt8(o + 3), k: buf.readUInt32LE(o + 4) });
  }
  return out;
}

/** A position in the program, bound once, only ever jumped to forwards. */
export class Label {
  pos = -1;
}

/** Where a conditional branch goes: a label, or `null` for the next instruction. */
export type Target = Label | null;

type Item =
  | { kind: 'op'; code: number; k: number }
  | { kind: 'cond'; code: number; k: number; jt: Target; jf: Target; longT: boolean; longF: boolean }
  | { kind: 'ja'; target: Label }
  | { kind: 'bind'; label: Label };

const size = (it: Item): number => (it.kind === 'bind' ? 0 : it.kind === 'cond' ? 1 + (it.longT ? 1 : 0) + (it.longF ? 1 : 0) : 1);

/**
 * Builds a program in order. Conditional jumps name labels; `assemble` lays them out and,
 * where a target is more than 255 instructions ahead, routes that branch through a `ja`
 * placed right after the jump (32-bit offset), repeating until every offset fits.
 */
export class Assembler {
  private items: Item[] = [];

  label(): Label {
    return new Label();
  }
  bind(label: Label): void {
    this.items.push({ kind: 'bind', label });
  }

  ldAbs(offset: number): void {
    this.items.push({ kind: 'op', code: BPF_LD_W_ABS, k: offset });
  }
  and(k: number): void {
    this.items.push({ kind: 'op', code: BPF_ALU_AND_K, k });
  }
  ret(k: number): void {
    this.items.push({ kind: 'op', code: BPF_RET_K, k });
  }
  ja(target: Label): void {
    this.items.push({ kind: 'ja', target });
  }
  jeq(k: number, jt: Target, jf: Target): void {
    this.cond(BPF_JMP_JEQ_K, k, jt, jf);
  }
  jgt(k: number, jt: Target, jf: Target): void {
    this.cond(BPF_JMP_JGT_K, k, jt, jf);
  }
  jge(k: number, jt: Target, jf: Target): void {
    this.cond(BPF_JMP_JGE_K, k, jt, jf);
  }

  private cond(code: number, k: number, jt: Target, jf: Target): void {
    this.items.push({ kind: 'cond', code, k, jt, jf, longT: false, longF: false });
  }

  /** Lays out the program; throws if it exceeds BPF_MAXINSNS or a label is unbound or behind its jump. */
  assemble(): Insn[] {
    for (;;) {
      // Lay out with the trampolines decided so far, then add those now needed; repeat.
      const at: number[] = [];
      let pos = 0;
      for (const it of this.items) {
        at.push(pos);
        if (it.kind === 'bind') it.label.pos = pos;
        pos += size(it);
      }
      let grown = false;
      this.items.forEach((it, i) => {
        if (it.kind !== 'cond') return;
        const next = at[i]! + size(it);
        const t = !it.longT && this.offset(at[i]!, it.jt, next) > 255;
        const f = !it.longF && this.offset(at[i]!, it.jf, next) > 255;
        if (t) it.longT = true;
        if (f) it.longF = true;
        grown ||= t || f;
      });
      if (!grown) break;
    }
    const out: Insn[] = [];
    for (const it of this.items) {
      const pos = out.length;
      if (it.kind === 'op') out.push({ code: it.code, jt: 0, jf: 0, k: it.k >>> 0 });
      else if (it.kind === 'ja') out.push({ code: BPF_JMP_JA, jt: 0, jf: 0, k: this.offset(pos, it.target, pos + 1) });
      else if (it.kind === 'cond') {
        const next = pos + size(it); // where a `null` branch goes: past this jump's trampolines
        const jt = it.longT ? 0 : this.offset(pos, it.jt, next);
        const jf = it.longF ? (it.longT ? 1 : 0) : this.offset(pos, it.jf, next);
        out.push({ code: it.code, jt, jf, k: it.k >>> 0 });
        if (it.longT) out.push({ code: BPF_JMP_JA, jt: 0, jf: 0, k: this.offset(out.length, it.jt, next) });
        if (it.longF) out.push({ code: BPF_JMP_JA, jt: 0, jf: 0, k: this.offset(out.length, it.jf, next) });
      }
    }
    if (out.length > BPF_MAXINSNS) {
      throw invalid(
        `seccomp: the profile compiles to ${out.length} BPF instructions, more than the kernel's limit of ${BPF_MAXINSNS}; use fewer rules or argument conditions`,
      );
    }
    if (out.length === 0 || out[out.length - 1]!.code !== BPF_RET_K) throw new Error('BPF program must end with a return');
    out.forEach((insn, pc) => {
      const far = insn.code === BPF_JMP_JA ? insn.k : (insn.code & 0x07) === 0x05 ? Math.max(insn.jt, insn.jf) : -1;
      if (pc + far + 1 >= out.length) throw new Error(`BPF jump at ${pc} lands past the end of the program`);
    });
    return out;
  }

  /** Jump offset from the instruction at `pos` to `target` (instructions skipped); `next` stands for `null`. */
  private offset(pos: number, target: Target, next: number): number {
    if (target !== null && target.pos < 0) throw new Error('BPF label jumped to but never bound');
    const off = (target === null ? next : target.pos) - pos - 1;
    if (off < 0) throw new Error('BPF jumps only forwards');
    return off;
  }
}
