// The cgroup file system seam: read/write one control file with errors that name the file and
// the value, mkdir -p that remembers what it made, rmdir with brief retries on timers (never a
// sleep of the caller's thread: berthd calls this). No policy lives here; the drivers decide
// what to write.
import { existsSync, readdirSync, readFileSync, writeFileSync, type Dirent } from 'node:fs';
import { mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { posix } from 'node:path';
import { BerthError, invalid, systemError, unsupported, withCleanup } from '../../errors.js';

/** One control-file write a conversion asks for. */
export interface CgroupWrite {
  /** Hierarchy key: a v1 controller name, or '' for the unified hierarchy. */
  controller: string;
  file: string;
  value: string;
  /** The OCI field this write comes from, for error messages (`memory.limit`). */
  field: string;
  /** Tried in order when `file` does not exist (e.g. blkio.weight → blkio.bfq.weight). */
  alternatives?: { file: string; value: string }[];
  /** Skip silently when no file exists; only for files newer kernels add beside a required one. */
  optional?: boolean;
}

const code = (err: unknown) => (err as NodeJS.ErrnoException)?.code;

export function readControl(dir: string, file: string): string {
  const path = posix.join(dir, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (code(err) === 'ENOENT') throw unsupported(`read ${path}: the file does not exist (controller missing or kernel too old)`);
    throw systemError(`read ${path}: ${(err as Error).message}`, err);
  }
}

/** Like readControl, but undefined when the file does not exist. */
export function readOptional(dir: string, file: string): string | undefined {
  try {
    return readFileSync(posix.join(dir, file), 'utf8');
  } catch (err) {
    if (code(err) === 'ENOENT' || code(err) === 'ENODEV' || code(err) === 'EOPNOTSUPP') return undefined;
    throw systemError(`read ${posix.join(dir, file)}: ${(err as Error).message}`, err);
  }
}

export function writeControl(dir: string, file: string, value: string, field?: string): void {
  const path = posix.join(dir, file);
  try {
    // cgroupfs files cannot be created; 'r+' opens without O_CREAT so a missing file is ENOENT.
    writeFileSync(path, value, { flag: 'r+' });
  } catch (err) {
    throw writeError(path, value, err, field);
  }
}

/** writeControl off the main thread, for writes the kernel may make slow (cgroup.procs). */
export async function writeControlAsync(dir: string, file: string, value: string, field?: string): Promise<void> {
  const path = posix.join(dir, file);
  try {
    await writeFile(path, value, { flag: 'r+' });
  } catch (err) {
    throw writeError(path, value, err, field);
  }
}

function writeError(path: string, value: string, err: unknown, field?: string): Error {
  const what = field ? ` (${field})` : '';
  const c = code(err);
  if (c === 'ENOENT')
    return unsupported(`write ${JSON.stringify(value)} to ${path}${what}: the file does not exist (controller missing or kernel too old)`);
  if (c === 'EINVAL' || c === 'ERANGE' || c === 'EBUSY' || c === 'EOVERFLOW') {
    return invalid(`write ${JSON.stringify(value)} to ${path}${what}: ${c === 'EINVAL' ? 'invalid argument' : (err as Error).message}`);
  }
  if (c === 'EOPNOTSUPP' || c === 'ENOTSUP')
    return unsupported(`write ${JSON.stringify(value)} to ${path}${what}: not supported by this kernel`);
  return systemError(`write ${JSON.stringify(value)} to ${path}${what}: ${(err as Error).message}`, err);
}

/** Carries out conversions' writes in order; `dirOf` maps a hierarchy key to the cgroup's directory. */
export function applyWrites(writes: CgroupWrite[], dirOf: (controller: string) => string | undefined, where: string): void {
  for (const w of writes) {
    const dir = dirOf(w.controller);
    if (dir === undefined) {
      throw unsupported(`cannot set ${w.field}: the ${w.controller} cgroup controller is not available on this machine (${where})`);
    }
    const candidates = [{ file: w.file, value: w.value }, ...(w.alternatives ?? [])];
    const found = candidates.find((c) => existsSync(posix.join(dir, c.file)));
    if (!found) {
      if (w.optional) continue;
      const names = candidates.map((c) => c.file).join(' or ');
      throw unsupported(`cannot set ${w.field}: ${dir} has no ${names} (the kernel lacks it or the controller is not enabled)`);
    }
    writeControl(dir, found.file, found.value, w.field);
  }
}

/**
 * mkdir -p; returns the directories it made, outermost first. A parent removed under us
 * (berth removes its empty /berth parent with the last container) is made again.
 */
export async function mkdirTracked(dir: string, attempts = 3): Promise<string[]> {
  try {
    return await mkdirOnce(dir);
  } catch (err) {
    if (attempts <= 1 || code((err as Error).cause) !== 'ENOENT') throw err;
    return mkdirTracked(dir, attempts - 1);
  }
}

async function mkdirOnce(dir: string): Promise<string[]> {
  const made: string[] = [];
  try {
    await mkdirUp(dir, made);
  } catch (err) {
    const cleanup = await removeDirs([...made].reverse(), true);
    throw withCleanup(systemError(`mkdir ${dir}: ${(err as Error).message}`, err), cleanup);
  }
  return made;
}

/**
 * mkdir of `d`, its missing parents first, pushing what it made to `made` (outermost first).
 * Off the thread: a mkdir in cgroupfs waits on the kernel's cgroup mutex while other cgroups are
 * made and removed. Parents are looked for only on ENOENT, so the usual case (the parent there)
 * is one call into the thread pool, not one per level.
 */
async function mkdirUp(d: string, made: string[], parentThere = false): Promise<void> {
  try {
    await mkdir(d);
    made.push(d);
  } catch (err) {
    if (code(err) === 'EEXIST') return;
    const up = posix.dirname(d);
    if (code(err) !== 'ENOENT' || up === d || parentThere) throw err;
    await mkdirUp(up, made);
    await mkdirUp(d, made, true);
  }
}

/**
 * rmdir each directory in order (give deepest first). EBUSY (processes still leaving) is retried
 * for up to about two seconds; a missing directory is fine. With `bestEffort`, ENOTEMPTY/EBUSY on
 * a directory is skipped (a shared parent such as /berth that still holds other containers).
 * Returns the errors it met (empty when all went).
 */
export async function removeDirs(dirs: string[], bestEffort = false): Promise<Error[]> {
  const errors: Error[] = [];
  for (const d of dirs) {
    for (let attempt = 0; ; attempt++) {
      try {
        await rmdir(d);
        break;
      } catch (err) {
        const c = code(err);
        if (c === 'ENOENT') break;
        if (bestEffort && (c === 'ENOTEMPTY' || c === 'EBUSY' || c === 'EEXIST')) break;
        if (c === 'EBUSY' && attempt < 40) {
          await delay(Math.min(10 * (attempt + 1), 100));
          continue;
        }
        errors.push(systemError(`rmdir ${d}: ${(err as Error).message}`, err));
        break;
      }
    }
  }
  return errors;
}

/** Throws the first of `errors` with the rest appended, or nothing. */
export function throwAll(errors: Error[], context: string): void {
  if (errors.length === 0) return;
  if (errors.length === 1 && errors[0] instanceof BerthError) throw errors[0];
  throw systemError(`${context}: ${errors.map((e) => e.message).join('; ')}`, errors[0]);
}

/**
 * The writes of a process's joins to its cgroups, all under way at once: each write to
 * cgroup.procs takes the kernel's cgroup_threadgroup_rwsem for writing, which waits for an RCU
 * grace period (2-10 ms here) unless another writer has just had it. One after the other, each
 * waited for its own (~15 ms a container start on hybrid cgroups' ten hierarchies); at once,
 * they share one. Settles when all have; throws what failed.
 */
export async function joinAll(writes: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(writes)).flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  throwAll(failed, 'join cgroups');
}

/** Every pid in cgroup.procs of dir and all its descendants. */
export function pidsRecursive(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    const procs = readOptional(d, 'cgroup.procs');
    if (procs === undefined) return;
    for (const l of procs.split('\n')) if (l.trim()) out.push(Number(l));
    let names: Dirent[];
    try {
      names = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const n of names) if (n.isDirectory()) walk(posix.join(d, n.name));
  };
  walk(dir);
  return [...new Set(out)].sort((a, b) => a - b);
}

/** rmdir dir and every cgroup below it, deepest first (a container may have made sub-cgroups). */
export async function removeTree(dir: string): Promise<Error[]> {
  const order: string[] = [];
  const walk = async (d: string) => {
    let names: Dirent[];
    try {
      names = await readdir(d, { withFileTypes: true });
    } catch (err) {
      if (code(err) === 'ENOENT') return; // gone already
      throw systemError(`read ${d}: ${(err as Error).message}`, err);
    }
    for (const n of names) if (n.isDirectory()) await walk(posix.join(d, n.name));
    order.push(d);
  };
  try {
    await walk(dir);
  } catch (err) {
    return [err as Error];
  }
  return removeDirs(order);
}
