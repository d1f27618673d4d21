// `create` and `run`: read the bundle, make the cgroups, start the helper with the plan, place
// the process in its cgroups, run the runtime's hooks, and record the container. A failure at
// any step takes apart what was made, with the same code `delete` uses, and a failure of that
// cleanup is returned beside the error that caused it. Every wait is a timer: berthd calls this.
import { readFileSync, statSync } from 'node:fs';
import { chmod, chown, rmdir } from 'node:fs/promises';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { writeFileAtomicSync } from '../common/atomic.js';
import { setTimeout as delay } from 'node:timers/promises';
import { BerthError, errorMessage, invalid, notFound, systemError, withCleanup } from '../errors.js';
import type { IDMapping, LinuxDeviceCgroup, LinuxResources, Mount, Spec } from '../oci/runtime-spec.js';
import { openCgroups, type CgroupManager } from './cgroups/manager.js';
import { attachDeviceProgram } from './container.js';
import { runHooks } from './hooks.js';
import { MS, parseMountOptions } from './mount-options.js';
import { launch, type MonitorOptions } from './native/helper.js';
import { Op, rec, type Record_ } from './native/protocol.js';
import { buildPlan, rootfsPath } from './plan.js';
import { mountIdsUnder, unmountAddedUnder } from './shared-mounts.js';
import { checkId, ociState, pidStartTime, StateDir, type ContainerRecord } from './state.js';
import { debug } from './debug.js';
import type { RuntimeLogger } from './log.js';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  preserveFds?: number;
  /** Run under a per-container monitor that owns the stdio, the log and the exit status (berthd). */
  monitor?: MonitorOptions;
  /** Where warnings go (a failed poststart hook, a setup failure `run` reports and goes on from). */
  log: RuntimeLogger;
  /** Told the container's pid once its process exists, before the cgroups, hooks and mounts (Runtime's CreateRequest). */
  onPid?: (pid: number) => void;
}

export function loadSpec(bundle: string): Spec {
  const path = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`${path}: no such file or directory`);
    throw e;
  }
  let spec: Spec;
  try {
    spec = JSON.parse(text) as Spec;
  } catch (e) {
    throw invalid(`${path}: ${errorMessage(e)}`);
  }
  if (typeof spec !== 'object' || !spec || typeof spec.ociVersion !== 'string') throw invalid(`${path}: ociVersion is missing`);
  if (!/^1\./.test(spec.ociVersion)) throw invalid(`${path}: unsupported ociVersion ${spec.ociVersion}`);
  return spec;
}

/** The records that put the container's own cgroups at a `cgroup` mount's destination. */
export function cgroupMountRecords(cgroups: CgroupManager, m: Mount, newCgroupNs: boolean): Record_[] {
  const o = parseMountOptions(m.options);
  const flags = (o.flags | MS.NOSUID | MS.NODEV | MS.NOEXEC) & ~MS.BIND & ~MS.REC;
  if (cgroups.layout === 'v2') {
    return newCgroupNs
      ? // Late: mounted once the process is in its own cgroup namespace, which is then its root.
        [rec(Op.Mount, 'cgroup', m.destination, 'cgroup2', flags, o.propagation, '', 2)]
      : [rec(Op.Mount, cgroups.paths[''], m.destination, '', flags | MS.BIND | MS.REC, o.propagation, '', 1)];
  }
  // v1 and hybrid: a tmpfs holding one bind of the container's cgroup per hierarchy.
  const base = flags & ~MS.RDONLY;
  const out = [rec(Op.Mount, 'tmpfs', m.destination, 'tmpfs', base, 0, 'mode=755', 0)];
  for (const [key, dir] of Object.entries(cgroups.paths)) {
    const name = key === '' ? 'unified' : key.replace(/^name=/, '');
    out.push(rec(Op.Mount, dir, posix.join(m.destination, name), '', flags | MS.BIND, 0, '', 1));
  }
  if (flags & MS.RDONLY) out.push(rec(Op.Mount, '', m.destination, '', base | MS.REMOUNT | MS.RDONLY, 0, '', 0));
  return out;
}

export interface Created {
  rec: ContainerRecord;
  dirs: StateDir;
  cgroups: CgroupManager;
  helper?: import('node:child_process').ChildProcess;
  exit: Promise<number>;
  done: Promise<void>;
}

// What every container may use whatever its config says, as runc allows: mknod of any node,
// the default devices, ptys and tun. Rules come after the config's, so they win.
const ALLOWED_DEVICES: LinuxDeviceCgroup[] = [
  { allow: true, type: 'c', major: null, minor: null, access: 'm' },
  { allow: true, type: 'b', major: null, minor: null, access: 'm' },
  ...(
    [
      [1, 3],
      [1, 5],
      [1, 7],
      [1, 8],
      [1, 9],
      [5, 0],
      [5, 2],
      [10, 200],
    ] as const
  ).map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' },
];

/**
 * The cgroup resources of a spec, with the device rules a container always needs. A node in
 * `linux.devices` is allowed only as `resources.devices` says, as runc does: dockerd's
 * `--device …:r` gives a read-only node.
 */
export function cgroupResources(spec: Spec): LinuxResources {
  const r = spec.linux?.resources ?? {};
  return { ...r, devices: [...(r.devices ?? []), ...ALLOWED_DEVICES] };
}

type Mode = 'create' | 'run-foreground' | 'run-detached';

async function launchContainer(opts: CreateOptions, mode: Mode): Promise<Created> {
  const dirs = new StateDir(opts.root);
  checkId(opts.id); // before the id names a cgroup: runc's message for a bad id
  const bundle = resolve(opts.bundle);
  const spec = loadSpec(bundle);
  const rootfs = rootfsPath(bundle, spec);
  try {
    if (!statSync(rootfs).isDirectory()) throw invalid(`rootfs ${rootfs} is not a directory`);
  } catch (e) {
    if (e instanceof BerthError) throw e;
    throw notFound(`rootfs ${rootfs}: no such file or directory`);
  }
  debug('spec loaded');
  const seccomp = spec.linux?.seccomp ? (await import('./seccomp/compile.js')).compileSeccompCached(spec.linux.seccomp) : undefined;
  const cgroups = openCgroups(spec.linux?.cgroupsPath ?? '', opts.id, { attachDeviceProgram });
  const newCgroupNs = (spec.linux?.namespaces ?? []).some((n) => n.type === 'cgroup' && !n.path);
  debug('cgroups opened');
  const sharesMountNs = !(spec.linux?.namespaces ?? []).some((n) => n.type === 'mount');
  const mountsBefore = sharesMountNs ? await mountIdsUnder(rootfs) : undefined;
  await dirs.claim(opts.id);
  const record: ContainerRecord = {
    id: opts.id,
    pid: 0,
    pidStartTime: '',
    bundle,
    rootfs,
    created: new Date().toISOString(),
    config: spec,
    cgroup: { layout: cgroups.layout, paths: cgroups.paths },
    ...(mountsBefore ? { mountsBefore } : {}),
  };
  let pid = 0;
  try {
    // Saved at once (pid 0: stopped), so a caller killed from here on leaves a state that
    // `delete --force` opens and takes apart — cgroups and any process in them included —
    // rather than a bare folder that blocks the id ("container with id exists").
    await dirs.save(record);
    const plan = buildPlan({
      mode: mode === 'create' ? 'create' : 'run',
      foreground: mode === 'run-foreground',
      spec,
      rootfs,
      seccomp,
      consoleSocket: opts.monitor?.consoleSocket ?? opts.consoleSocket,
      execFifo: mode === 'create' ? dirs.fifo(opts.id) : undefined,
      preserveFds: opts.preserveFds,
      noPivot: opts.noPivot,
      cgroupMount: (m) => cgroupMountRecords(cgroups, m, newCgroupNs),
      warn: (m) => opts.log('warn', m),
    });
    debug('plan built');
    await cgroups.create(cgroupResources(spec));
    debug('cgroups created');
    const launched = await launch({
      plan,
      preserveFds: opts.preserveFds,
      monitor: opts.monitor,
      onPid: async (p) => {
        pid = p;
        debug(`pid ${p}`);
        opts.onPid?.(p);
        await cgroups.addProcess(p);
        debug('cgroups joined');
        record.pid = p;
        record.pidStartTime = pidStartTime(p) ?? '';
        if (mode === 'create') await openFifoToContainerRoot(dirs.fifo(opts.id), spec);
        await dirs.save(record);
        const state = ociState(record, 'creating');
        await runHooks('prestart', spec.hooks?.prestart, state);
        await runHooks('createRuntime', spec.hooks?.createRuntime, state);
        return JSON.stringify(state);
      },
    });
    debug('ready');
    // (The record was saved whole in onPid, before the hooks: nothing has changed since.)
    if (opts.pidFile) writeFileAtomicSync(resolve(opts.pidFile), String(launched.pid), { durable: false });
    return { rec: record, dirs, cgroups, helper: launched.helper, exit: launched.exit, done: launched.done };
  } catch (e) {
    throw withCleanup(e, await teardown(dirs, record, cgroups, pid));
  }
}

/**
 * The exec fifo is made by the helper under its umask (0600, root's): the container's process
 * opens it for writing once it is the container's user, which in a user namespace is not the
 * host's root. As runc: mode 0622, owned by the host ids of the container's root.
 */
async function openFifoToContainerRoot(fifo: string, spec: Spec): Promise<void> {
  await chmod(fifo, 0o622);
  const host = (maps: IDMapping[] | undefined) => {
    const m = maps?.find((m) => m.containerID <= 0 && 0 < m.containerID + m.size);
    return m && m.hostID - m.containerID;
  };
  const uid = host(spec.linux?.uidMappings),
    gid = host(spec.linux?.gidMappings);
  if (uid !== undefined || gid !== undefined) await chown(fifo, uid ?? 0, gid ?? 0);
}

/**
 * Takes apart what create made: the processes (SIGKILL), the cgroups, the state folder. Waits
 * up to 2 s, on timers, for the processes to go. Returns what failed (empty when all went).
 */
export async function teardown(dirs: StateDir, record: ContainerRecord, cgroups: CgroupManager, pid: number): Promise<Error[]> {
  const errors: Error[] = [];
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') errors.push(systemError(`kill ${pid}: ${errorMessage(e)}`, e));
    }
  }
  // When the container's init has exited and it had its own pid namespace, the kernel has
  // killed everything else in it: no need to look.
  const ownPidNs = (record.config.linux?.namespaces ?? []).some((n) => n.type === 'pid' && !n.path);
  // With no pid recorded (a create cut short) whatever reached the cgroups is looked for too.
  if (pid > 0 || !ownPidNs || record.pid === 0) {
    try {
      if (cgroups.pids().length > 0) await cgroups.kill();
      for (let i = 0; i < 400 && ((pid > 0 && pidStartTime(pid) !== undefined) || cgroups.pids().length > 0); i++)
        await delay(i < 20 ? 1 : 5);
    } catch (e) {
      errors.push(e as Error);
    }
  }
  if (record.mountsBefore) errors.push(...(await unmountAddedUnder(record.rootfs, record.mountsBefore)));
  try {
    await cgroups.destroy();
  } catch (e) {
    errors.push(e as Error);
  }
  // berth's default parent (/berth/<id>) goes with its last container; a busy one stays.
  for (const dir of new Set(Object.values(cgroups.paths).map(dirname))) {
    if (basename(dir) !== 'berth') continue;
    try {
      await rmdir(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EBUSY' && code !== 'ENOENT') errors.push(systemError(`rmdir ${dir}: ${errorMessage(e)}`, e));
    }
  }
  try {
    await dirs.remove(record.id);
  } catch (e) {
    errors.push(e as Error);
  }
  return errors;
}

/**
 * `delete`'s work: teardown (killing `pid` first if it runs), then the poststop hooks, whose
 * failures are warnings (the spec: the runtime logs them and goes on). Throws what teardown
 * could not take apart.
 */
export async function removeContainer(
  dirs: StateDir,
  record: ContainerRecord,
  cgroups: CgroupManager,
  pid: number,
  log: RuntimeLogger,
): Promise<void> {
  const errors = await teardown(dirs, record, cgroups, pid);
  try {
    await runHooks('poststop', record.config.hooks?.poststop, ociState(record, 'stopped'));
  } catch (e) {
    log('warn', errorMessage(e));
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length) throw systemError(`delete ${record.id}: ${errors.map(errorMessage).join('; ')}`, new AggregateError(errors));
}

/** Returns the container's pid (its init, waiting on the exec fifo for `start`). */
export async function create(opts: CreateOptions): Promise<number> {
  return (await launchContainer(opts, 'create')).rec.pid;
}

/** `run`: create and start; without `detach`, wait for the process and delete the container. */
export async function run(opts: CreateOptions & { detach?: boolean }): Promise<number> {
  if (opts.detach) {
    const c = await launchContainer(opts, 'run-detached');
    // A failure after setup (exec format error, setuid): nothing of the container stays.
    await c.done.catch(async (e: Error) => {
      throw withCleanup(e, await teardown(c.dirs, c.rec, c.cgroups, c.rec.pid));
    });
    await runPoststart(c.rec, opts.log);
    return 0;
  }
  // A terminal's SIGINT and SIGQUIT reach the helper too (same process group), and it passes
  // them on; signals sent to this process alone are passed to the helper. The process can run
  // (and be seen running) before launchContainer returns the helper: what comes meanwhile is
  // held and passed on then, not dropped.
  let helper: Created['helper'] | undefined;
  const held: NodeJS.Signals[] = [];
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const).map(
    (s) =>
      [
        s,
        () => {
          if (s === 'SIGINT' || s === 'SIGQUIT') return;
          if (helper) helper.kill(s);
          else held.push(s);
        },
      ] as const,
  );
  for (const [s, h] of handlers) process.on(s, h);
  const c = await launchContainer(opts, 'run-foreground');
  helper = c.helper;
  for (const s of held.splice(0)) helper?.kill(s);
  try {
    // A failure after setup (chdir, setuid, exec) comes over the sync socket: say it.
    await c.done.catch((e: Error) => {
      opts.log('error', errorMessage(e));
    });
    await runPoststart(c.rec, opts.log);
    const code = await c.exit;
    debug('exited');
    return code;
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
    await removeContainer(c.dirs, c.rec, c.cgroups, 0, opts.log);
    debug('deleted');
  }
}

/** The poststart hooks; a failure is a warning, as the spec has it (the container runs). */
export async function runPoststart(record: ContainerRecord, log: RuntimeLogger): Promise<void> {
  try {
    await runHooks('poststart', record.config.hooks?.poststart, ociState(record, 'running'));
  } catch (e) {
    log('warn', errorMessage(e));
  }
}
