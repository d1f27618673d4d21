// A container as later commands see it: its saved record, its cgroups reopened, and its
// status derived from the kernel. Every verb after `create` starts here.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
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
export function attachDeviceProgram(dir: string, program: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(helperPath(), ['bpf-devices', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    const stderr: Buffer[] = [];
    child.stderr!.on('data', (b: Buffer) => stderr.push(b));
    child.stdin!.on('error', () => { /* the helper failed before reading: its exit says why */ });
    child.stdin!.end(program);
    child.on('error', (e) => reject(systemError(`attach device filter to ${dir}: ${e.message}`, e)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      reject(systemError(Buffer.concat(stderr).toString().trim() || `attach device filter to ${dir} failed: ${signal ?? `exit status ${code}`}`));
    });
  });
}

export function openContainer(root: string, id: string): Container {
  const dirs = new StateDir(root);
  const rec = dirs.load(id);
  const cgroups = reopenCgroups(rec.cgroup.layout, rec.cgroup.paths, { attachDeviceProgram });
  const status = deriveStatus(rec, existsSync(dirs.fifo(id)), () => {
    try { return cgroups.frozen(); } catch { return false; }
  });
  return { rec, cgroups, status, state: ociState(rec, status), dirs };
}
