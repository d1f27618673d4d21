import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readlink, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { unpackLayer, cleanEntryPath, detectCompression, measureLayer } from './unpack.js';
import { dirSize } from '../common/dir-size.js';
import { packTar, type TarEntry } from './tar.js';
import { getXattrs } from './xattr.js';
import { digestOf } from '../oci/image.js';
import { BerthError } from '../errors.js';

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'berth-unpack-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
async function* once(b: Buffer) {
  yield b;
}
const mtime = new Date('2020-01-02T03:04:05Z');
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_bind_service, effective

const good: TarEntry[] = [
  { header: { name: 'bin/', type: 'directory', mode: 0o755, mtime } },
  { header: { name: 'bin/sh', mode: 0o4755, uid: 0, gid: 0, mtime }, body: '#!fake\n' },
  { header: { name: 'bin/sgid', mode: 0o2711, uid: 1000, gid: 1001, mtime }, body: 'x' },
  {
    header: { name: 'bin/ping', mode: 0o755, mtime, xattrs: { 'security.capability': CAP, 'user.note': Buffer.from('héllo') } },
    body: 'ping',
  },
  { header: { name: 'bin/ash', type: 'link', linkname: 'bin/sh', mtime } },
  { header: { name: 'bin/link', type: 'symlink', linkname: '/bin/sh', mtime } },
  { header: { name: 'tmp/', type: 'directory', mode: 0o1777, mtime } },
  { header: { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, mtime } },
  { header: { name: 'dev/loop9', type: 'block-device', devmajor: 7, devminor: 9, mode: 0o660, mtime } },
  { header: { name: 'run/fifo', type: 'fifo', mode: 0o600, mtime } },
  { header: { name: 'etc/.wh.gone', mtime } },
  { header: { name: 'var/', type: 'directory', mode: 0o755, mtime } },
  { header: { name: 'var/.wh..wh..opq', mtime } },
  { header: { name: 'var/new', mtime }, body: 'n' },
  { header: { name: './deep/er/file', mtime }, body: 'deep' },
];

test('unpacks every kind of entry in overlayfs form', () =>
  withDir(async (dir) => {
    const raw = await packTar(good);
    const dest = join(dir, 'layer');
    const r = await unpackLayer(once(gzipSync(raw)), dest, { diffID: digestOf(raw) });
    assert.equal(r.diffID, digestOf(raw));
    assert.equal(r.size, raw.length);
    // Docker's layer size, as overlay2 counts the unpacked tree: the files' bytes ('#!fake\n' +
    // 'x' + 'ping' + 'n' + 'deep'; the hard link bin/ash once) and the symlink's target ('/bin/sh').
    assert.equal(r.contentSize, 7 + 1 + 4 + 1 + 4 + 7);
    assert.equal(await dirSize(dest), r.contentSize);
    assert.equal(await measureLayer(once(gzipSync(raw))), r.contentSize);
    const st = async (p: string) => lstat(join(dest, p));
    assert.equal((await st('bin/sh')).mode & 0o7777, 0o4755);
    const sg = await st('bin/sgid');
    assert.equal(sg.mode & 0o7777, 0o2711);
    assert.equal(sg.uid, 1000);
    assert.equal(sg.gid, 1001);
    assert.equal((await st('tmp')).mode & 0o7777, 0o1777);
    assert.equal((await st('tmp')).mtime.getTime(), mtime.getTime());
    assert.equal((await st('bin')).mtime.getTime(), mtime.getTime());
    assert.equal((await st('bin/ash')).ino, (await st('bin/sh')).ino);
    assert.equal(await readlink(join(dest, 'bin/link')), '/bin/sh');
    assert.equal((await st('bin/link')).mtime.getTime(), mtime.getTime());
    const nul = await st('dev/null');
    assert.ok(nul.isCharacterDevice());
    assert.equal(nul.rdev, (1 << 8) | 3);
    assert.ok((await st('dev/loop9')).isBlockDevice());
    assert.ok((await st('run/fifo')).isFIFO());
    const wh = await st('etc/gone');
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    const x = await getXattrs(join(dest, 'var'));
    assert.equal(x.get('trusted.overlay.opaque')?.toString(), 'y');
    const px = await getXattrs(join(dest, 'bin/ping'));
    assert.deepEqual(px.get('security.capability'), CAP);
    assert.equal(px.get('user.note')?.toString(), 'héllo');
    assert.equal(await readFile(join(dest, 'deep/er/file'), 'utf8'), 'deep');
    assert.deepEqual((await readdir(dir)).sort(), ['layer']);
  }));

test('zstd and plain layers, and auto detection', () =>
  withDir(async (dir) => {
    const raw = await packTar([{ header: { name: 'a', mtime }, body: 'zz' }]);
    const zst = execFileSync('zstd', ['-q', '-c'], { input: raw });
    assert.equal(detectCompression(zst), 'zstd');
    await unpackLayer(once(zst), join(dir, 'z'));
    assert.equal(await readFile(join(dir, 'z/a'), 'utf8'), 'zz');
    await unpackLayer(once(raw), join(dir, 'p'), { compression: 'none' });
    assert.equal(await readFile(join(dir, 'p/a'), 'utf8'), 'zz');
  }));

async function refused(entries: TarEntry[], re: RegExp, setup?: (dir: string) => Promise<void>) {
  await withDir(async (dir) => {
    await setup?.(dir);
    const before = (await readdir(dir)).sort();
    const raw = await packTar(entries);
    await assert.rejects(unpackLayer(once(raw), join(dir, 'store', 'layer')), (e: unknown) => {
      assert.ok(e instanceof BerthError, String(e));
      assert.equal(e.kind, 'invalid');
      assert.match(e.message, re);
      return true;
    });
    assert.deepEqual(await readdir(join(dir, 'store')), [], 'no layer or temp dir left');
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n !== 'store').sort(),
      before.filter((n) => n !== 'store'),
    );
  });
}

test('refuses path traversal with ..', () =>
  refused(
    [
      { header: { name: 'ok', mtime }, body: 'x' },
      { header: { name: '../evil', mtime }, body: 'x' },
    ],
    /"\.\.\/evil".*\.\./,
  ));

test('refuses nested .. that would climb out', () =>
  refused([{ header: { name: 'a/../../evil', mtime }, body: 'x' }], /a\/\.\.\/\.\.\/evil/));

test('refuses absolute paths', () => refused([{ header: { name: '/etc/evil', mtime }, body: 'x' }], /"\/etc\/evil".*absolute/));

test('refuses writing through a symlink', async () => {
  await refused(
    [{ header: { name: 'a', type: 'symlink', linkname: '../outside', mtime } }, { header: { name: 'a/pwned', mtime }, body: 'x' }],
    /"a\/pwned".*symlink "a"/,
    async (dir) => {
      await mkdir(join(dir, 'outside'));
    },
  );
});

test('refuses writing through a symlink to an absolute dir', () =>
  refused(
    [{ header: { name: 'etc', type: 'symlink', linkname: '/etc', mtime } }, { header: { name: 'etc/berth-pwned', mtime }, body: 'x' }],
    /etc\/berth-pwned/,
  ));

test('refuses a hard link out of the layer', () =>
  refused([{ header: { name: 'h', type: 'link', linkname: '../../../../etc/passwd', mtime } }], /hard link "h"/));

test('refuses a hard link to an absolute path', () =>
  refused([{ header: { name: 'h', type: 'link', linkname: '/etc/passwd', mtime } }], /hard link "h".*absolute/));

test('refuses a hard link through a symlink', () =>
  refused(
    [
      { header: { name: 's', type: 'symlink', linkname: '/etc', mtime } },
      { header: { name: 'h', type: 'link', linkname: 's/passwd', mtime } },
    ],
    /"h".*symlink "s"/,
  ));

test('refuses overlayfs xattrs set directly by the layer', () =>
  refused(
    [{ header: { name: 'd/', type: 'directory', mode: 0o755, mtime, xattrs: { 'trusted.overlay.redirect': Buffer.from('/etc') } } }],
    /"d\/".*trusted\.overlay\.redirect/,
  ));

test('refuses a hard link to a file not in the layer', () =>
  refused([{ header: { name: 'h', type: 'link', linkname: 'nothere', mtime } }], /not in the layer/));

test('a symlink then a directory of the same name replaces the symlink', () =>
  withDir(async (dir) => {
    await mkdir(join(dir, 'outside'));
    const raw = await packTar([
      { header: { name: 'a', type: 'symlink', linkname: '../outside', mtime } },
      { header: { name: 'a/', type: 'directory', mode: 0o755, mtime } },
      { header: { name: 'a/f', mtime }, body: 'in' },
    ]);
    await unpackLayer(once(raw), join(dir, 'layer'));
    assert.ok((await lstat(join(dir, 'layer/a'))).isDirectory());
    assert.deepEqual(await readdir(join(dir, 'outside')), []);
  }));

test('a file entry over a symlink replaces the link, never writes through it', () =>
  withDir(async (dir) => {
    await writeFile(join(dir, 'victim'), 'safe');
    const raw = await packTar([
      { header: { name: 'f', type: 'symlink', linkname: join(dir, 'victim'), mtime } },
      { header: { name: 'f', mtime }, body: 'overwritten?' },
    ]);
    await unpackLayer(once(raw), join(dir, 'layer'));
    assert.equal(await readFile(join(dir, 'victim'), 'utf8'), 'safe');
    assert.equal(await readFile(join(dir, 'layer/f'), 'utf8'), 'overwritten?');
  }));

test('bad input: diff ID mismatch, truncated gzip, garbage', () =>
  withDir(async (dir) => {
    const raw = await packTar(good.slice(0, 2));
    await assert.rejects(unpackLayer(once(raw), join(dir, 'l1'), { diffID: digestOf('x') }), {
      kind: 'invalid',
      message: /diff ID mismatch/,
    });
    const gz = gzipSync(raw);
    await assert.rejects(unpackLayer(once(gz.subarray(0, gz.length - 30)), join(dir, 'l2')), { kind: 'invalid' });
    await assert.rejects(unpackLayer(once(Buffer.alloc(1024, 0x41)), join(dir, 'l3')), { kind: 'invalid' });
    assert.deepEqual(await readdir(dir), []);
    await mkdir(join(dir, 'exists'));
    await assert.rejects(unpackLayer(once(raw), join(dir, 'exists')), { kind: 'conflict' });
  }));

test('cleanEntryPath', () => {
  assert.equal(cleanEntryPath('./a//b/./c/'), 'a/b/c');
  assert.equal(cleanEntryPath('./'), '');
  assert.throws(() => cleanEntryPath('a/../b'), { kind: 'invalid' });
});

test('refuses a whiteout of "..", "." or nothing: a whiteout stays in its own directory', async () => {
  for (const name of ['d/.wh...', '.wh...', 'd/.wh..', '.wh.']) {
    await refused(
      [{ header: { name: 'd/', type: 'directory', mtime } }, { header: { name, mtime }, body: '' }],
      /whiteout of/,
      async (dir) => {
        await mkdir(join(dir, 'store'));
      },
    );
  }
});

test('a whiteout and a device node land in their own directory; AUFS metadata names are skipped', () =>
  withDir(async (dir) => {
    const raw = await packTar([
      { header: { name: 'd/', type: 'directory', mode: 0o755, mtime } },
      { header: { name: 'd/.wh.gone', mtime }, body: '' },
      { header: { name: 'd/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, mtime } },
      { header: { name: '.wh..wh.plnk/', type: 'directory', mode: 0o700, mtime } },
    ]);
    await unpackLayer(once(raw), join(dir, 'layer'));
    assert.deepEqual((await readdir(join(dir, 'layer'))).sort(), ['d']);
    assert.deepEqual((await readdir(join(dir, 'layer/d'))).sort(), ['gone', 'null']);
    assert.equal((await lstat(join(dir, 'layer/d/gone'))).rdev, 0);
    assert.ok((await lstat(join(dir, 'layer/d/gone'))).isCharacterDevice());
    assert.deepEqual((await readdir(dir)).sort(), ['layer'], 'nothing beside the layer');
  }));
