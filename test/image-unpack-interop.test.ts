// Layers written by GNU tar (POSIX/pax with xattrs, and GNU format with long names) unpack in
// berth to the same tree: contents, modes (setuid, sticky), owners, hard links, symlinks,
// FIFOs, devices, mtimes and xattrs including security.capability. No network.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, chown, link, lstat, mkdir, mkdtemp, readFile, readlink, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpackLayer } from '../src/image/unpack.js';
import { getXattrs } from '../src/image/xattr.js';

const temps: string[] = [];
after(async () => {
  for (const d of temps.splice(0)) await rm(d, { recursive: true, force: true });
});

const CAP = '0x0100000200200000000000000000000000000000';
const long = 'd'.repeat(60) + '/' + 'e'.repeat(70) + '/' + 'f'.repeat(90);

async function makeTree(root: string) {
  await mkdir(join(root, 'bin'), { recursive: true });
  await writeFile(join(root, 'bin/ping'), 'ping');
  execFileSync('setfattr', ['-n', 'security.capability', '-v', CAP, join(root, 'bin/ping')]);
  execFileSync('setfattr', ['-n', 'user.note', '-v', 'pax xattr', join(root, 'bin/ping')]);
  await writeFile(join(root, 'bin/su'), 'su');
  await chmod(join(root, 'bin/su'), 0o4755);
  await link(join(root, 'bin/su'), join(root, 'bin/su-link'));
  await symlink('../bin/su', join(root, 'bin/rel-link'));
  await mkdir(join(root, 'tmp'));
  await chmod(join(root, 'tmp'), 0o1777);
  await mkdir(join(root, 'home/user'), { recursive: true });
  await writeFile(join(root, 'home/user/file'), 'owned');
  await chown(join(root, 'home/user/file'), 1234, 5678);
  await chown(join(root, 'home/user'), 1234, 5678);
  execFileSync('mkfifo', [join(root, 'home/fifo')]);
  execFileSync('mknod', [join(root, 'home/null'), 'c', '1', '3']);
  await mkdir(join(root, long.slice(0, long.lastIndexOf('/'))), { recursive: true });
  await writeFile(join(root, long), 'long name');
  await utimes(join(root, 'home/user/file'), 1_600_000_000, 1_600_000_000);
}

/**
 * `seconds`: how the writer made whole seconds of a file's mtime — GNU tar cuts the fraction,
 * umoci (Go's archive/tar in its ustar form) rounds it to the nearest second.
 */
async function compare(a: string, b: string, rel = '', seconds: (s: number) => number = Math.floor): Promise<void> {
  const names = (await readdir(join(a, rel))).sort();
  assert.deepEqual((await readdir(join(b, rel))).sort(), names, `entries of /${rel}`);
  for (const n of names) {
    const r = rel ? `${rel}/${n}` : n;
    const [sa, sb] = [await lstat(join(a, r)), await lstat(join(b, r))];
    assert.equal(sb.mode, sa.mode, `mode of ${r}`);
    assert.equal(sb.uid, sa.uid, `uid of ${r}`);
    assert.equal(sb.gid, sa.gid, `gid of ${r}`);
    assert.equal(sb.rdev, sa.rdev, `rdev of ${r}`);
    if (!sa.isDirectory()) assert.equal(Math.floor(sb.mtimeMs / 1000), seconds(sa.mtimeMs / 1000), `mtime of ${r}`);
    if (sa.isSymbolicLink()) assert.equal(await readlink(join(b, r)), await readlink(join(a, r)));
    else if (sa.isFile()) assert.deepEqual(await readFile(join(b, r)), await readFile(join(a, r)), `content of ${r}`);
    if (!sa.isSymbolicLink()) assert.deepEqual(await getXattrs(join(b, r)), await getXattrs(join(a, r)), `xattrs of ${r}`);
    if (sa.isDirectory()) await compare(a, b, r, seconds);
  }
}

describe('layers written by GNU tar', () => {
  for (const format of ['posix', 'gnu']) {
    test(`${format} format`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'berth-interop-'));
      temps.push(dir);
      const src = join(dir, 'src');
      await mkdir(src);
      await makeTree(src);
      const file = join(dir, 'layer.tar.gz');
      const args = ['-C', src, '--numeric-owner', '-czpf', file, '.', `--format=${format}`];
      if (format === 'posix') args.push('--xattrs', '--xattrs-include=*');
      execFileSync('tar', args);
      const dest = join(dir, 'out');
      await unpackLayer(createReadStream(file), dest);
      if (format === 'gnu') {
        // GNU format carries no xattrs: compare without them
        for (const p of ['bin/ping']) {
          execFileSync('setfattr', ['-x', 'security.capability', join(src, p)]);
          execFileSync('setfattr', ['-x', 'user.note', join(src, p)]);
        }
      }
      await compare(src, dest);
      assert.equal((await lstat(join(dest, 'bin/su'))).ino, (await lstat(join(dest, 'bin/su-link'))).ino);
    });
  }
});

describe('layers written by umoci', () => {
  test('umoci repack of a tree unpacks to the same tree', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-interop-umoci-'));
    temps.push(dir);
    const layout = join(dir, 'layout');
    const bundle = join(dir, 'bundle');
    const umoci = (...args: string[]) => execFileSync('umoci', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    umoci('init', '--layout', layout);
    umoci('new', '--image', `${layout}:t`);
    umoci('unpack', '--image', `${layout}:t`, bundle);
    const rootfs = join(bundle, 'rootfs');
    await makeTree(rootfs);
    umoci('repack', '--image', `${layout}:t`, bundle);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    const blob = (d: string) => join(layout, 'blobs', ...d.split(':'));
    const manifest = JSON.parse(await readFile(blob(index.manifests[0].digest), 'utf8'));
    const layer = manifest.layers.at(-1);
    const dest = join(dir, 'out');
    const r = await unpackLayer(createReadStream(blob(layer.digest)), dest);
    const config = JSON.parse(await readFile(blob(manifest.config.digest), 'utf8'));
    assert.equal(r.diffID, config.rootfs.diff_ids.at(-1), 'the diff ID umoci recorded');
    await compare(rootfs, dest, '', Math.round);
  });
});
