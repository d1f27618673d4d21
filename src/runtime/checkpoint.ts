// `checkpoint` and `restore` through CRIU (Debian's `criu`), as runc does: the container's
// process tree is dumped to an image directory and later restored into a fresh container of
// the same bundle. Bind mounts are CRIU "external" mounts, mapped back to their sources on
// restore. CRIU's own reason reaches the caller as one line when it refuses.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { conflict, notFound, systemError, unsupported } from '../errors.js';
import type { Spec } from '../oci/runtime-spec.js';
import { openCgroups } from './cgroups/manager.js';
import { attachDeviceProgram, openContainer } from './container.js';
import { cgroupResources, loadSpec, teardown } from './create.js';
import { parseMountOptions } from './mount-options.js';
import { rootfsPath } from './plan.js';
import { pidStartTime, StateDir, writeFileAtomic, type ContainerRecord } from './state.js';

export interface CriuOptions {
  criu?: string;
  imagePath: string;
  workPath?: string;
  leaveRunning?: boolean;
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
}

/** Destinations of the config's bind mounts and masked files: CRIU cannot dump them itself. */
export function externalMounts(spec: Spec): { dest: string; source: string }[] {
  const out = (spec.mounts ?? [])
    .filter((m) => m.type === 'bind' || parseMountOptions(m.options).bind)
    .map((m) => ({ dest: m.destination, source: m.source ?? '' }));
  for (const p of spec.linux?.maskedPaths ?? []) out.push({ dest: p, source: '/dev/null' });
  return out;
}

function criuFlags(o: CriuOptions): string[] {
  return [
    ...(o.tcpEstablished ? ['--tcp-established'] : []),
    ...(o.extUnixSk ? ['--ext-unix-sk'] : []),
    ...(o.shellJob ? ['--shell-job'] : []),
    ...(o.fileLocks ? ['--file-locks'] : []),
  ];
}

/** Runs criu; on failure, the last error CRIU logged becomes the message. */
function criu(bin: string, verb: string, args: string[], logDir: string): void {
  const log = join(logDir, `${verb}.log`);
  const r = spawnSync(bin, [verb, ...args, '-v4', '-o', log], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw notFound(`criu ${verb}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `${bin} not found (install Debian's criu)` : r.error.message}`);
  if (r.status === 0) return;
  let reason = r.stderr.trim().split('\n').pop() ?? '';
  try {
    const errors = readFileSync(log, 'utf8').split('\n').filter((l) => /Error \(/.test(l));
    if (errors.length) reason = errors.map((l) => l.replace(/^\(\d+\.\d+\)\s*/, '')).join('; ');
  } catch { /* no log: keep stderr */ }
  throw systemError(`criu ${verb} failed: ${reason || `exit status ${r.status}`} (log: ${log})`);
}

export function checkpoint(root: string, id: string, o: CriuOptions): void {
  const c = openContainer(root, id);
  if (c.status !== 'running' && c.status !== 'paused') throw conflict(`cannot checkpoint a container that is ${c.status}`);
  const images = resolve(o.imagePath);
  const work = resolve(o.workPath ?? images);
  mkdirSync(images, { recursive: true });
  mkdirSync(work, { recursive: true });
  const args = ['--tree', String(c.rec.pid), '--images-dir', images, '--work-dir', work, '--root', c.rec.rootfs, '--manage-cgroups'];
  if (c.rec.cgroup.paths.freezer) args.push('--freeze-cgroup', c.rec.cgroup.paths.freezer);
  for (const m of externalMounts(c.rec.config)) args.push('--external', `mnt[${m.dest}]:${m.dest}`);
  if (o.leaveRunning) args.push('--leave-running');
  criu(o.criu ?? 'criu', 'dump', [...args, ...criuFlags(o)], work);
  if (!o.leaveRunning) teardown(c.dirs, c.rec, c.cgroups, 0);
}

/** Restores detached: the restored process is CRIU's child, not ours, so its exit code cannot be passed on. */
export async function restore(root: string, id: string, bundle: string, o: CriuOptions & { pidFile?: string; detach?: boolean }): Promise<void> {
  if (!o.detach) throw unsupported('restore without --detach is not supported by berth-runtime: the restored process is not its child');
  const dirs = new StateDir(root);
  const spec = loadSpec(resolve(bundle));
  const images = resolve(o.imagePath);
  if (!existsSync(images)) throw notFound(`checkpoint image ${images}: no such file or directory`);
  const work = resolve(o.workPath ?? images);
  const cgroups = openCgroups(spec.linux?.cgroupsPath ?? '', id, { attachDeviceProgram });
  dirs.claim(id);
  const record: ContainerRecord = {
    id, pid: 0, pidStartTime: '', bundle: resolve(bundle), rootfs: rootfsPath(resolve(bundle), spec),
    created: new Date().toISOString(), config: spec, cgroup: { layout: cgroups.layout, paths: cgroups.paths },
  };
  try {
    cgroups.create(cgroupResources(spec));
    const pidFile = join(work, 'restore.pid');
    const args = ['--images-dir', images, '--work-dir', work, '--root', record.rootfs, '--manage-cgroups',
      '--restore-detached', '--pidfile', pidFile];
    const unified = cgroups.paths[''] ?? Object.values(cgroups.paths)[0];
    if (unified) args.push('--cgroup-root', unified.replace(/^\/sys\/fs\/cgroup\/[^/]+/, ''));
    for (const m of externalMounts(spec)) args.push('--external', `mnt[${m.dest}]:${m.source}`);
    criu(o.criu ?? 'criu', 'restore', [...args, ...criuFlags(o)], work);
    record.pid = Number(readFileSync(pidFile, 'utf8').trim());
    record.pidStartTime = pidStartTime(record.pid) ?? '';
    await cgroups.addProcess(record.pid);
    dirs.save(record);
    if (o.pidFile) writeFileAtomic(resolve(o.pidFile), String(record.pid));
  } catch (e) {
    teardown(dirs, record, cgroups, record.pid);
    throw e;
  }
}
