// Unit tests: paths resolved inside a container's root with a mount over it (real files in a
// temp dir): symlinks absolute, relative and upward stay inside; mounts switch the host root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerRoot } from './container-root.js';

function fixture(): { dir: string; root: ContainerRoot } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-root-'));
  const rootfs = join(dir, 'rootfs');
  const vol = join(dir, 'vol');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  mkdirSync(join(rootfs, 'data'));
  mkdirSync(vol);
  writeFileSync(join(rootfs, 'etc/passwd'), 'container\n');
  symlinkSync('/../../../etc', join(rootfs, 'evil'));
  symlinkSync('../../../../../../../etc/passwd', join(rootfs, 'rel'));
  symlinkSync('/loop2', join(rootfs, 'loop1'));
  symlinkSync('/loop1', join(rootfs, 'loop2'));
  symlinkSync('/etc', join(vol, 'abs'));
  writeFileSync(join(vol, 'f'), 'in volume\n');
  writeFileSync(join(dir, 'hosts'), 'hosts file\n');
  writeFileSync(join(rootfs, 'etc/hosts'), '');
  const root = new ContainerRoot(rootfs, [
    { destination: '/data', source: vol, readOnly: false },
    { destination: '/etc/hosts', source: join(dir, 'hosts'), readOnly: false },
  ]);
  return { dir, root };
}

test('symlinks resolve inside the root, never above it', () => {
  const { dir, root } = fixture();
  try {
    assert.equal(root.resolve('/evil/passwd', true), '/etc/passwd');
    assert.equal(root.resolve('/rel', true), '/etc/passwd');
    assert.equal(root.resolve('/rel', false), '/rel');
    assert.equal(root.resolve('/../../etc/./passwd', true), '/etc/passwd');
    assert.throws(() => root.resolve('/loop1', true), /too many levels of symbolic links/);
    assert.throws(() => root.resolve('/etc/passwd/x', true), { kind: 'not-found' });
    assert.equal(root.resolve('/etc/new', true, true), '/etc/new');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mounts: paths under a destination go to its source; links in a mount are container paths', () => {
  const { dir, root } = fixture();
  try {
    assert.deepEqual(root.locate('/data/f'), {
      root: join(dir, 'vol'),
      rel: 'f',
      mount: { destination: '/data', source: join(dir, 'vol'), readOnly: false },
    });
    assert.equal(root.locate('/etc/passwd').rel, 'etc/passwd');
    assert.equal(root.resolve('/data/abs/passwd', true), '/etc/passwd', "an absolute link in a volume means the container's /etc");
    assert.equal(root.lstat('/data/f').size, 'in volume\n'.length);
    assert.equal(root.lstat('/etc/hosts').size, 'hosts file\n'.length, 'a file mount shows its source');
    assert.deepEqual(root.readdir('/data').sort(), ['abs', 'f']);
    assert.ok(root.holdsMount('/'));
    assert.throws(() => root.removeAll('/data'), /mount point/);
    assert.throws(() => root.removeAll('/etc'), /mount point/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a symlink the container swaps for a folder between lstat and readlink is looked at again', () => {
  const { dir, root } = fixture();
  try {
    // The swap happens at the first readlink, as a racing container would make it.
    const link = join(dir, 'rootfs/swap');
    symlinkSync('/etc', link);
    let swapped = false;
    const racing = Object.create(root) as ContainerRoot;
    racing.readlink = (path: string) => {
      if (!swapped) {
        swapped = true;
        rmSync(link);
        mkdirSync(link);
        writeFileSync(join(link, 'passwd'), 'swapped\n');
      }
      return root.readlink(path);
    };
    assert.equal(racing.resolve('/swap/passwd', true), '/swap/passwd');
    assert.ok(swapped);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
