// Snapshots mounted for real on overlayfs: a multi-layer image with deletions, an opaque
// directory and hard links seen through one root; diff and commit; the committed image mounted
// and run (busybox through chroot) with the change. Every mount and temp dir is removed.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../src/image/store.js';
import { Snapshotter } from '../src/image/snapshot.js';
import { chainIDs } from '../src/oci/image.js';
import { mountsUnder, unmount } from '../src/image/mount.js';
import { packTar } from '../src/image/tar.js';
import { busyboxTar, storeImage } from './helpers/images.js';

const mtime = new Date('2024-01-01T00:00:00Z');
const roots: string[] = [];
after(async () => {
  for (const r of roots.splice(0)) {
    for (const m of await mountsUnder(r)) await unmount(m).catch(() => execFileSync('umount', ['-l', m]));
    await rm(r, { recursive: true, force: true });
  }
});

async function setup() {
  const root = await mkdtemp(join(tmpdir(), 'berth-snap-'));
  roots.push(root);
  const store = new ImageStore(join(root, 'images'));
  const snaps = new Snapshotter(join(root, 'snapshots'));
  const bb = await busyboxTar();
  const base = await packTar([
    { header: { name: 'etc/hello', mtime }, body: 'hello v1\n' },
    { header: { name: 'gone/', type: 'directory', mode: 0o755, mtime } },
    { header: { name: 'gone/file1', mtime }, body: 'bye\n' },
    { header: { name: 'opq/', type: 'directory', mode: 0o755, mtime } },
    { header: { name: 'opq/old', mtime }, body: 'old\n' },
  ]);
  const top = await packTar([
    { header: { name: '.wh.gone', mtime } },
    { header: { name: 'opq/', type: 'directory', mode: 0o755, mtime } },
    { header: { name: 'opq/.wh..wh..opq', mtime } },
    { header: { name: 'opq/new', mtime }, body: 'new\n' },
    { header: { name: 'hard/', type: 'directory', mode: 0o755, mtime } },
    { header: { name: 'hard/a', mode: 0o640, mtime }, body: 'linked\n' },
    { header: { name: 'hard/b', type: 'link', linkname: 'hard/a', mtime } },
    { header: { name: 'etc/hello', mtime }, body: 'hello v2\n' },
    { header: { name: 'bin/suid', mode: 0o4755, mtime }, body: 'x' },
  ]);
  await storeImage(store, 'berth.test/layered:1', [bb, base, top]);
  return { root, store, snaps };
}

const chrootRun = (dir: string, ...args: string[]) => execFileSync('chroot', [dir, ...args], { encoding: 'utf8' });

describe('snapshots on overlayfs', () => {
  test('an image mounts as one root; diff, commit, and the committed image runs with the change', async () => {
    const { root, store, snaps } = await setup();
    const s = await snaps.prepare('c1', store, 'berth.test/layered:1');
    const m = s.rootfs;
    assert.ok((await mountsUnder(m)).includes(m), 'overlay is mounted');
    assert.equal(await readFile(join(m, 'etc/hello'), 'utf8'), 'hello v2\n');
    await assert.rejects(lstat(join(m, 'gone')), { code: 'ENOENT' });
    assert.deepEqual(await readdir(join(m, 'opq')), ['new']);
    assert.equal((await lstat(join(m, 'hard/a'))).ino, (await lstat(join(m, 'hard/b'))).ino);
    assert.equal((await lstat(join(m, 'bin/suid'))).mode & 0o7777, 0o4755);
    assert.equal(chrootRun(m, '/bin/cat', '/etc/hello'), 'hello v2\n');

    // layers are shared by chainID: a second container unpacks nothing new
    const layersBefore = await readdir(join(root, 'snapshots', 'layers'));
    assert.equal(layersBefore.length, 3);
    const s2 = await snaps.prepare('c2', store, 'berth.test/layered:1');
    assert.deepEqual(await readdir(join(root, 'snapshots', 'layers')), layersBefore);
    assert.deepEqual(s2.chainIDs, s.chainIDs);
    await assert.rejects(snaps.prepare('c2', store, 'berth.test/layered:1'), { kind: 'conflict' });
    await snaps.remove('c2');

    // change things in the container
    await writeFile(join(m, 'added.txt'), 'added\n');
    await appendFile(join(m, 'etc/passwd'), 'berth:x:1000:1000::/:/bin/sh\n');
    await unlink(join(m, 'bin/ls'));
    await rm(join(m, 'opq'), { recursive: true });
    execFileSync('mkdir', [join(m, 'opq')]);
    await writeFile(join(m, 'opq/fresh'), 'fresh\n');
    const diff = await snaps.diff('c1');
    const has = (kind: string, path: string) => diff.some((c) => c.kind === kind && c.path === path);
    assert.ok(has('A', '/added.txt'), JSON.stringify(diff));
    assert.ok(has('C', '/etc'));
    assert.ok(has('C', '/etc/passwd'));
    assert.ok(has('C', '/bin'));
    assert.ok(has('D', '/bin/ls'));
    assert.ok(has('C', '/opq'));
    assert.ok(has('A', '/opq/fresh'));

    const df = await snaps.df();
    assert.equal(df.layers, 3);
    assert.equal(df.containers, 1);
    assert.ok(df.containersSize >= 'added\n'.length + 'fresh\n'.length);
    const c = await snaps.commit('c1', store, { reference: 'berth.test/committed:1', comment: 'test change' });
    const img = await store.resolve('berth.test/committed:1');
    assert.equal(img.manifest.layers.length, 4);
    assert.equal(img.config.rootfs.diff_ids.at(-1), c.diffID);
    assert.equal(img.config.history?.at(-1)?.created_by, 'test change');

    const s3 = await snaps.prepare('c3', store, 'berth.test/committed:1');
    const m3 = s3.rootfs;
    assert.deepEqual(s3.chainIDs.slice(0, 3), s.chainIDs, 'the base layers are shared');
    assert.equal(chrootRun(m3, '/bin/cat', '/added.txt'), 'added\n');
    assert.match(chrootRun(m3, '/bin/sh', '-c', 'cat /etc/passwd'), /^berth:x:1000/m);
    await assert.rejects(lstat(join(m3, 'bin/ls')), { code: 'ENOENT' });
    await assert.rejects(lstat(join(m3, 'gone')), { code: 'ENOENT' });
    assert.deepEqual(await readdir(join(m3, 'opq')), ['fresh']);
    assert.equal(await readFile(join(m3, 'etc/hello'), 'utf8'), 'hello v2\n');
    assert.deepEqual(await snaps.diff('c3'), []);

    // clean-up paths: unmount + remove, then layers of removed images go with pruneLayers
    await snaps.remove('c1');
    await snaps.remove('c3');
    assert.deepEqual(await mountsUnder(root), []);
    assert.deepEqual(await snaps.list(), []);
    await store.remove('berth.test/committed:1');
    const pruned = await snaps.pruneLayers(store);
    assert.deepEqual(pruned, [chainIDs(img.config.rootfs.diff_ids).at(-1)]);
  });

  test('what a crash left half made is removed when the snapshotter starts', async () => {
    const { root, store, snaps } = await setup();
    const layers = join(root, 'snapshots', 'layers');
    await mkdir(join(layers, 'deadbeef', 'fs'), { recursive: true });
    await mkdir(join(root, 'snapshots', 'containers', 'x.tmp', 'upper'), { recursive: true });
    const s = await snaps.prepare('after-crash', store, 'berth.test/layered:1');
    try {
      assert.ok(!(await readdir(layers)).includes('deadbeef'));
      assert.deepEqual(await snaps.list(), ['after-crash']);
      assert.equal(await readFile(join(s.rootfs, 'etc/hello'), 'utf8'), 'hello v2\n');
    } finally {
      await snaps.remove('after-crash');
    }
  });

  test('listing the snapshots, as an adopting berthd does first, removes what a crash left half made', async () => {
    const { root } = await setup();
    const layers = join(root, 'snapshots', 'layers');
    await mkdir(join(layers, 'deadbeef', 'fs'), { recursive: true });
    await mkdir(join(root, 'snapshots', 'containers', 'killed-mid-create.tmp', 'upper'), { recursive: true });
    await mkdir(join(root, 'snapshots', 'containers', 'whole', 'upper'), { recursive: true });
    const fresh = new Snapshotter(join(root, 'snapshots'));
    assert.deepEqual(await fresh.list(), ['whole']);
    assert.deepEqual(await readdir(join(root, 'snapshots', 'containers')), ['whole']);
    assert.ok(!(await readdir(layers)).includes('deadbeef'));
  });
});
