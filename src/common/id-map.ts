// A user namespace's id maps (OCI's linux.uidMappings, /proc/PID/uid_map's lines) and the
// shift of ids across them: what a remapped container's files are on the host and inside.

import { invalid } from '../errors.js';

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** The ids a user namespace shows for a host id it does not map (the kernel's overflow ids). */
export const OVERFLOW_ID = 65534;

/** The host id container id `id` maps to; undefined when it is not mapped. */
export function hostId(maps: IdMapping[], id: number): number | undefined {
  const m = maps.find((x) => id >= x.containerID && id < x.containerID + x.size);
  return m && m.hostID + id - m.containerID;
}

/** The container id host id `id` shows as; undefined when it is not mapped. */
export function containerId(maps: IdMapping[], id: number): number | undefined {
  const m = maps.find((x) => id >= x.hostID && id < x.hostID + x.size);
  return m && m.containerID + id - m.hostID;
}

/** A pair of uid and gid maps. */
export interface IdMaps {
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
}

export type IdShift = (ids: { uid: number; gid: number }) => { uid: number; gid: number };

/** Host ids to the container's, as the kernel shows them inside (unmapped ones as the overflow id). */
export function toContainerIds(maps: IdMaps): IdShift {
  return ({ uid, gid }) => ({
    uid: containerId(maps.uidMappings, uid) ?? OVERFLOW_ID,
    gid: containerId(maps.gidMappings, gid) ?? OVERFLOW_ID,
  });
}

/** The container's ids to the host's; one the namespace does not map is an error, as a chown inside it is. */
export function toHostIds(maps: IdMaps): IdShift {
  return ({ uid, gid }) => {
    const u = hostId(maps.uidMappings, uid);
    const g = hostId(maps.gidMappings, gid);
    if (u === undefined || g === undefined) throw invalid(`ids ${uid}:${gid} are not mapped in the container's user namespace`);
    return { uid: u, gid: g };
  };
}

/** The maps as /proc/PID/uid_map's text. */
export function mapText(maps: IdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}
