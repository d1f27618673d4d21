import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSeccomp } from '../runtime/seccomp/compile.js';
import { seccompArch } from '../runtime/seccomp/arch.js';
import { DEFAULT_PROFILE, defaultSeccomp, resolveProfile } from './seccomp-default.js';
import {
  allCaps,
  applySecurity,
  daemonSecurityOptions,
  DEFAULT_CAPS,
  hostDevices,
  normalizeCap,
  parseSecurityOpt,
  resolveCaps,
} from './security.js';
import type { Spec } from '../oci/runtime-spec.js';

const names = (p: ReturnType<typeof defaultSeccomp>) => new Set(p.syscalls!.flatMap((s) => s.names));
const rulesFor = (p: ReturnType<typeof defaultSeccomp>, n: string) => p.syscalls!.filter((s) => s.names.includes(n));

test('default profile: EPERM by default, the native arch and its sub-arches', () => {
  const p = defaultSeccomp(DEFAULT_CAPS, 'x64', '6.1.0');
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, 1);
  assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(defaultSeccomp(DEFAULT_CAPS, 'arm64', '6.1.0').architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  const n = names(p);
  for (const s of ['read', 'write', 'execve', 'socket', 'personality', 'arch_prctl', 'chroot', 'ptrace']) assert.ok(n.has(s), s);
  for (const s of ['mount', 'unshare', 'setns', 'reboot', 'bpf', 'kexec_load', 'open_by_handle_at', 'set_tls']) assert.ok(!n.has(s), s);
  assert.ok(names(defaultSeccomp(DEFAULT_CAPS, 'arm64', '6.1.0')).has('set_tls'));
  assert.ok(!names(defaultSeccomp(DEFAULT_CAPS, 'arm64', '6.1.0')).has('arch_prctl'));
});

test('capability-gated entries appear only with the capability', () => {
  const plain = defaultSeccomp(DEFAULT_CAPS, 'x64', '6.1.0');
  const admin = defaultSeccomp([...DEFAULT_CAPS, 'CAP_SYS_ADMIN'], 'x64', '6.1.0');
  for (const s of ['mount', 'umount2', 'unshare', 'setns', 'sethostname', 'clone3']) assert.ok(names(admin).has(s), s);
  // Without CAP_SYS_ADMIN: clone only without namespace flags, clone3 ENOSYS.
  assert.deepEqual(rulesFor(plain, 'clone'), [
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ' }] },
  ]);
  assert.deepEqual(rulesFor(plain, 'clone3'), [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
  assert.ok(
    rulesFor(admin, 'clone').every((r) => !r.args),
    'clone is unconditioned with CAP_SYS_ADMIN',
  );
  assert.ok(rulesFor(admin, 'clone3').every((r) => r.action === 'SCMP_ACT_ALLOW'));
  assert.ok(!names(plain).has('chroot') === false, 'CAP_SYS_CHROOT is a default cap');
  assert.ok(
    !names(
      defaultSeccomp(
        DEFAULT_CAPS.filter((c) => c !== 'CAP_SYS_CHROOT'),
        'x64',
        '6.1.0',
      ),
    ).has('chroot'),
  );
  for (const [cap, call] of [
    ['CAP_SYS_BOOT', 'reboot'],
    ['CAP_SYS_MODULE', 'init_module'],
    ['CAP_SYS_TIME', 'settimeofday'],
    ['CAP_SYS_PTRACE', 'kcmp'],
    ['CAP_BPF', 'bpf'],
    ['CAP_PERFMON', 'perf_event_open'],
    ['CAP_DAC_READ_SEARCH', 'open_by_handle_at'],
  ]) {
    assert.ok(!names(plain).has(call!), call);
    assert.ok(names(defaultSeccomp([...DEFAULT_CAPS, cap!], 'x64', '6.1.0')).has(call!), `${call} with ${cap}`);
  }
  // ptrace comes with kernel 4.8, or with CAP_SYS_PTRACE before it.
  assert.ok(!names(defaultSeccomp(DEFAULT_CAPS, 'x64', '4.4.0')).has('ptrace'));
  assert.ok(names(defaultSeccomp([...DEFAULT_CAPS, 'CAP_SYS_PTRACE'], 'x64', '4.4.0')).has('ptrace'));
});

test('arg-conditioned rules: personality values and socket without AF_VSOCK', () => {
  const p = defaultSeccomp(DEFAULT_CAPS, 'x64', '6.1.0');
  assert.deepEqual(
    rulesFor(p, 'personality').map((r) => r.args![0]!.value),
    [0, 8, 0x20000, 0x20008, 0xffffffff],
  );
  assert.deepEqual(rulesFor(p, 'socket'), [
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
  ]);
});

test('the default profile compiles on every arch berth has tables for, with or without caps', () => {
  for (const arch of ['x64', 'arm64']) {
    for (const caps of [DEFAULT_CAPS, allCaps(40, -1n), []]) {
      const { program } = compileSeccomp(defaultSeccomp(caps, arch, '6.1.0'), arch === 'x64' ? 'SCMP_ARCH_X86_64' : 'SCMP_ARCH_AARCH64');
      assert.ok(program.length > 0 && program.length / 8 <= 4096, `${arch}: ${program.length / 8} instructions`);
    }
  }
});

test('every syscall the profile names is known to some table (no typos)', () => {
  const tables = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64'].map((a) => seccompArch(a).syscalls!);
  // Names only other arches have (arm, s390, ppc, riscv, and old ABIs berth has no table for).
  const elsewhere = new Set([
    'arm_fadvise64_64',
    'arm_sync_file_range',
    'sync_file_range2',
    'breakpoint',
    'cacheflush',
    'set_tls',
    's390_pci_mmio_read',
    's390_pci_mmio_write',
    's390_runtime_instr',
    'riscv_flush_icache',
    'swapcontext',
    'recv',
    'send',
  ]);
  const unknown = DEFAULT_PROFILE.syscalls!.flatMap((s) => s.names ?? []).filter((n) => !elsewhere.has(n) && !tables.some((t) => t.has(n)));
  assert.deepEqual(unknown, []);
});

test('a profile sent by the client: architectures or archMap, name or names, includes', () => {
  const p = resolveProfile(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [
        { name: 'chmod', action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['mount'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_ADMIN'] } },
      ],
    },
    DEFAULT_CAPS,
    { arch: 'x64' },
  )!;
  assert.deepEqual(p, {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      { names: ['mount'], action: 'SCMP_ACT_ERRNO' },
    ],
  });
  assert.equal(resolveProfile({}, DEFAULT_CAPS), null);
  assert.throws(
    () =>
      resolveProfile(
        { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] },
        [],
      ),
    /use either 'architectures' or 'archMap'/,
  );
  assert.throws(
    () => resolveProfile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }] }, []),
    /use either 'name' or 'names'/,
  );
});

test('capabilities: names with or without CAP_, ALL, privileged', () => {
  assert.equal(normalizeCap('net_raw'), 'CAP_NET_RAW');
  assert.equal(normalizeCap('CAP_SYS_ADMIN'), 'CAP_SYS_ADMIN');
  assert.throws(() => normalizeCap('FOO'), /unknown capability: "CAP_FOO"/);
  const all = allCaps(40, -1n);
  assert.deepEqual(resolveCaps({}, all), DEFAULT_CAPS);
  assert.ok(!allCaps(40, (1n << 41n) - 1n - (1n << 24n)).includes('CAP_SYS_RESOURCE'), 'none berthd lacks');
  assert.equal(allCaps(37, -1n).length, 38, 'none the kernel lacks');
  assert.deepEqual(resolveCaps({ Privileged: true }, all), all);
  assert.deepEqual(resolveCaps({ CapDrop: ['ALL'], CapAdd: ['NET_RAW'] }, all), ['CAP_NET_RAW']);
  assert.deepEqual(
    resolveCaps({ CapAdd: ['ALL'], CapDrop: ['CAP_SYS_ADMIN'] }, all),
    all.filter((c) => c !== 'CAP_SYS_ADMIN'),
  );
  assert.deepEqual(resolveCaps({ CapAdd: ['sys_admin'], CapDrop: ['MKNOD', 'chown'] }, all), [
    ...DEFAULT_CAPS.filter((c) => c !== 'CAP_MKNOD' && c !== 'CAP_CHOWN'),
    'CAP_SYS_ADMIN',
  ]);
});

test('SecurityOpt: seccomp, no-new-privileges, and no LSM', () => {
  assert.deepEqual(parseSecurityOpt(['no-new-privileges']), { noNewPrivileges: true, seccomp: 'default' });
  assert.equal(parseSecurityOpt(['no-new-privileges:true']).noNewPrivileges, true);
  assert.equal(parseSecurityOpt(['no-new-privileges=false']).noNewPrivileges, false);
  assert.equal(parseSecurityOpt(['seccomp=unconfined']).seccomp, 'unconfined');
  assert.equal(parseSecurityOpt(['seccomp=builtin']).seccomp, 'default');
  assert.deepEqual(parseSecurityOpt(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']).seccomp, { defaultAction: 'SCMP_ACT_ALLOW' });
  assert.throws(() => parseSecurityOpt(['seccomp=/tmp/profile.json']), /Decoding seccomp profile failed/);
  assert.throws(() => parseSecurityOpt(['no-new-privileges=maybe']), /invalid --security-opt 2/);
  assert.throws(() => parseSecurityOpt(['bogus']), /invalid --security-opt 1/);
  assert.throws(() => parseSecurityOpt(['apparmor=docker-default']), /AppArmor is not supported/);
  assert.throws(() => parseSecurityOpt(['label=type:svirt_t']), /SELinux labels are not supported/);
  assert.doesNotThrow(() => parseSecurityOpt(['apparmor=unconfined', 'label=disable', 'label:disable', 'disable']));
});

function baseSpec(): Spec {
  return {
    ociVersion: '1.2.0',
    process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/', capabilities: {} },
    root: { path: '/r' },
    mounts: [
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] },
    ],
    linux: { maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'], resources: { devices: [{ allow: false, access: 'rwm' }] } },
  };
}

test('applySecurity: defaults, privileged, unconfined, no-new-privileges, read-only root', () => {
  const d = applySecurity(baseSpec(), {}, 'x64');
  assert.deepEqual(d.process!.capabilities!.bounding, DEFAULT_CAPS);
  assert.equal(d.linux!.seccomp!.defaultAction, 'SCMP_ACT_ERRNO');
  assert.deepEqual(d.linux!.maskedPaths, ['/proc/kcore']);
  assert.equal(d.process!.noNewPrivileges, undefined);
  const p = applySecurity(baseSpec(), { Privileged: true }, 'x64');
  assert.equal(p.linux!.seccomp, undefined);
  assert.deepEqual([p.linux!.maskedPaths, p.linux!.readonlyPaths], [[], []]);
  assert.deepEqual(
    p.mounts!.map((m) => m.options),
    [['nosuid'], []],
  );
  assert.deepEqual(p.linux!.resources!.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(p.process!.capabilities!.bounding!.includes('CAP_SYS_ADMIN'));
  assert.equal(applySecurity(baseSpec(), { SecurityOpt: ['seccomp=unconfined'] }, 'x64').linux!.seccomp, undefined);
  assert.equal(applySecurity(baseSpec(), { SecurityOpt: ['no-new-privileges'] }, 'x64').process!.noNewPrivileges, true);
  assert.equal(applySecurity(baseSpec(), { ReadonlyRootfs: true }, 'x64').root!.readonly, true);
  assert.ok(names(applySecurity(baseSpec(), { CapAdd: ['SYS_ADMIN'] }, 'x64').linux!.seccomp!).has('mount'));
});

test("hostDevices: the host's nodes with their numbers, never console or ptmx", () => {
  const devs = hostDevices();
  const nul = devs.find((d) => d.path === '/dev/null');
  if (nul) assert.deepEqual([nul.type, nul.major, nul.minor], ['c', 1, 3]);
  assert.ok(!devs.some((d) => d.path === '/dev/ptmx' || d.path === '/dev/console' || d.path.startsWith('/dev/pts/')));
});

test('daemonSecurityOptions: the builtin seccomp profile where the kernel filters, and always a private cgroupns', () => {
  assert.deepEqual(daemonSecurityOptions({}, true), ['name=seccomp,profile=builtin', 'name=cgroupns']);
  assert.deepEqual(daemonSecurityOptions({}, false), ['name=cgroupns']);
  assert.deepEqual(daemonSecurityOptions({ remapping: true }, true), ['name=seccomp,profile=builtin', 'name=userns', 'name=cgroupns']);
  assert.deepEqual(daemonSecurityOptions({ rootless: true }, true), ['name=seccomp,profile=builtin', 'name=rootless', 'name=cgroupns']);
});
