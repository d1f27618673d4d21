// Brings up `lo` in a container's network namespace, as Docker has it in every mode that makes
// one: through the native binding (a thread that joins the namespace and sets the flag), where
// CNI's loopback plugin was a program started for each container (~40-90 ms of every start
// under load, more than the rest of the network's part for --network none). A binding built
// before that call still runs the plugin.

import { systemError } from '../errors.js';
import { loopbackUp as setLoopbackUp } from '../native/binding.js';
import { execPlugin } from './cni.js';

/** `netns`: the path of the namespace (its pin). */
export async function loopbackUp(containerId: string, netns: string): Promise<void> {
  try {
    if (await setLoopbackUp(netns)) return;
    await execPlugin('ADD', { cniVersion: '1.0.0', name: 'berth-loopback', type: 'loopback' }, { containerId, netns, ifName: 'lo' });
  } catch (e) {
    throw systemError(`bring up lo in the container's network namespace: ${(e as Error).message}`, e);
  }
}
