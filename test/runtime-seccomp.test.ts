// linux.seccomp on the real kernel: a rule's errnoRet reaches the process with and without
// noNewPrivileges, argument conditions pick the calls they name, a kill action kills, and an
// exec'd process gets the container's filter too.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { LinuxSeccomp, Spec } from '../src/oci/runtime-spec.js';
import { makeBundle, runtime, uniqueId, type Result } from './helpers/bundle.js';

const ENOSYS = 38;

function runSh(t: TestContext, script: string, edit?: (s: Spec) => void): Result {
  const b = makeBundle(['sh', '-c', script], (s) => {
    s.root!.readonly = false;
    edit?.(s);
  });
  t.after(() => b.cleanup());
  return runtime(b, ['run', '--bundle', b.dir, uniqueId('scmp')]);
}

const mkdirDenied: LinuxSeccomp = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS }],
};

for (const nnp of [true, false]) {
  test(`a rule returns its errno (mkdir → ENOSYS), noNewPrivileges ${nnp}`, (t) => {
    const r = runSh(
      t,
      'mkdir /made; echo rc=$?; touch /file && echo touched; grep NoNewPrivs /proc/self/status; grep Seccomp: /proc/self/status',
      (s) => {
        s.process!.noNewPrivileges = nnp;
        s.linux!.seccomp = mkdirDenied;
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "mkdir: can't create directory '/made': Function not implemented\n");
    assert.deepEqual(
      r.stdout.split('\n').map((l) => l.replace(/\s+/g, ' ')),
      ['rc=1', 'touched', `NoNewPrivs: ${nnp ? 1 : 0}`, 'Seccomp: 2', ''],
    );
  });
}

test('argument conditions select the calls a rule applies to', (t) => {
  // kill(pid, 0) is refused with EPERM; kill with any other signal is not.
  const r = runSh(t, 'kill -0 $$; echo probe=$?; kill -CONT $$; echo cont=$?', (s) => {
    s.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] }],
    };
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'probe=1\ncont=0\n');
  assert.match(r.stderr, /Operation not permitted/);
});

test('a kill action kills the process with SIGSYS', (t) => {
  const r = runSh(t, 'uname -s', (s) => {
    s.process!.args = ['uname', '-s'];
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['uname'], action: 'SCMP_ACT_KILL_PROCESS' }] };
  });
  assert.equal(r.status, 128 + 31);
  assert.equal(r.stdout, '');
});

test("a process started by exec gets the container's filter", (t) => {
  const b = makeBundle(['sleep', '60'], (s) => {
    s.root!.readonly = false;
    s.linux!.seccomp = mkdirDenied;
  });
  t.after(() => b.cleanup());
  const id = uniqueId('scmp-exec');
  const run = runtime(b, ['run', '-d', '--bundle', b.dir, id]);
  assert.equal(run.status, 0, run.stderr);
  const r = runtime(b, ['exec', id, 'mkdir', '/x']);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, "mkdir: can't create directory '/x': Function not implemented\n");
  assert.equal(runtime(b, ['exec', id, 'grep', 'Seccomp:', '/proc/self/status']).stdout.replace(/\s+/g, ' '), 'Seccomp: 2 ');
});

test('an unknown action or syscall name fails create with one line', (t) => {
  const bad = runSh(t, 'true', (s) => {
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_NOPE' as LinuxSeccomp['defaultAction'] };
  });
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr.split('\n').length, 2, bad.stderr);
  assert.match(bad.stderr, /SCMP_ACT_NOPE/);
});

test('an allow list with a default errno action: the program runs with only what it calls', (t) => {
  // What busybox `true` and `mkdir` call; nothing the runtime itself needs before exec.
  const allow = [
    'execve',
    'brk',
    'arch_prctl',
    'exit_group',
    'exit',
    'set_tid_address',
    'getuid',
    'geteuid',
    'getpid',
    'rt_sigaction',
    'rt_sigprocmask',
    'write',
    'read',
    'uname',
    'readlinkat',
    'mmap',
    'munmap',
    'mprotect',
    'prlimit64',
    'umask',
  ];
  const profile = (s: Spec) => {
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: allow, action: 'SCMP_ACT_ALLOW' }] };
  };
  const b = makeBundle(['/bin/true'], profile);
  t.after(() => b.cleanup());
  const r = runtime(b, ['run', '--bundle', b.dir, uniqueId('allow')]);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  const m = makeBundle(['/bin/mkdir', '/x'], (s) => {
    s.root!.readonly = false;
    profile(s);
  });
  t.after(() => m.cleanup());
  const r2 = runtime(m, ['run', '--bundle', m.dir, uniqueId('allow')]);
  assert.equal(r2.status, 1);
  assert.equal(r2.stderr, "mkdir: can't create directory '/x': Operation not permitted\n");
});
