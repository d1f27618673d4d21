// `features`: what this runtime supports, in the OCI features document's shape.
import { CAPABILITIES, kernelLastCap } from './capabilities.js';
import { RECURSIVE_OPTIONS } from './mount-options.js';
import { OCI_VERSION } from '../oci/runtime-spec.js';
import { detectLayout } from './cgroups/manager.js';
import { isKind } from '../errors.js';

const ACTIONS = [
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_LOG',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_TRAP',
];
const OPERATORS = ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'];
const ARCHITECTURES = ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64'];
const FLAGS = [
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];

export function features(): string {
  let layout = 'unknown';
  try {
    layout = detectLayout().layout;
  } catch (e) {
    // No cgroup file system mounted: features still answers, with the layout unknown.
    if (!isKind(e, 'not-found')) throw e;
  }
  const doc = {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [
      'async',
      'atime',
      'bind',
      'defaults',
      'dev',
      'diratime',
      'dirsync',
      'exec',
      'iversion',
      'lazytime',
      'loud',
      'mand',
      'noatime',
      'nodev',
      'nodiratime',
      'noexec',
      'noiversion',
      'nolazytime',
      'nomand',
      'norelatime',
      'nostrictatime',
      'nosuid',
      'nosymfollow',
      'private',
      'rbind',
      'relatime',
      'remount',
      'ro',
      'rprivate',
      'rshared',
      'rslave',
      'runbindable',
      'rw',
      'shared',
      'silent',
      'slave',
      'strictatime',
      'suid',
      'symfollow',
      'sync',
      'unbindable',
      ...RECURSIVE_OPTIONS,
    ].sort(),
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: CAPABILITIES.slice(0, kernelLastCap() + 1),
      cgroup: { v1: layout !== 'v2', v2: layout !== 'v1', systemd: false, systemdUser: false, rdma: false },
      seccomp: { enabled: true, actions: ACTIONS, operators: OPERATORS, archs: ARCHITECTURES, knownFlags: FLAGS, supportedFlags: FLAGS },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'org.opencontainers.runc.checkpoint.enabled': 'false', 'io.github.berth.runtime': 'berth-runtime' },
  };
  return JSON.stringify(doc, null, '    ') + '\n';
}
