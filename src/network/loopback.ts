// Brings up `lo` in a container's network namespace, as Docker has it in every mode that makes
// one, through CNI's own `loopback` plugin.

import { systemError } from '../errors.js';
import { execPlugin } from './cni.js';

/** `netns`: the path of the namespace (its pin). */
export async function loopbackUp(containerId: string, netns: string): Promise<void> {
  try {
    await execPlugin('ADD', { cniVersion: '1.0.0', name: 'berth-loopback', type: 'loopback' }, { containerId, netns, ifName: 'lo' });
  } catch (e) {
    throw systemError(`bring up lo in the container's network namespace: ${(e as Error).message}`, e);
  }
}
