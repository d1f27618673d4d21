// Capability names (the spec's CAP_* strings) to bit numbers and to the hex masks the native
// helper applies. A name Linux does not define, or one this kernel lacks, is left out and
// named, so the caller can warn as runc does.
import { readFileSync } from 'node:fs';
import { invalid } from '../errors.js';
import type { Capabilities } from '../oci/runtime-spec.js';

export const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

let lastCap: number | undefined;
export function kernelLastCap(): number {
  if (lastCap === undefined) {
    try {
      lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    } catch {
      lastCap = CAPABILITIES.length - 1;
    }
  }
  return lastCap;
}

/** The mask of `names`; those unknown or above `last` go to `ignored`. */
export function capMask(names: string[] | undefined, last = kernelLastCap(), ignored: string[] = []): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const bit = CAPABILITIES.indexOf(name.toUpperCase() as (typeof CAPABILITIES)[number]);
    if (bit >= 0 && bit <= last) mask |= 1n << BigInt(bit);
    else if (!ignored.includes(name)) ignored.push(name);
  }
  return mask;
}

const SETS = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;

/** The five masks in the order native/process.c reads them, and the names left out (sorted, as runc lists them). */
export function capSets(caps: Capabilities, last = kernelLastCap()): { masks: string[]; ignored: string[] } {
  if (typeof caps !== 'object' || caps === null || Array.isArray(caps)) throw invalid('process.capabilities must be an object');
  for (const set of SETS) {
    const names: unknown = caps[set];
    if (names !== undefined && (!Array.isArray(names) || names.some((n) => typeof n !== 'string')))
      throw invalid(`process.capabilities.${set} must be an array of strings`);
  }
  const ignored: string[] = [];
  const masks = SETS.map((s) => capMask(caps[s], last, ignored).toString(16));
  return { masks, ignored: ignored.sort() };
}
