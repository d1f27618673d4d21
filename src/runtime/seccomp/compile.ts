// The seccomp compiler: OCI `linux.seccomp` → the bytes of a classic BPF `struct sock_filter[]`
// and the SECCOMP_FILTER_FLAG_* bits, for the C helper to load with seccomp(2) before execve.
// Pure: no libseccomp, no syscalls; the kernel sees the result only through native/.

import { invalid, unsupported } from '../../errors.js';
import type { LinuxSeccomp } from '../../oci/runtime-spec.js';
import { actionValue, SECCOMP_RET_KILL_THREAD } from './actions.js';
import { nativeArchName, seccompArch, X32_SYSCALL_BIT, type SeccompArch } from './arch.js';
import { Assembler, encode } from './bpf.js';
import { emitCondition, parseCondition, type Condition } from './conditions.js';

export { auditArch } from './arch.js';

export interface CompiledSeccomp {
  /** `struct sock_filter[]`, 8 bytes an instruction, little-endian; at most 4096 instructions. */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog). */
  flags: number;
}

const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  // Accepted, but never passed on: it only has meaning with SECCOMP_FILTER_FLAG_NEW_LISTENER
  // (SCMP_ACT_NOTIFY, which berth refuses), and the kernel fails the load with EINVAL without it.
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 0,
};

/** What a syscall does when its rule matches; `conds` all hold (AND), none = always. */
interface Rule {
  ret: number;
  conds: Condition[];
}

/** What libseccomp does with a syscall from an ABI not in the filter: kill the thread. */
const BAD_ARCH = SECCOMP_RET_KILL_THREAD;
const NR = 0; // offsetof(struct seccomp_data, nr)
const ARCH = 4; // offsetof(struct seccomp_data, arch)

// The last profiles compiled, by their JSON: berthd gives every container the same default
// profile, and compiling it took its thread ~1-3 ms a start.
const recent = new Map<string, CompiledSeccomp>();
const RECENT = 8;

/** compileSeccomp for the native arch, the result shared with earlier calls of the same profile (never to be changed). */
export function compileSeccompCached(spec: LinuxSeccomp): CompiledSeccomp {
  const key = JSON.stringify(spec);
  let c = recent.get(key);
  if (c) {
    recent.delete(key); // most recent last
  } else {
    c = compileSeccomp(spec);
    if (recent.size >= RECENT) recent.delete(recent.keys().next().value!);
  }
  recent.set(key, c);
  return c;
}

/**
 * Compiles an OCI seccomp profile.
 *
 * - Architectures: `nativeArch` (an SCMP_ARCH_* name or a `process.arch` value; default the
 *   running one) is always filtered, then those listed. A syscall whose seccomp_data.arch is
 *   none of them, or an x32 syscall (nr with bit 30) when SCMP_ARCH_X32 is not listed, is
 *   killed. A listed arch berth has no syscall table for (SCMP_ARCH_ARM and the rest but
 *   X86_64, X86, X32, AARCH64) is left out of the filter, so its syscalls are killed too;
 *   as the native arch it is an `unsupported` error.
 * - Names a table lacks are skipped for that arch, as runc and libseccomp do.
 * - Rules for one syscall are tried in the order given and the first whose conditions all
 *   hold decides (libseccomp instead merges rules into a tree; results differ only for
 *   overlapping rules). Conditions repeating an index are ANDed like the others.
 * - Argument values are compared as u64 on 64-bit ABIs and by the low 32 bits on X86, X32
 *   and ARM, as libseccomp does.
 */
export function compileSeccomp(spec: LinuxSeccomp, nativeArch: string = nativeArchName()): CompiledSeccomp {
  if (typeof spec !== 'object' || spec === null) throw invalid('seccomp: the profile must be an object');
  const defaultRet = actionValue(spec.defaultAction, spec.defaultErrnoRet, 'defaultAction');
  const flags = parseFlags(spec.flags);
  const arches = resolveArches(nativeArch, spec.architectures);
  const rules = parseRules(spec.syscalls);

  const a = new Assembler();
  // Group the ABIs by seccomp_data.arch value (x86_64 and x32 share one).
  const groups = new Map<number, SeccompArch[]>();
  for (const arch of arches) groups.set(arch.audit, [...(groups.get(arch.audit) ?? []), arch]);
  const entries = [...groups].map(([audit, list]) => ({ audit, list, label: a.label() }));

  a.ldAbs(ARCH);
  for (const g of entries) a.jeq(g.audit, g.label, null);
  a.ret(BAD_ARCH);
  for (const g of entries) {
    a.bind(g.label);
    a.ldAbs(NR);
    emitArchGroup(a, g.list, rules, defaultRet);
  }
  return { program: encode(a.assemble()), flags };
}

function parseFlags(flags: unknown): number {
  if (flags === undefined || flags === null) return 0;
  if (!Array.isArray(flags)) throw invalid('seccomp: flags must be a list of SECCOMP_FILTER_FLAG_* names');
  let bits = 0;
  for (const f of flags) {
    const bit = typeof f === 'string' && Object.hasOwn(FLAGS, f) ? FLAGS[f]! : undefined;
    if (bit === undefined) throw invalid(`seccomp: unknown flag ${JSON.stringify(f)} (known: ${Object.keys(FLAGS).join(', ')})`);
    bits |= bit;
  }
  return bits;
}

function resolveArches(nativeArch: string, listed: unknown): SeccompArch[] {
  if (listed !== undefined && listed !== null && !Array.isArray(listed)) {
    throw invalid('seccomp: architectures must be a list of SCMP_ARCH_* names');
  }
  const native = seccompArch(nativeArch);
  if (!native.syscalls) throw unsupported(`seccomp: berth has no syscall table for the native architecture ${native.name}`);
  const out = [native];
  for (const name of (listed ?? []) as unknown[]) {
    if (typeof name !== 'string') throw invalid(`seccomp: architecture ${JSON.stringify(name)} is not a name`);
    const arch = seccompArch(name);
    if (arch.syscalls && !out.includes(arch)) out.push(arch);
  }
  return out;
}

interface ParsedSyscall {
  names: string[];
  rule: Rule;
}

function parseRules(syscalls: unknown): ParsedSyscall[] {
  if (syscalls === undefined || syscalls === null) return [];
  if (!Array.isArray(syscalls)) throw invalid('seccomp: syscalls must be a list');
  return syscalls.map((s: unknown, i): ParsedSyscall => {
    if (typeof s !== 'object' || s === null) throw invalid(`seccomp: syscalls[${i}] must be an object`);
    const { names, action, errnoRet, args } = s as Record<string, unknown>;
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && n !== '')) {
      throw invalid(`seccomp: syscalls[${i}]: names must list at least one syscall name`);
    }
    const what = `syscalls[${i}] (${names.join(', ')})`;
    const ret = actionValue(action, errnoRet, what);
    if (args !== undefined && args !== null && !Array.isArray(args)) throw invalid(`seccomp: ${what}: args must be a list`);
    const conds = ((args ?? []) as unknown[]).map((arg) => parseCondition(arg, what));
    return { names: names as string[], rule: { ret, conds } };
  });
}

/** Rules by syscall number for one ABI, in profile order, reduced to those that can change the outcome. */
function rulesFor(arch: SeccompArch, parsed: ParsedSyscall[], defaultRet: number): Map<number, Rule[]> {
  const table = arch.syscalls!;
  const byNr = new Map<number, Rule[]>();
  for (const { names, rule } of parsed) {
    for (const name of new Set(names)) {
      const nr = table.get(name);
      if (nr === undefined) continue; // not a syscall of this ABI
      const list = byNr.get(nr) ?? [];
      // A rule after one without conditions is never reached.
      if (!list.some((r) => r.conds.length === 0)) list.push(rule);
      byNr.set(nr, list);
    }
  }
  for (const [nr, list] of byNr) {
    // Rules at the end that decide what the default would anyway are dropped.
    while (list.length > 0 && list[list.length - 1]!.ret === defaultRet) list.pop();
    if (list.length === 0) byNr.delete(nr);
  }
  return byNr;
}

/** Code for the ABIs sharing one seccomp_data.arch value; the accumulator holds nr. */
function emitArchGroup(a: Assembler, list: SeccompArch[], parsed: ParsedSyscall[], defaultRet: number): void {
  const x32 = list.find((x) => x.name === 'SCMP_ARCH_X32');
  const main = list.find((x) => x !== x32);
  if (!x32) {
    if (main!.name === 'SCMP_ARCH_X86_64') {
      // x32 without SCMP_ARCH_X32 in the filter is a bad arch — except nr -1, which the kernel
      // re-checks after a tracer chose to skip a syscall and which must not be killed.
      const native = a.label();
      const bad = a.label();
      a.jge(X32_SYSCALL_BIT, null, native);
      a.jeq(0xffffffff, null, bad);
      a.ret(defaultRet);
      a.bind(bad);
      a.ret(BAD_ARCH);
      a.bind(native);
    }
    emitDispatch(a, main!, rulesFor(main!, parsed, defaultRet), defaultRet);
    return;
  }
  const x32Code = a.label();
  a.jge(X32_SYSCALL_BIT, x32Code, null);
  if (main) emitDispatch(a, main, rulesFor(main, parsed, defaultRet), defaultRet);
  else a.ret(BAD_ARCH); // x86_64 syscalls when only x32 is filtered
  a.bind(x32Code);
  emitDispatch(a, x32, rulesFor(x32, parsed, defaultRet), defaultRet);
}

/** What one run of consecutive syscall numbers gets: a plain return, or rules to test. */
type Outcome = { ret: number } | { rules: Rule[] };

/**
 * A binary search over syscall numbers (accumulator = nr). The u32 number space is cut into
 * intervals of one outcome each — neighbouring numbers with the same plain action merge, so
 * an allow list of hundreds of syscalls is a few dozen intervals — and every path ends in a
 * return.
 */
function emitDispatch(a: Assembler, arch: SeccompArch, byNr: Map<number, Rule[]>, defaultRet: number): void {
  const starts: number[] = [];
  const outcomes: Outcome[] = [];
  const push = (start: number, o: Outcome): void => {
    if (starts[starts.length - 1] === start) {
      starts.pop();
      outcomes.pop();
    } // the interval before was empty
    const last = outcomes[outcomes.length - 1];
    if (last && 'ret' in last && 'ret' in o && last.ret === o.ret) return; // extends the interval before
    starts.push(start);
    outcomes.push(o);
  };
  push(0, { ret: defaultRet });
  for (const nr of [...byNr.keys()].sort((x, y) => x - y)) {
    const rules = byNr.get(nr)!;
    push(nr, rules.length === 1 && rules[0]!.conds.length === 0 ? { ret: rules[0]!.ret } : { rules });
    push(nr + 1, { ret: defaultRet });
  }
  const tree = (from: number, to: number): void => {
    if (to - from === 1) {
      const o = outcomes[from]!;
      if ('ret' in o) a.ret(o.ret);
      else emitRules(a, arch, o.rules, defaultRet);
      return;
    }
    const mid = (from + to) >>> 1;
    const upper = a.label();
    a.jge(starts[mid]!, upper, null);
    tree(from, mid);
    a.bind(upper);
    tree(mid, to);
  };
  tree(0, outcomes.length);
}

/** Rules of one syscall, tried in order; falls to the default action when none matches. */
function emitRules(a: Assembler, arch: SeccompArch, rules: Rule[], defaultRet: number): void {
  for (const rule of rules) {
    const next = a.label();
    for (const c of rule.conds) {
      const pass = a.label();
      emitCondition(a, c, arch.bits, pass, next);
      a.bind(pass);
    }
    a.ret(rule.ret);
    a.bind(next);
  }
  a.ret(defaultRet);
}
