// Test bundles: a busybox root file system (from Debian's busybox-static) with a config.json
// made from berth-runtime's default spec, in a temp dir the test removes with `cleanup()`.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSpec } from '../../src/runtime/spec-template.js';
import type { Spec } from '../../src/oci/runtime-spec.js';

export const BUSYBOX = '/bin/busybox';
export const RUNTIME = new URL('../../../bin/berth-runtime.js', import.meta.url).pathname;

let applets: string[] | undefined;

/** A busybox root file system in `dir`: /bin/<applet> → busybox, and the usual empty folders. */
export function makeRootfs(dir: string): void {
  for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'root', 'var']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  execFileSync('chmod', ['0755', join(dir, 'bin/busybox')]);
  applets ??= execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
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
    dir, root: join(dir, 'state'), spec,
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

export interface Result { status: number | null; stdout: string; stderr: string }

/** berth-runtime with --root set to the bundle's state dir. */
export function runtime(b: Bundle | { root: string }, args: string[], opts: { input?: string; timeout?: number; cwd?: string } = {}): Result {
  const r = spawnSync(RUNTIME, ['--root', b.root, ...args], { encoding: 'utf8', timeout: opts.timeout ?? 30000, input: opts.input, cwd: opts.cwd });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export const uniqueId = (prefix: string) => `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
