// Real-kernel check of compiled filters: a throwaway C loader (built with `cc` in a temp dir)
// loads the program with seccomp(2) and execs a command under it. Skipped without cc or on
// an architecture berth has no table for; the temp dir is removed afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LinuxSeccomp, LinuxSyscall } from '../../oci/runtime-spec.js';
import { compileSeccomp } from './compile.js';
import { SYSCALLS_AARCH64 } from './syscalls-aarch64.js';
import { SYSCALLS_X86_64 } from './syscalls-x86_64.js';

const LOADER = `
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

/* loader FILTER FLAGS PROG [ARGS...]: load FILTER (struct sock_filter[]) then exec PROG. */
int main(int argc, char **argv) {
  static struct sock_filter insns[4097];
  if (argc < 4) { fprintf(stderr, "usage: loader FILTER FLAGS PROG [ARGS...]\\n"); return 100; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror("open filter"); return 100; }
  size_t n = fread(insns, sizeof insns[0], 4097, f);
  fclose(f);
  struct sock_fprog prog = { .len = (unsigned short)n, .filter = insns };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("no_new_privs"); return 100; }
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)strtoul(argv[2], 0, 0), &prog) != 0) {
    fprintf(stderr, "seccomp: %s\\n", strerror(errno));
    return 99;
  }
  execv(argv[3], argv + 3);
  fprintf(stderr, "execv: %s\\n", strerror(errno));
  return 101;
}
`;

const table = { x64: SYSCALLS_X86_64, arm64: SYSCALLS_AARCH64 }[process.arch as 'x64' | 'arm64'];
const hasCc = spawnSync('cc', ['--version']).status === 0;
const hasSeccomp = (() => {
  try {
    return /^Seccomp:/m.test(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return false;
  }
})();
const skip =
  process.platform !== 'linux'
    ? 'not Linux'
    : !hasSeccomp
      ? 'kernel without seccomp'
      : !table
        ? `no syscall table for ${process.arch}`
        : !hasCc
          ? 'no C compiler (cc)'
          : !existsSync('/bin/mkdir') || !existsSync('/bin/true')
            ? 'no /bin/mkdir or /bin/true'
            : false;

test('the kernel loads compiled filters and enforces them', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-'));
  try {
    const loader = join(dir, 'loader');
    writeFileSync(join(dir, 'loader.c'), LOADER);
    const cc = spawnSync('cc', ['-O', '-o', loader, join(dir, 'loader.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);

    const under = (spec: LinuxSeccomp, cmd: string[]) => {
      const { program, flags } = compileSeccomp(spec);
      const file = join(dir, 'filter.bpf');
      writeFileSync(file, program);
      return spawnSync(loader, [file, String(flags), ...cmd], { encoding: 'utf8' });
    };

    // mkdir and mkdirat fail with ENOSYS (38); everything else runs.
    const deny: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      flags: [
        'SECCOMP_FILTER_FLAG_TSYNC',
        'SECCOMP_FILTER_FLAG_LOG',
        'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
        'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
      ],
      syscalls: [{ names: ['mkdirat', 'mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
    };
    const target = join(dir, 'made');
    const made = under(deny, ['/bin/mkdir', target]);
    assert.notEqual(made.status, 99, `filter refused: ${made.stderr}`);
    assert.notEqual(made.status, 0, 'mkdir ran under the filter');
    assert.match(made.stderr, /Function not implemented/);
    assert.equal(existsSync(target), false);
    const plain = spawnSync('/bin/mkdir', [target]);
    assert.equal(plain.status, 0, 'mkdir works without the filter');

    const ok = under(deny, ['/bin/true']);
    assert.equal(ok.status, 0, ok.stderr);

    // An allow list of every syscall of the table (default errno), with the 32-bit ABIs too.
    const allowAll: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: process.arch === 'x64' ? ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] : [],
      syscalls: [{ names: [...table!.keys()], action: 'SCMP_ACT_ALLOW' }],
    };
    const all = under(allowAll, ['/bin/true']);
    assert.equal(all.status, 0, all.stderr);

    // Thousands of instructions with long jumps: the kernel's checker must accept them.
    const syscalls: LinuxSyscall[] = [...table!].map(([name, nr]) => ({
      names: [name],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, op: 'SCMP_CMP_NE', value: 0x7_0000_0000 + nr }],
    }));
    const long = under({ defaultAction: 'SCMP_ACT_ERRNO', syscalls }, ['/bin/true']);
    assert.equal(long.status, 0, long.stderr);

    // A default errno profile missing mkdir's syscalls returns the default errno.
    const noMkdir: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 13,
      syscalls: [{ names: [...table!.keys()].filter((n) => n !== 'mkdir' && n !== 'mkdirat'), action: 'SCMP_ACT_ALLOW' }],
    };
    const denied = under(noMkdir, ['/bin/mkdir', join(dir, 'other')]);
    assert.notEqual(denied.status, 99, `filter refused: ${denied.stderr}`);
    assert.match(denied.stderr, /Permission denied/);
    assert.equal(existsSync(join(dir, 'other')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
