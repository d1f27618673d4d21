// `checkpoint` and `restore` through CRIU (Debian's `criu`), as runc does: the container's
// process tree is dumped to an image directory and later restored into a fresh container of
// the same bundle. Bind mounts are CRIU "external" mounts, mapped back to their sources on
// restore. CRIU's own reason reaches the caller as one line when it refuses.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../common/atomic.js';
import { conflict, errorMessage, notFound, systemError, unsupported, withCleanup } from '../errors.js';
import type { Spec } from '../oci/runtime-spec.js';
import { openCgroups } from './cgroups/manager.js';
import { attachDeviceProgram, openContainer } from './container.js';
import { cgroupResources, loadSpec, teardown } from './create.js';
import { parseMountOptions } from './mount-options.js';
import { rootfsPath } from './plan.js';
import { pidStartTime, StateDir, type ContainerRecord } from './state.js';

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

/** Runs criu (a child, waited for without blocking); on failure, the errors CRIU logged become the message. */
async function criu(bin: string, verb: string, args: string[], logDir: string): Promise<void> {
  const log = join(logDir, `${verb}.log`);
  const r = await new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(bin, [verb, ...args, '-v4', '-o', log], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(notFound(`criu ${verb}: ${e.code === 'ENOENT' ? `${bin} not found (install Debian's criu)` : e.message}`)),
    );
    child.on('close', (status) => resolve({ status, stderr }));
  });
  if (r.status === 0) return;
  let reason = r.stderr.trim().split('\n').pop() ?? '';
  try {
    const errors = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => /Error \(/.test(l));
    if (errors.length) reason = errors.map((l) => l.replace(/^\(\d+\.\d+\)\s*/, '')).join('; ');
  } catch (e) {
    reason ||= `(no log: ${errorMessage(e)})`; // keep stderr's last line
  }
  throw systemError(`criu ${verb} failed: ${reason || `exit status ${r.status}`} (log: ${log})`);
}

export async function checkpoint(root: string, id: string, o: CriuOptions): Promise<void> {
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
  await criu(o.criu ?? 'criu', 'dump', [...args, ...criuFlags(o)], work);
  if (o.leaveRunning) return;
  const errors = await teardown(c.dirs, c.rec, c.cgroups, 0);
  if (errors.length) throw withCleanup(systemError(`checkpoint ${id}: dumped, but the container was not all taken apart`), errors);
}

/** Restores detached: the restored process is CRIU's child, not ours, so its exit code cannot be passed on. */
export async function restore(
  root: string,
  id: string,
  bundle: string,
  o: CriuOptions & { pidFile?: string; detach?: boolean },
): Promise<void> {
  if (!o.detach) throw unsupported('restore without --detach is not supported by berth-runtime: the restored process is not its child');
  const dirs = new StateDir(root);
  const spec = loadSpec(resolve(bundle));
  const images = resolve(o.imagePath);
  if (!existsSync(images)) throw notFound(`checkpoint image ${images}: no such file or directory`);
  const work = resolve(o.workPath ?? images);
  const cgroups = openCgroups(spec.linux?.cgroupsPath ?? '', id, { attachDeviceProgram });
  await dirs.claim(id);
  const record: ContainerRecord = {
    id,
    pid: 0,
    pidStartTime: '',
    bundle: resolve(bundle),
    rootfs: rootfsPath(resolve(bundle), spec),
    created: new Date().toISOString(),
    config: spec,
    cgroup: { layout: cgroups.layout, paths: cgroups.paths },
  };
  try {
    await cgroups.create(cgroupResources(spec));
    const pidFile = join(work, 'restore.pid');
    const args = [
      '--images-dir',
      images,
      '--work-dir',
      work,
      '--root',
      record.rootfs,
      '--manage-cgroups',
      '--restore-detached',
      '--pidfile',
      pidFile,
    ];
    const unified = cgroups.paths[''] ?? Object.values(cgroups.paths)[0];
    if (unified) args.push('--cgroup-root', unified.replace(/^\/sys\/fs\/cgroup\/[^/]+/, ''));
    for (const m of externalMounts(spec)) args.push('--external', `mnt[${m.dest}]:${m.source}`);
    await criu(o.criu ?? 'criu', 'restore', [...args, ...criuFlags(o)], work);
    record.pid = Number(readFileSync(pidFile, 'utf8').trim());
    record.pidStartTime = pidStartTime(record.pid) ?? '';
    await cgroups.addProcess(record.pid);
    await dirs.save(record);
    if (o.pidFile) writeFileAtomicSync(resolve(o.pidFile), String(record.pid), { durable: false });
  } catch (e) {
    throw withCleanup(e, await teardown(dirs, record, cgroups, record.pid));
  }
}
