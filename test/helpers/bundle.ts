// Test bundles: a busybox root file system (from Debian's busybox-static) with a config.json
// made from berth-runtime's default spec, in a temp dir the test removes with `cleanup()`.
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSpec } from '../../src/runtime/spec-template.js';
import type { Spec } from '../../src/oci/runtime-spec.js';

export const BUSYBOX = '/bin/busybox';
/** berth-runtime as npm puts it on PATH: the launcher, then the native front, then (for what the front hands over) Node.js. */
export const RUNTIME = new URL('../../../bin/berth-runtime', import.meta.url).pathname;
/** The Node.js command line alone (bin/berth-runtime.js), to compare the front's answers with. */
export const RUNTIME_NODE = new URL('../../../bin/berth-runtime.js', import.meta.url).pathname;
/** The native front alone, as engines may be given it. */
export const RUNTIME_FRONT = new URL('../../../native/build/berth-runtime', import.meta.url).pathname;

let applets: string[] | undefined;

/** A busybox root file system in `dir`: /bin/<applet> → busybox, and the usual empty folders. */
export function makeRootfs(dir: string): void {
  for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'root', 'var']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  execFileSync('chmod', ['0755', join(dir, 'bin/busybox')]);
  applets ??= execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => a && a !== 'busybox');
  for (const a of applets) if (!existsSync(join(dir, 'bin', a))) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
}

export interface Bundle {
  dir: string;
  root: string; // the runtime's --root for this test
  spec: Spec;
  write(): void;
  cleanup(): void;
}

/** A bundle whose process runs `args` without a terminal; `edit` may change the spec. */
export function makeBundle(args: string[], edit?: (s: Spec) => void): Bundle {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-bundle-'));
  makeRootfs(join(dir, 'rootfs'));
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.args = args;
  edit?.(spec);
  const b: Bundle = {
    dir,
    root: join(dir, 'state'),
    spec,
    write: () => writeFileSync(join(dir, 'config.json'), JSON.stringify(b.spec, null, 2)),
    cleanup: () => {
      // Any container the test left: delete it with the runtime itself, so its cleanup is exercised.
      const ids = spawnSync(RUNTIME, ['--root', b.root, 'list', '-q'], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
      for (const id of ids) spawnSync(RUNTIME, ['--root', b.root, 'delete', '--force', id]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  b.write();
  return b;
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** berth-runtime with --root set to the bundle's state dir. Its stdout and stderr go to files,
 * not pipes: a created or detached container inherits them (as with runc), and a pipe would
 * keep spawnSync waiting until the container exits. */
export function runtime(
  b: Bundle | { root: string },
  args: string[],
  opts: { input?: string; timeout?: number; cwd?: string } = {},
): Result {
  const io = mkdtempSync(join(tmpdir(), 'berth-test-io-'));
  const out = openSync(join(io, 'out'), 'w+'),
    err = openSync(join(io, 'err'), 'w+');
  try {
    const r = spawnSync(RUNTIME, ['--root', b.root, ...args], {
      timeout: opts.timeout ?? 30000,
      input: opts.input,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', out, err],
    });
    return { status: r.status, stdout: readFileSync(join(io, 'out'), 'utf8'), stderr: readFileSync(join(io, 'err'), 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(io, { recursive: true, force: true });
  }
}

/** Polls `cond` every 20 ms for up to `ms`; true once it holds. */
export function waitFor(cond: () => boolean, ms = 5000): boolean {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (cond()) return true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  return cond();
}

export const uniqueId = (prefix: string) => `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
