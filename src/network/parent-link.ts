// The host links a macvlan or ipvlan network may make for its parent, as dockerd's drivers make
// them: a dummy link (no parent given) or a VLAN sub-interface `IF.VID` of an existing IF, made
// up through rtnetlink in the binding, and deleted with the network that made it. Their
// failures are worded as dockerd's (Go's words for the kernel's errno).

import { constants } from 'node:os';
import { errorMessage, systemError } from '../errors.js';
import { linkAdd, linkDelete } from '../native/binding.js';

/** Go's syscall.Errno text for the errors a link's creation meets, which dockerd's messages carry. */
const GO_ERRNO: Record<string, string> = {
  EOPNOTSUPP: 'operation not supported',
  ENOTSUP: 'operation not supported',
  EEXIST: 'file exists',
  ENODEV: 'no such device',
  EINVAL: 'invalid argument',
  EBUSY: 'device or resource busy',
  EPERM: 'operation not permitted',
  ERANGE: 'numerical result out of range',
};

/** The kernel's error of a binding call in Go's words (as dockerd shows it), else the binding's message. */
export function kernelWords(e: unknown): string {
  const n = -Number((e as { errno?: number }).errno);
  const name = Object.entries(constants.errno).find(([, v]) => v === n)?.[0];
  return (name && GO_ERRNO[name]) ?? errorMessage(e);
}

/** What a network's parent needs made (engine/networks/sublink.ts plans it). */
export type ParentLink = { kind: 'dummy'; name: string } | { kind: 'vlan'; name: string; master: string; vlanId: number };

/** Makes the parent link, up; dockerd's words on failure (a dummy's: the kernel's alone). */
export async function addParentLink(p: ParentLink): Promise<void> {
  try {
    if (p.kind === 'dummy') await linkAdd('dummy', p.name);
    else await linkAdd('vlan', p.name, p.master, p.vlanId);
  } catch (e) {
    throw systemError(p.kind === 'dummy' ? kernelWords(e) : `failed to create ${p.name} vlan link: ${kernelWords(e)}`, e as Error);
  }
}

/** Deletes a parent link the network made; none there is no error. */
export async function deleteParentLink(name: string): Promise<void> {
  await linkDelete(name);
}
