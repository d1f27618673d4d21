// The CRI's port forwarding: a connection to a port on a pod's localhost, made inside the pod's
// network namespace (its infra container's, which every member shares), whatever the pod's
// network and whether the port is published.

import type { Duplex } from 'node:stream';
import { conflict, invalid } from '../../errors.js';
import { dialInNetns } from '../../runtime/native/netns-dial.js';
import type { ContainerRecord } from '../types.js';

/** `infra`: the pod's infra container, if it has one now. */
export function podPortForward(podId: string, infra: ContainerRecord | undefined, port: number): Duplex {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`invalid port ${port}: must be 1-65535`);
  if (!infra || infra.State.Status !== 'running' || !infra.State.Pid) throw conflict(`pod ${podId} is not running`);
  return dialInNetns(`/proc/${infra.State.Pid}/ns/net`, port);
}
