// Seccomp architectures: SCMP_ARCH_* names, the AUDIT_ARCH_* value the kernel puts in
// seccomp_data.arch, the word size libseccomp compares arguments at, and the syscall table
// berth has for each (generated from uapi headers; an arch without a table cannot be filtered).

import { invalid } from '../../errors.js';
import { SYSCALLS_AARCH64 } from './syscalls-aarch64.js';
import { SYSCALLS_X32 } from './syscalls-x32.js';
import { SYSCALLS_X86 } from './syscalls-x86.js';
import { SYSCALLS_X86_64 } from './syscalls-x86_64.js';

export interface SeccompArch {
  /** The OCI / libseccomp name, e.g. `SCMP_ARCH_X86_64`. */
  readonly name: string;
  /** AUDIT_ARCH_* of <linux/audit.h>: what seccomp_data.arch holds for this ABI. */
  readonly audit: number;
  /** 32 when libseccomp compares only the low word of arguments on this ABI. */
  readonly bits: 32 | 64;
  /** Name → seccomp_data.nr; undefined where berth has no table for the arch. */
  readonly syscalls?: ReadonlyMap<string, number>;
}

/** x32 syscalls share AUDIT_ARCH_X86_64 and are told apart by this bit in seccomp_data.nr. */
export const X32_SYSCALL_BIT = 0x40000000;

const LE = 0x40000000;
const B64 = 0x80000000;
const N32 = 0x20000000; // __AUDIT_ARCH_CONVENTION_MIPS64_N32

// Values checked against <linux/audit.h> (Linux 6.1): EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
const ARCHES: readonly SeccompArch[] = [
  { name: 'SCMP_ARCH_X86_64', audit: (62 | B64 | LE) >>> 0, bits: 64, syscalls: SYSCALLS_X86_64 },
  { name: 'SCMP_ARCH_X86', audit: (3 | LE) >>> 0, bits: 32, syscalls: SYSCALLS_X86 },
  { name: 'SCMP_ARCH_X32', audit: (62 | B64 | LE) >>> 0, bits: 32, syscalls: SYSCALLS_X32 },
  { name: 'SCMP_ARCH_AARCH64', audit: (183 | B64 | LE) >>> 0, bits: 64, syscalls: SYSCALLS_AARCH64 },
  // Known to the OCI spec and libseccomp, but no syscall table for them exists on the build
  // machine (no uapi header), so berth cannot filter them (see `compileSeccomp`).
  { name: 'SCMP_ARCH_ARM', audit: (40 | LE) >>> 0, bits: 32 },
  { name: 'SCMP_ARCH_MIPS', audit: 8, bits: 32 },
  { name: 'SCMP_ARCH_MIPSEL', audit: (8 | LE) >>> 0, bits: 32 },
  { name: 'SCMP_ARCH_MIPS64', audit: (8 | B64) >>> 0, bits: 64 },
  { name: 'SCMP_ARCH_MIPSEL64', audit: (8 | B64 | LE) >>> 0, bits: 64 },
  { name: 'SCMP_ARCH_MIPS64N32', audit: (8 | B64 | N32) >>> 0, bits: 32 },
  { name: 'SCMP_ARCH_MIPSEL64N32', audit: (8 | B64 | LE | N32) >>> 0, bits: 32 },
  { name: 'SCMP_ARCH_PPC', audit: 20, bits: 32 },
  { name: 'SCMP_ARCH_PPC64', audit: (21 | B64) >>> 0, bits: 64 },
  { name: 'SCMP_ARCH_PPC64LE', audit: (21 | B64 | LE) >>> 0, bits: 64 },
  { name: 'SCMP_ARCH_S390', audit: 22, bits: 32 },
  { name: 'SCMP_ARCH_S390X', audit: (22 | B64) >>> 0, bits: 64 },
  { name: 'SCMP_ARCH_PARISC', audit: 15, bits: 32 },
  { name: 'SCMP_ARCH_PARISC64', audit: (15 | B64) >>> 0, bits: 64 },
  { name: 'SCMP_ARCH_RISCV64', audit: (243 | B64 | LE) >>> 0, bits: 64 },
  { name: 'SCMP_ARCH_LOONGARCH64', audit: (258 | B64 | LE) >>> 0, bits: 64 },
  { name: 'SCMP_ARCH_M68K', audit: 4, bits: 32 },
  { name: 'SCMP_ARCH_SH', audit: (42 | LE) >>> 0, bits: 32 },
  { name: 'SCMP_ARCH_SHEB', audit: 42, bits: 32 },
];

const byName = new Map(ARCHES.map((a) => [a.name, a]));

// Node's process.arch → SCMP_ARCH_* of the ABI node itself runs as.
const fromNode: Record<string, string> = {
  x64: 'SCMP_ARCH_X86_64',
  ia32: 'SCMP_ARCH_X86',
  arm64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM',
  riscv64: 'SCMP_ARCH_RISCV64',
  loong64: 'SCMP_ARCH_LOONGARCH64',
  s390x: 'SCMP_ARCH_S390X',
  ppc64: 'SCMP_ARCH_PPC64LE',
  mips: 'SCMP_ARCH_MIPS',
  mipsel: 'SCMP_ARCH_MIPSEL',
};

/** The architecture named by an SCMP_ARCH_* name or a Node `process.arch` value; invalid error if unknown. */
export function seccompArch(name: string): SeccompArch {
  const arch = byName.get(name) ?? byName.get(fromNode[name] ?? '');
  if (!arch) {
    throw invalid(`seccomp: unknown architecture ${JSON.stringify(name)} (known: ${ARCHES.map((a) => a.name).join(', ')})`);
  }
  return arch;
}

/** AUDIT_ARCH_* value (as in seccomp_data.arch) of an SCMP_ARCH_* name; invalid error if unknown. */
export function auditArch(name: string): number {
  return seccompArch(name).audit;
}

/** The architecture of the running Node process. */
export function nativeArchName(): string {
  return fromNode[process.arch] ?? process.arch;
}
