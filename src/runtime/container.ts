// A container as later commands see it: its saved record, its cgroups reopened, and its
// status derived from the kernel. Every verb after `create` starts here.
import { existsSync } from 'node:fs';
import { runChild } from '../native/child.js';
import { systemError } from '../errors.js';
import { reopenCgroups, type CgroupManager } from './cgroups/manager.js';
import { deriveStatus, ociState, StateDir, type ContainerRecord } from './state.js';
import type { State, Status } from '../oci/runtime-spec.js';
import { helperPath } from './native/helper.js';

export interface Container {
  rec: ContainerRecord;
  cgroups: CgroupManager;
  status: Status;
  state: State;
  dirs: StateDir;
}

/** Attaches a v2 device filter through the native helper (Node has no bpf(2)), off the event loop. */
export async function attachDeviceProgram(dir: string, program: Buffer): Promise<void> {
  const r = await runChild(helperPath(), ['bpf-devices', dir], { input: program }).catch((e: Error) => {
    throw systemError(`attach device filter to ${dir}: ${e.message}`, e);
  });
  if (r.code !== 0) throw systemError(r.stderr.trim() || `attach device filter to ${dir} failed: ${r.signal ?? `exit status ${r.code}`}`);
}

export function openContainer(root: string, id: string): Container {
  const dirs = new StateDir(root);
  const rec = dirs.load(id);
  const cgroups = reopenCgroups(rec.cgroup.layout, rec.cgroup.paths, { attachDeviceProgram, initPid: rec.pid });
  const status = deriveStatus(rec, existsSync(dirs.fifo(id)), () => {
    try {
      return cgroups.frozen();
    } catch {
      return false;
    }
  });
  return { rec, cgroups, status, state: ociState(rec, status), dirs };
}
