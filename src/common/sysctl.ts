// Which kernel namespace a sysctl belongs to, as runc lists them: a sysctl may only be set in a
// container that has that namespace of its own. The runtime, the engine and the CLI's flag
// check all ask, each with its own rule on top.

/** The IPC namespace's kernel.* sysctls (fs.mqueue.* is IPC's too). */
export const IPC_SYSCTLS: ReadonlySet<string> = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

export function sysctlNamespace(key: string): 'ipc' | 'network' | 'uts' | undefined {
  if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) return 'ipc';
  if (key.startsWith('net.')) return 'network';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  return undefined;
}
