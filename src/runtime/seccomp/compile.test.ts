// Unit tests of the seccomp compiler: compiled filters run in a BPF interpreter over
// seccomp_data, checked against the action each case must get.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LinuxSeccomp, LinuxSeccompArg, LinuxSyscall } from '../../oci/runtime-spec.js';
import { BerthError } from '../../errors.js';
import { compileSeccomp, auditArch } from './compile.js';
import { decode, BPF_JMP_JA } from './bpf.js';
import { run } from './bpf-interpreter.test-helper.js';
import { SYSCALLS_X86_64 } from './syscalls-x86_64.js';

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const AARCH64 = 0xc00000b7;
const ARM = 0x40000028;
const X32_BIT = 0x40000000;

const ALLOW = 0x7fff0000;
const ERRNO = (e: number) => (0x00050000 | e) >>> 0;
const KILL_THREAD = 0;
const KILL_PROCESS = 0x80000000;
const TRAP = 0x00030000;
const TRACE = (d: number) => (0x7ff00000 | d) >>> 0;
const LOG = 0x7ffc0000;

// x86_64, i386, aarch64 and x32 numbers from the kernel's uapi headers.
const NR = {
  read: 0,
  write: 1,
  getpid: 39,
  clone: 56,
  mkdir: 83,
  personality: 135,
  mkdirat: 258,
  i386: { mkdir: 39, mkdirat: 296 },
  aarch64: { mkdirat: 34 },
};

const ret = (spec: LinuxSeccomp, nr: number, arch = X86_64, args: Array<bigint | number> = [], native = 'SCMP_ARCH_X86_64') =>
  run(compileSeccomp(spec, native).program, { nr, arch, args }).ret;

const err = (kind: string, pattern: RegExp) => (e: unknown) => e instanceof BerthError && e.kind === kind && pattern.test(e.message);

test('default allow with one errno rule', () => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
  };
  assert.equal(ret(spec, NR.mkdir), ERRNO(38));
  assert.equal(ret(spec, NR.mkdirat), ERRNO(38));
  assert.equal(ret(spec, NR.read), ALLOW);
  assert.equal(ret(spec, NR.getpid), ALLOW);
  assert.equal(ret(spec, 100000), ALLOW);
});

test('default errno with an allow list; errnoRet defaults to EPERM, defaultErrnoRet sets the default', () => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' }],
  };
  assert.equal(ret(spec, NR.read), ALLOW);
  assert.equal(ret(spec, NR.write), ALLOW);
  assert.equal(ret(spec, 231 /* exit_group */), ALLOW);
  assert.equal(ret(spec, NR.mkdir), ERRNO(1));
  assert.equal(ret({ ...spec, defaultErrnoRet: 38 }, NR.mkdir), ERRNO(38));
  assert.equal(ret({ ...spec, defaultErrnoRet: 38 }, NR.read), ALLOW);
});

test('every action returns its SECCOMP_RET value', () => {
  const cases: Array<[LinuxSyscall['action'], number | undefined, number]> = [
    ['SCMP_ACT_KILL', undefined, KILL_THREAD],
    ['SCMP_ACT_KILL_THREAD', undefined, KILL_THREAD],
    ['SCMP_ACT_KILL_PROCESS', undefined, KILL_PROCESS],
    ['SCMP_ACT_TRAP', undefined, TRAP],
    ['SCMP_ACT_ERRNO', undefined, ERRNO(1)],
    ['SCMP_ACT_ERRNO', 0, ERRNO(0)],
    ['SCMP_ACT_ERRNO', 13, ERRNO(13)],
    ['SCMP_ACT_TRACE', undefined, TRACE(1)],
    ['SCMP_ACT_TRACE', 77, TRACE(77)],
    ['SCMP_ACT_LOG', undefined, LOG],
  ];
  for (const [action, errnoRet, want] of cases) {
    const spec: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action, errnoRet }] };
    assert.equal(ret(spec, NR.getpid), want, `${action} ${errnoRet}`);
    assert.equal(ret(spec, NR.read), ALLOW, `${action} leaves read alone`);
    // The same action as the default.
    const asDefault: LinuxSeccomp = {
      defaultAction: action,
      defaultErrnoRet: errnoRet,
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }],
    };
    assert.equal(ret(asDefault, NR.getpid), want, `default ${action}`);
    assert.equal(ret(asDefault, NR.read), ALLOW);
  }
  const allowRule: LinuxSeccomp = { defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }] };
  assert.equal(ret(allowRule, NR.getpid), ALLOW);
  assert.equal(ret(allowRule, NR.read), KILL_PROCESS);
});

/** The u64 comparison each operator means, computed directly. */
function holds(op: LinuxSeccompArg['op'], arg: bigint, value: bigint, valueTwo = 0n): boolean {
  switch (op) {
    case 'SCMP_CMP_NE':
      return arg !== value;
    case 'SCMP_CMP_LT':
      return arg < value;
    case 'SCMP_CMP_LE':
      return arg <= value;
    case 'SCMP_CMP_EQ':
      return arg === value;
    case 'SCMP_CMP_GE':
      return arg >= value;
    case 'SCMP_CMP_GT':
      return arg > value;
    case 'SCMP_CMP_MASKED_EQ':
      return (arg & value) === valueTwo;
  }
}

const OPS: LinuxSeccompArg['op'][] = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT'];
const U64_MAX = (1n << 64n) - 1n;

test('argument comparisons on 64-bit values, where the high word decides', () => {
  const datums = [0n, 5n, 0xffffffffn, 0x1_0000_0005n, 0x1_ffff_fff0n, 0x8000_0000_0000_0000n];
  const args = [
    0n,
    4n,
    5n,
    6n,
    0xffffffffn,
    0x1_0000_0000n,
    0x1_0000_0004n,
    0x1_0000_0005n,
    0x1_0000_0006n,
    0x2_0000_0005n,
    0x0_0000_0005n,
    0x1_ffff_fff0n,
    0x1_ffff_ffefn,
    0x7fff_ffff_ffff_ffffn,
    0x8000_0000_0000_0000n,
    U64_MAX,
  ];
  let checked = 0;
  for (const op of OPS) {
    for (const datum of datums) {
      for (const index of [0, 3, 5]) {
        const spec: LinuxSeccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          // Values past 2^53 go in as bigints here; JSON numbers are tested below.
          syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index, op, value: datum as unknown as number }] }],
        };
        const program = compileSeccomp(spec, 'SCMP_ARCH_X86_64').program;
        for (const arg of args) {
          const argv: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];
          argv[index] = arg;
          // Other arguments must not matter.
          argv[(index + 1) % 6] = 0xdead_beef_cafen;
          const got = run(program, { nr: NR.personality, arch: X86_64, args: argv }).ret;
          assert.equal(got, holds(op, arg, datum) ? ERRNO(1) : ALLOW, `${op} arg${index}=${arg.toString(16)} datum=${datum.toString(16)}`);
          checked++;
        }
      }
    }
  }
  assert.equal(checked, OPS.length * 6 * 3 * args.length);
});

test('MASKED_EQ: value is the mask, valueTwo the datum, in both words', () => {
  const cases: Array<[bigint, bigint]> = [
    [0x7e020000n, 0n], // Docker's clone rule: no namespace flags
    [0xff00_0000_00ffn, 0x1200_0000_0034n],
    [0xffff_ffff_0000_0000n, 0x1_0000_0000n],
    [U64_MAX, 42n],
    [0xffn, 0x1_0000_0000n], // datum outside the mask: never matches
    [0n, 0n], // empty mask: always matches
  ];
  const args = [
    0n,
    0x34n,
    0x1200_0000_0034n,
    0x12ab_cdef_ff34n,
    0x1300_0000_0034n,
    0x1_0000_0000n,
    0x1_0000_0001n,
    0x7e020000n,
    0x10000000n,
    0x00020000n,
    0x1_0000_0000_0011n,
    42n,
    U64_MAX,
  ];
  for (const [mask, datum] of cases) {
    const spec: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        {
          names: ['clone'],
          action: 'SCMP_ACT_ALLOW',
          args: [{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: mask as unknown as number, valueTwo: datum as unknown as number }],
        },
      ],
    };
    for (const arg of args) {
      assert.equal(
        ret(spec, NR.clone, X86_64, [arg]),
        holds('SCMP_CMP_MASKED_EQ', arg, mask, datum) ? ALLOW : ERRNO(1),
        `mask ${mask.toString(16)} datum ${datum.toString(16)} arg ${arg.toString(16)}`,
      );
    }
  }
});

test('JSON numbers: safe integers, all-ones parsed as 2^64, and bad values', () => {
  const parsed = JSON.parse('{"index":0,"op":"SCMP_CMP_EQ","value":18446744073709551615}') as LinuxSeccompArg;
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [parsed] }],
  };
  assert.equal(ret(spec, NR.personality, X86_64, [U64_MAX]), ERRNO(1));
  assert.equal(ret(spec, NR.personality, X86_64, [U64_MAX - 1n]), ALLOW);
  const big: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 2 ** 53 + 2 }] }],
  };
  assert.equal(ret(big, NR.personality, X86_64, [0, 2n ** 53n + 2n]), ERRNO(1));
  assert.equal(ret(big, NR.personality, X86_64, [0, 2n ** 53n]), ALLOW);
  const bad = (arg: unknown, pattern: RegExp) =>
    assert.throws(
      () =>
        compileSeccomp(
          {
            defaultAction: 'SCMP_ACT_ALLOW',
            syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [arg as LinuxSeccompArg] }],
          },
          'SCMP_ARCH_X86_64',
        ),
      err('invalid', pattern),
    );
  bad({ index: 0, op: 'SCMP_CMP_EQ', value: -1 }, /-1/);
  bad({ index: 0, op: 'SCMP_CMP_EQ', value: 1.5 }, /1\.5/);
  bad({ index: 0, op: 'SCMP_CMP_EQ', value: 2 ** 65 }, /range/);
  bad({ index: 6, op: 'SCMP_CMP_EQ', value: 0 }, /index 6/);
  bad({ index: 0, op: 'SCMP_CMP_SOMETIMES', value: 0 }, /unknown operator "SCMP_CMP_SOMETIMES"/);
});

test('conditions in one rule are ANDed; rules for one syscall are tried in order', () => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      {
        names: ['personality'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: 10,
        args: [
          { index: 0, op: 'SCMP_CMP_EQ', value: 1 },
          { index: 1, op: 'SCMP_CMP_GT', value: 100 },
        ],
      },
      // Same index twice: both must hold (a range).
      {
        names: ['personality'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: 11,
        args: [
          { index: 0, op: 'SCMP_CMP_GE', value: 10 },
          { index: 0, op: 'SCMP_CMP_LT', value: 20 },
        ],
      },
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 12, args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 1 }] },
      { names: ['personality'], action: 'SCMP_ACT_TRAP' },
      // Never reached: the rule above has no conditions.
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 99 }] },
    ],
  };
  assert.equal(ret(spec, NR.personality, X86_64, [1, 101]), ERRNO(10));
  assert.equal(ret(spec, NR.personality, X86_64, [1, 100]), ERRNO(12));
  assert.equal(ret(spec, NR.personality, X86_64, [2, 101]), TRAP);
  assert.equal(ret(spec, NR.personality, X86_64, [10]), ERRNO(11));
  assert.equal(ret(spec, NR.personality, X86_64, [19]), ERRNO(11));
  assert.equal(ret(spec, NR.personality, X86_64, [20]), TRAP);
  assert.equal(ret(spec, NR.personality, X86_64, [99]), TRAP);
  assert.equal(ret(spec, NR.getpid), ALLOW);
});

test('Docker-style personality allow list on a default-errno profile', () => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 0 }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 8 }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 4294967295 }] },
    ],
  };
  for (const [arg, want] of [
    [0n, ALLOW],
    [8n, ALLOW],
    [0xffffffffn, ALLOW],
    [1n, ERRNO(1)],
    [0x1_0000_0000n, ERRNO(1)],
    [0x1_0000_0008n, ERRNO(1)],
  ] as const) {
    assert.equal(ret(spec, NR.personality, X86_64, [arg]), want, `personality(${arg.toString(16)})`);
  }
});

test('32-bit ABIs compare the low word only, as libseccomp does', () => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86'],
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 0x1_0000_0005 }] }],
  };
  // i386: the datum's high word is ignored.
  assert.equal(ret(spec, NR.i386.mkdir, I386, [0, 5]), ERRNO(1));
  assert.equal(ret(spec, NR.i386.mkdir, I386, [0, 6]), ALLOW);
  // x86_64: the full value.
  assert.equal(ret(spec, NR.mkdir, X86_64, [0, 5]), ALLOW);
  assert.equal(ret(spec, NR.mkdir, X86_64, [0, 0x1_0000_0005n]), ERRNO(1));
  const ops: Array<[LinuxSeccompArg['op'], number, number, boolean]> = [
    ['SCMP_CMP_NE', 7, 7, false],
    ['SCMP_CMP_NE', 7, 8, true],
    ['SCMP_CMP_LT', 7, 6, true],
    ['SCMP_CMP_LT', 7, 7, false],
    ['SCMP_CMP_LE', 7, 7, true],
    ['SCMP_CMP_LE', 7, 8, false],
    ['SCMP_CMP_GE', 7, 7, true],
    ['SCMP_CMP_GE', 7, 6, false],
    ['SCMP_CMP_GT', 7, 8, true],
    ['SCMP_CMP_GT', 7, 7, false],
    ['SCMP_CMP_GT', 7, 0xffffffff, true],
  ];
  for (const [op, value, arg, match] of ops) {
    const s: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86'],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_TRAP', args: [{ index: 0, op, value }] }],
    };
    assert.equal(ret(s, NR.i386.mkdir, I386, [arg]), match ? TRAP : ALLOW, `${op} ${value} ${arg}`);
  }
  const masked: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86'],
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_TRAP', args: [{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: 0xf0, valueTwo: 0x30 }] }],
  };
  assert.equal(ret(masked, NR.i386.mkdir, I386, [0x3f]), TRAP);
  assert.equal(ret(masked, NR.i386.mkdir, I386, [0x4f]), ALLOW);
});

test('several architectures: one name, a different number on each', () => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64'],
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
  };
  assert.equal(ret(spec, NR.mkdir, X86_64), ERRNO(38));
  assert.equal(ret(spec, NR.mkdirat, X86_64), ERRNO(38));
  assert.equal(ret(spec, NR.i386.mkdir, I386), ERRNO(38));
  assert.equal(ret(spec, NR.i386.mkdirat, I386), ERRNO(38));
  // i386's mkdir is 39, x86_64's getpid: each arch reads its own table.
  assert.equal(NR.i386.mkdir, NR.getpid);
  assert.equal(ret(spec, NR.getpid, X86_64), ALLOW);
  assert.equal(ret(spec, NR.mkdir, I386), ALLOW); // 83 on i386 is symlink... not mkdir
  assert.equal(ret(spec, NR.aarch64.mkdirat, AARCH64), ERRNO(38));
  assert.equal(ret(spec, NR.mkdirat, AARCH64), ALLOW);
});

test('a syscall from an architecture not in the filter is killed; the native one is always in', () => {
  const spec: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
  assert.equal(ret(spec, NR.read, AARCH64), KILL_THREAD);
  assert.equal(ret(spec, NR.read, I386), KILL_THREAD);
  assert.equal(ret(spec, NR.read, 0x12345678), KILL_THREAD);
  assert.equal(ret(spec, NR.read, X86_64), ALLOW);
  // Listing only i386 still filters the native x86_64.
  const listed: LinuxSeccomp = { ...spec, architectures: ['SCMP_ARCH_X86'] };
  assert.equal(ret(listed, NR.mkdir, X86_64), ERRNO(1));
  assert.equal(ret(listed, NR.i386.mkdir, I386), ERRNO(1));
  assert.equal(ret(listed, NR.read, AARCH64), KILL_THREAD);
  // Another native arch, given as process.arch names it.
  assert.equal(
    ret(
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO' }] },
      NR.aarch64.mkdirat,
      AARCH64,
      [],
      'arm64',
    ),
    ERRNO(1),
  );
  assert.equal(ret(spec, NR.read, X86_64, [], 'arm64'), KILL_THREAD);
});

test('an arch berth has no table for is accepted but left out (killed); as native it is unsupported', () => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
    syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO' }],
  };
  assert.equal(ret(spec, NR.aarch64.mkdirat, AARCH64, [], 'SCMP_ARCH_AARCH64'), ERRNO(1));
  assert.equal(ret(spec, 0, ARM, [], 'SCMP_ARCH_AARCH64'), KILL_THREAD);
  assert.throws(() => compileSeccomp(spec, 'SCMP_ARCH_ARM'), err('unsupported', /native architecture SCMP_ARCH_ARM/));
  assert.throws(
    () => compileSeccomp({ ...spec, architectures: ['SCMP_ARCH_VAX'] }, 'SCMP_ARCH_X86_64'),
    err('invalid', /unknown architecture "SCMP_ARCH_VAX"/),
  );
  assert.throws(() => compileSeccomp(spec, 'pdp11'), err('invalid', /unknown architecture "pdp11"/));
});

test('x32 syscalls do not match x86_64 rules: killed unless SCMP_ARCH_X32 is listed', () => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
  };
  assert.equal(ret(spec, NR.mkdirat, X86_64), ERRNO(38));
  assert.equal(ret(spec, X32_BIT | NR.mkdirat, X86_64), KILL_THREAD);
  assert.equal(ret(spec, X32_BIT | NR.read, X86_64), KILL_THREAD);
  assert.equal(ret(spec, 0x7fffffff, X86_64), KILL_THREAD);
  // nr -1 (a tracer skipping the syscall) is not killed.
  assert.equal(ret(spec, -1, X86_64), ALLOW);
  const deny: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
  assert.equal(ret(deny, X32_BIT | NR.read, X86_64), KILL_THREAD);
  assert.equal(ret(deny, -1, X86_64), ERRNO(1));

  const withX32: LinuxSeccomp = { ...spec, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'] };
  assert.equal(ret(withX32, X32_BIT | NR.mkdirat, X86_64), ERRNO(38));
  assert.equal(ret(withX32, X32_BIT | NR.read, X86_64), ALLOW);
  assert.equal(ret(withX32, NR.mkdirat, X86_64), ERRNO(38));
  assert.equal(ret(withX32, NR.read, X86_64), ALLOW);
  // x32's own numbers past 511, e.g. rt_sigaction at 512.
  const sig: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X32'],
    syscalls: [{ names: ['rt_sigaction'], action: 'SCMP_ACT_TRAP' }],
  };
  assert.equal(ret(sig, X32_BIT | 512, X86_64), TRAP);
  assert.equal(ret(sig, X32_BIT | 13, X86_64), ALLOW);
  assert.equal(ret(sig, 13, X86_64), TRAP); // x86_64's rt_sigaction
  // Only x32 filtered (x32 native): x86_64 syscalls are the bad arch.
  assert.equal(ret(sig, 13, X86_64, [], 'SCMP_ARCH_X32'), KILL_THREAD);
  assert.equal(ret(sig, X32_BIT | 512, X86_64, [], 'SCMP_ARCH_X32'), TRAP);
});

test('names a table lacks are skipped for that architecture', () => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
    syscalls: [{ names: ['no_such_syscall', 'mkdir', 'arm_fadvise64_64'], action: 'SCMP_ACT_ERRNO' }],
  };
  assert.equal(ret(spec, NR.mkdir, X86_64), ERRNO(1));
  // aarch64 has no mkdir: nothing there is filtered.
  assert.equal(ret(spec, NR.aarch64.mkdirat, AARCH64), ALLOW);
  assert.equal(ret(spec, NR.mkdir, AARCH64), ALLOW);
  // A rule with only unknown names compiles to the same program as none.
  const none = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, 'SCMP_ARCH_X86_64').program;
  const unknown = compileSeccomp(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_syscall'], action: 'SCMP_ACT_ERRNO' }] },
    'SCMP_ARCH_X86_64',
  ).program;
  assert.deepEqual(unknown, none);
});

test('a rule whose action is the default is dropped', () => {
  const base: LinuxSyscall = { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 };
  const one = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [base] }, 'SCMP_ARCH_X86_64').program;
  const two = compileSeccomp(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [base, { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }] },
    'SCMP_ARCH_X86_64',
  ).program;
  assert.deepEqual(two, one);
  // Same action, other errno: kept.
  const other = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
  } as LinuxSeccomp;
  assert.equal(ret(other, NR.mkdir), ERRNO(38));
  assert.equal(ret(other, NR.read), ERRNO(1));
  // A default-action rule before a broader one still shadows it.
  const shadow: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 3 }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW' },
    ],
  };
  assert.equal(ret(shadow, NR.personality, X86_64, [3]), ERRNO(1));
  assert.equal(ret(shadow, NR.personality, X86_64, [4]), ALLOW);
});

test('SCMP_ACT_NOTIFY is unsupported; unknown actions and malformed rules are invalid', () => {
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_NOTIFY' }, 'SCMP_ARCH_X86_64'), err('unsupported', /SCMP_ACT_NOTIFY/));
  assert.throws(
    () =>
      compileSeccomp(
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_syscall'], action: 'SCMP_ACT_NOTIFY' }] },
        'SCMP_ARCH_X86_64',
      ),
    err('unsupported', /SCMP_ACT_NOTIFY/),
  );
  assert.throws(
    () => compileSeccomp({ defaultAction: 'SCMP_ACT_EXPLODE' as LinuxSeccomp['defaultAction'] }, 'SCMP_ARCH_X86_64'),
    err('invalid', /unknown action "SCMP_ACT_EXPLODE"/),
  );
  assert.throws(
    () =>
      compileSeccomp(
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOPE' as LinuxSyscall['action'] }] },
        'SCMP_ARCH_X86_64',
      ),
    err('invalid', /syscalls\[0\] \(read\): unknown action "SCMP_ACT_NOPE"/),
  );
  assert.throws(
    () => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }, 'SCMP_ARCH_X86_64'),
    err('invalid', /names/),
  );
  assert.throws(
    () =>
      compileSeccomp(
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }] },
        'SCMP_ARCH_X86_64',
      ),
    err('invalid', /errnoRet 70000/),
  );
  assert.throws(
    () =>
      compileSeccomp(
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] },
        'SCMP_ARCH_X86_64',
      ),
    err('invalid', /errnoRet is only allowed/),
  );
});

test('flags map to SECCOMP_FILTER_FLAG_* bits; unknown ones are invalid', () => {
  const flags = (f: string[]) => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: f }, 'SCMP_ARCH_X86_64').flags;
  assert.equal(flags([]), 0);
  assert.equal(compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, 'SCMP_ARCH_X86_64').flags, 0);
  assert.equal(flags(['SECCOMP_FILTER_FLAG_TSYNC']), 1);
  assert.equal(flags(['SECCOMP_FILTER_FLAG_LOG']), 2);
  assert.equal(flags(['SECCOMP_FILTER_FLAG_SPEC_ALLOW']), 4);
  assert.equal(flags(['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW']), 7);
  // Meaningful only with a notify listener, which berth never makes; the kernel rejects it alone.
  assert.equal(flags(['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', 'SECCOMP_FILTER_FLAG_LOG']), 2);
  assert.throws(() => flags(['SECCOMP_FILTER_FLAG_NEW_LISTENER']), err('invalid', /unknown flag "SECCOMP_FILTER_FLAG_NEW_LISTENER"/));
  assert.throws(() => flags(['toString']), err('invalid', /unknown flag "toString"/));
});

test('a profile of 400 names (Docker-sized) compiles and decides each one', () => {
  const real = [...SYSCALLS_X86_64.keys()];
  const excluded = new Set(['mkdir', 'ptrace', 'kexec_load']);
  const names = [
    ...real.filter((n) => !excluded.has(n)),
    ...Array.from({ length: 400 - real.length + excluded.size }, (_, i) => `future_syscall_${i}`),
  ];
  assert.equal(names.length, 400);
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }],
  };
  const { program } = compileSeccomp(spec, 'SCMP_ARCH_X86_64');
  assert.ok(program.length / 8 < 4096);
  const nrs = [...SYSCALLS_X86_64]
    .filter(([n]) => !excluded.has(n))
    .map(([, nr]) => nr)
    .sort((a, b) => a - b);
  const first = nrs[0]!;
  const middle = nrs[nrs.length >> 1]!;
  const last = nrs[nrs.length - 1]!;
  for (const nr of [first, middle, last]) assert.equal(run(program, { nr, arch: X86_64 }).ret, ALLOW, `nr ${nr}`);
  for (const nr of nrs) assert.equal(run(program, { nr, arch: X86_64 }).ret, ALLOW, `nr ${nr}`);
  for (const name of excluded) assert.equal(run(program, { nr: SYSCALLS_X86_64.get(name)!, arch: X86_64 }).ret, ERRNO(1), name);
  assert.equal(run(program, { nr: 1000, arch: X86_64 }).ret, ERRNO(1));
  assert.equal(run(program, { nr: NR.i386.mkdirat, arch: I386 }).ret, ALLOW);
  assert.equal(run(program, { nr: X32_BIT | 512, arch: X86_64 }).ret, ALLOW);
  // The binary search keeps a lookup short.
  assert.ok(run(program, { nr: middle, arch: X86_64 }).steps < 20);
});

test('neighbouring syscalls with one action merge into intervals', () => {
  const names = [...SYSCALLS_X86_64.keys()];
  const { program } = compileSeccomp(
    { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] },
    'SCMP_ARCH_X86_64',
  );
  assert.ok(program.length / 8 < 32, `${program.length / 8} instructions for an allow-all list`);
});

test('random profiles agree with a direct model of first-match-wins', () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const actions: Array<[LinuxSyscall['action'], number | undefined]> = [
    ['SCMP_ACT_ALLOW', undefined],
    ['SCMP_ACT_ERRNO', 5],
    ['SCMP_ACT_ERRNO', undefined],
    ['SCMP_ACT_TRAP', undefined],
    ['SCMP_ACT_LOG', undefined],
  ];
  const value = (act: LinuxSyscall['action'], e?: number) =>
    (({ SCMP_ACT_ALLOW: ALLOW, SCMP_ACT_ERRNO: ERRNO(e ?? 1), SCMP_ACT_TRAP: TRAP, SCMP_ACT_LOG: LOG }) as Record<string, number>)[act]!;
  const byNr = new Map([...SYSCALLS_X86_64].map(([n, nr]) => [nr, n]));
  const names = [...SYSCALLS_X86_64.keys()];
  for (let round = 0; round < 40; round++) {
    const [defaultAction, defaultErrnoRet] = actions[rand(actions.length)]!;
    const syscalls: LinuxSyscall[] = Array.from({ length: 1 + rand(12) }, () => {
      const [action, errnoRet] = actions[rand(actions.length)]!;
      const start = rand(names.length);
      return {
        names: names
          .slice(start, start + 1 + rand(40))
          .filter(() => rand(4) !== 0)
          .concat('not_a_syscall'),
        action,
        errnoRet,
      };
    });
    const spec: LinuxSeccomp = { defaultAction, defaultErrnoRet, syscalls };
    const { program } = compileSeccomp(spec, 'SCMP_ARCH_X86_64');
    for (let nr = 0; nr < 600; nr++) {
      const name = byNr.get(nr);
      const rule = name === undefined ? undefined : syscalls.find((s) => s.names.includes(name));
      const want = rule ? value(rule.action, rule.errnoRet) : value(defaultAction, defaultErrnoRet);
      assert.equal(run(program, { nr, arch: X86_64 }).ret, want, `round ${round} nr ${nr}`);
    }
    assert.equal(run(program, { nr: 0x3fffffff, arch: X86_64 }).ret, value(defaultAction, defaultErrnoRet));
  }
});

test('a profile big enough to need long jumps still decides correctly', () => {
  // Every x86_64 syscall with an argument condition: thousands of instructions, so the
  // top of the binary search jumps farther than 255.
  const syscalls: LinuxSyscall[] = [...SYSCALLS_X86_64.keys()].map((name) => ({
    names: [name],
    action: 'SCMP_ACT_ALLOW',
    args: [{ index: 0, op: 'SCMP_CMP_NE', value: 0x1_0000_0000 + SYSCALLS_X86_64.get(name)! }],
  }));
  const spec: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls };
  const { program } = compileSeccomp(spec, 'SCMP_ARCH_X86_64');
  const insns = decode(program);
  assert.ok(insns.length > 2000, `${insns.length} instructions`);
  assert.ok(
    insns.some((i) => i.code === BPF_JMP_JA),
    'long jumps present',
  );
  for (const [, nr] of SYSCALLS_X86_64) {
    assert.equal(run(program, { nr, arch: X86_64, args: [7] }).ret, ALLOW, `nr ${nr}`);
    assert.equal(run(program, { nr, arch: X86_64, args: [0x1_0000_0000n + BigInt(nr)] }).ret, ERRNO(1), `nr ${nr} denied`);
  }
  assert.equal(run(program, { nr: 999, arch: X86_64, args: [7] }).ret, ERRNO(1));
});

test('a profile past 4096 instructions is refused', () => {
  const args: LinuxSeccompArg[] = Array.from({ length: 6 }, (_, index) => ({ index, op: 'SCMP_CMP_GT', value: 2 ** 40 }));
  const syscalls: LinuxSyscall[] = [...SYSCALLS_X86_64.keys()].map((name) => ({ names: [name], action: 'SCMP_ACT_ALLOW', args }));
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls }, 'SCMP_ARCH_X86_64'), err('invalid', /4096/));
});

test('program shape: whole instructions, arch checked first, auditArch values', () => {
  const { program } = compileSeccomp(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] },
    'SCMP_ARCH_X86_64',
  );
  assert.equal(program.length % 8, 0);
  const [first, second] = decode(program);
  assert.deepEqual(first, { code: 0x20, jt: 0, jf: 0, k: 4 });
  assert.equal(second!.code, 0x15);
  assert.equal(second!.k, X86_64);
  assert.equal(auditArch('SCMP_ARCH_X86_64'), X86_64);
  assert.equal(auditArch('SCMP_ARCH_X32'), X86_64);
  assert.equal(auditArch('SCMP_ARCH_X86'), I386);
  assert.equal(auditArch('SCMP_ARCH_AARCH64'), AARCH64);
  assert.equal(auditArch('SCMP_ARCH_ARM'), ARM);
  assert.equal(auditArch('SCMP_ARCH_RISCV64'), 0xc00000f3);
  assert.equal(auditArch('SCMP_ARCH_MIPSEL64N32'), 0xe0000008);
  assert.throws(() => auditArch('SCMP_ARCH_Z80'), err('invalid', /SCMP_ARCH_Z80/));
});

test('default native architecture follows process.arch', () => {
  const spec: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
  const native = { x64: X86_64, arm64: AARCH64 }[process.arch as 'x64' | 'arm64'];
  if (native === undefined) return;
  assert.equal(run(compileSeccomp(spec).program, { nr: 0, arch: native }).ret, ALLOW);
  assert.equal(run(compileSeccomp(spec).program, { nr: 0, arch: I386 }).ret, KILL_THREAD);
});
