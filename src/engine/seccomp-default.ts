// Docker's default seccomp profile as berth's own data, in Docker's profile format (moby's
// profiles/seccomp/default.json: `archMap`, and `includes`/`excludes` on capabilities, arches
// and kernel versions), and the resolution that turns such a profile into the OCI
// `linux.seccomp` of one container, as moby's setupSeccomp does. Pure data and logic: nothing
// here loads a filter (the runtime compiles and the native helper loads it).

import { release } from 'node:os';
import { invalid } from '../errors.js';
import type { LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSyscall } from '../oci/runtime-spec.js';

/** When an entry applies: every cap listed held (in the bounding set), the arch listed, the kernel at least minKernel. */
export interface ProfileFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

/** One entry of a Docker profile's `syscalls`. */
export interface ProfileSyscall {
  name?: string;
  names?: string[];
  action: LinuxSeccompAction;
  errnoRet?: number;
  args?: LinuxSeccompArg[] | null;
  comment?: string;
  /** The entry is kept only when all of these hold. */
  includes?: ProfileFilter;
  /** The entry is dropped when any of these holds. */
  excludes?: ProfileFilter;
}

/** A seccomp profile as Docker reads it (`--security-opt seccomp=<file>` sends this JSON). */
export interface DockerSeccompProfile {
  defaultAction?: LinuxSeccompAction | '';
  defaultErrnoRet?: number;
  architectures?: string[];
  /** Native arch → the arches filtered with it. Exclusive with `architectures`. */
  archMap?: { architecture: string; subArchitectures?: string[] | null }[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: ProfileSyscall[] | null;
}

const EPERM = 1;
const ENOSYS = 38;
/** CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;
const AF_VSOCK = 40;

const words = (s: string): string[] => s.trim().split(/\s+/);
const allow = (names: string, more: Partial<ProfileSyscall> = {}): ProfileSyscall => ({
  names: words(names),
  action: 'SCMP_ACT_ALLOW',
  ...more,
});
const arg0 = (value: number, op: LinuxSeccompArg['op'] = 'SCMP_CMP_EQ'): LinuxSeccompArg[] => [{ index: 0, value, op }];

/** Docker's default: refuse with EPERM what is not allowed below. */
export const DEFAULT_PROFILE: DockerSeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: EPERM,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    { architecture: 'SCMP_ARCH_MIPS64', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64N32'] },
    { architecture: 'SCMP_ARCH_MIPS64N32', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64'] },
    { architecture: 'SCMP_ARCH_MIPSEL64', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32'] },
    { architecture: 'SCMP_ARCH_MIPSEL64N32', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64'] },
    { architecture: 'SCMP_ARCH_S390X', subArchitectures: ['SCMP_ARCH_S390'] },
    { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: null },
  ],
  syscalls: [
    allow(`
      accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32
      clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
      clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat
      dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2
      epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat
      faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown
      fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr
      fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex
      futex_time64 futex_waitv futimesat getcpu getcwd getdents getdents64 getegid getegid32
      geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid
      getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32
      getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid
      gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init inotify_init1
      inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64
      ioprio_get ioprio_set io_setup io_submit io_uring_enter io_uring_register io_uring_setup
      ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32
      lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr
      lstat lstat64 madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod
      mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open
      mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap
      msgctl msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep
      newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2
      pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2
      prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read
      readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg
      remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq
      rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
      rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr
      sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler
      sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr
      sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop
      semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid
      setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid
      setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid
      setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address
      setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4
      sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx
      symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create
      timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64
      timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times
      tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat
      utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev`),
    allow('process_vm_readv process_vm_writev ptrace', { includes: { minKernel: '4.8' } }),
    // Any address family but AF_VSOCK, which reaches the host's vsock listeners.
    allow('socket', { args: arg0(AF_VSOCK, 'SCMP_CMP_NE') }),
    // PER_LINUX, UNAME26, PER_LINUX32, PER_LINUX32|UNAME26, and the query (0xffffffff).
    ...[0x0, 0x0008, 0x20000, 0x20008, 0xffffffff].map((v) => allow('personality', { args: arg0(v) })),
    allow('sync_file_range2 swapcontext', { includes: { arches: ['ppc64le'] } }),
    allow('arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls', {
      includes: { arches: ['arm', 'arm64'] },
    }),
    allow('arch_prctl', { includes: { arches: ['amd64', 'x32'] } }),
    allow('modify_ldt', { includes: { arches: ['amd64', 'x32', 'x86'] } }),
    allow('s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr', { includes: { arches: ['s390', 's390x'] } }),
    allow('riscv_flush_icache', { includes: { arches: ['riscv64'] } }),
    allow('open_by_handle_at', { includes: { caps: ['CAP_DAC_READ_SEARCH'] } }),
    allow(
      `bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount
      mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname
      sethostname setns syslog umount umount2 unshare`,
      { includes: { caps: ['CAP_SYS_ADMIN'] } },
    ),
    // Without CAP_SYS_ADMIN: clone only without namespace flags (s390 swaps the first two arguments).
    allow('clone', {
      args: arg0(CLONE_NAMESPACE_FLAGS, 'SCMP_CMP_MASKED_EQ'),
      excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
    }),
    allow('clone', {
      args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }],
      comment: 's390 parameter ordering for clone is different',
      includes: { arches: ['s390', 's390x'] },
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    }),
    // clone3's flags sit in memory seccomp cannot read: ENOSYS makes libcs fall back to clone.
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    allow('reboot', { includes: { caps: ['CAP_SYS_BOOT'] } }),
    allow('chroot', { includes: { caps: ['CAP_SYS_CHROOT'] } }),
    allow('delete_module init_module finit_module', { includes: { caps: ['CAP_SYS_MODULE'] } }),
    allow('acct', { includes: { caps: ['CAP_SYS_PACCT'] } }),
    allow('kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace', { includes: { caps: ['CAP_SYS_PTRACE'] } }),
    allow('iopl ioperm', { includes: { caps: ['CAP_SYS_RAWIO'] } }),
    allow('settimeofday stime clock_settime clock_settime64', { includes: { caps: ['CAP_SYS_TIME'] } }),
    allow('vhangup', { includes: { caps: ['CAP_SYS_TTY_CONFIG'] } }),
    allow('get_mempolicy mbind set_mempolicy set_mempolicy_home_node', { includes: { caps: ['CAP_SYS_NICE'] } }),
    allow('syslog', { includes: { caps: ['CAP_SYSLOG'] } }),
    allow('bpf', { includes: { caps: ['CAP_BPF'] } }),
    allow('perf_event_open', { includes: { caps: ['CAP_PERFMON'] } }),
  ],
};

/** Node's `process.arch` (or a Go/libseccomp arch name) → the name Docker's profiles use in includes/excludes. */
const PROFILE_ARCH: Record<string, string> = {
  x64: 'amd64',
  amd64: 'amd64',
  ia32: 'x86',
  x86: 'x86',
  '386': 'x86',
  arm: 'arm',
  arm64: 'arm64',
  s390: 's390',
  s390x: 's390x',
  ppc64: 'ppc64le',
  ppc64le: 'ppc64le',
  riscv64: 'riscv64',
  mips64el: 'mipsel64',
  mipsel: 'mipsel',
  mips: 'mips',
};
/** Docker's arch name → the SCMP_ARCH_* name its archMap is keyed by. */
const SECCOMP_ARCH: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64',
  x86: 'SCMP_ARCH_X86',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  s390: 'SCMP_ARCH_S390',
  s390x: 'SCMP_ARCH_S390X',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mipsel: 'SCMP_ARCH_MIPSEL',
  mips: 'SCMP_ARCH_MIPS',
};

function kernelVersion(s: string): number[] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(s);
  if (!m) throw invalid(`seccomp: invalid kernel version ${JSON.stringify(s)}`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}
function atLeast(kernel: number[], min: string): boolean {
  const want = kernelVersion(min);
  for (let i = 0; i < 3; i++) if (kernel[i] !== want[i]) return kernel[i]! > want[i]!;
  return true;
}

export interface ResolveOptions {
  /** `process.arch` or a Go arch name; default the running one. */
  arch?: string;
  /** The running kernel's release (`uname -r`); default os.release(). */
  kernel?: string;
}

/**
 * A Docker profile for a container whose bounding set is `caps`: entries whose `excludes`
 * hold or whose `includes` do not are dropped, `archMap` becomes the native arch and its
 * sub-arches, and `name` becomes `names`. Null when the profile names neither a default
 * action nor syscalls (Docker then applies no filter). Invalid profiles are `invalid` errors.
 */
export function resolveProfile(profile: DockerSeccompProfile, caps: string[], opts: ResolveOptions = {}): LinuxSeccomp | null {
  if (typeof profile !== 'object' || profile === null || Array.isArray(profile))
    throw invalid('seccomp: the profile must be a JSON object');
  if (!profile.defaultAction && !profile.syscalls?.length) return null;
  if (!profile.defaultAction) throw invalid('seccomp: the profile has no defaultAction');
  if (profile.architectures?.length && profile.archMap?.length) {
    throw invalid("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  const arch = PROFILE_ARCH[opts.arch ?? process.arch] ?? opts.arch ?? process.arch;
  const kernel = kernelVersion(opts.kernel ?? release());
  const held = new Set(caps);
  const out: LinuxSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  const arches = [...(profile.architectures ?? [])];
  const native = profile.archMap?.find((m) => m.architecture === SECCOMP_ARCH[arch]);
  if (native) arches.push(native.architecture, ...(native.subArchitectures ?? []));
  if (arches.length) out.architectures = arches;
  for (const k of ['flags', 'listenerPath', 'listenerMetadata'] as const) if (profile[k] !== undefined) (out as any)[k] = profile[k];
  const syscalls: LinuxSyscall[] = [];
  for (const [i, call] of (profile.syscalls ?? []).entries()) {
    if (typeof call !== 'object' || call === null) throw invalid(`seccomp: syscalls[${i}] must be an object`);
    const ex = call.excludes ?? {},
      inc = call.includes ?? {};
    if (ex.arches?.includes(arch)) continue;
    if (ex.caps?.some((c) => held.has(c))) continue;
    if (ex.minKernel && atLeast(kernel, ex.minKernel)) continue;
    if (inc.arches?.length && !inc.arches.includes(arch)) continue;
    if (inc.caps?.some((c) => !held.has(c))) continue;
    if (inc.minKernel && !atLeast(kernel, inc.minKernel)) continue;
    if (call.name && call.names?.length)
      throw invalid("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
    const s: LinuxSyscall = { names: call.name ? [call.name] : [...(call.names ?? [])], action: call.action };
    if (call.errnoRet !== undefined) s.errnoRet = call.errnoRet;
    if (call.args?.length) s.args = call.args.map((a) => ({ ...a }));
    syscalls.push(s);
  }
  out.syscalls = syscalls;
  return out;
}

/** Docker's default profile for a container whose bounding set is `caps`. */
export function defaultSeccomp(caps: string[], arch: string = process.arch, kernel?: string): LinuxSeccomp {
  return resolveProfile(DEFAULT_PROFILE, caps, { arch, kernel })!;
}
