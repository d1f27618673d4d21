// save/load (Docker 25+ layout, OCI layout directory, classic docker-archive from skopeo),
// interop with umoci and skopeo, and import/export of root file systems. No network.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ImageStore } from '../src/image/store.js';
import { loadImages, saveImages, saveOciLayout } from '../src/image/archive.js';
import { exportRootfs, importRootfs } from '../src/image/import-export.js';
import { Snapshotter } from '../src/image/snapshot.js';
import { mountsUnder, unmount } from '../src/image/mount.js';
import { busyboxTar, filesTar, storeImage, writeOciLayout } from './helpers/images.js';

const temps: string[] = [];
after(async () => {
  for (const d of temps.splice(0)) {
    for (const m of await mountsUnder(d)) await unmount(m).catch(() => execFileSync('umount', ['-l', m]));
    await rm(d, { recursive: true, force: true });
  }
});
async function tempDir(p: string) {
  const d = await mkdtemp(join(tmpdir(), `berth-${p}-`));
  temps.push(d);
  return d;
}
async function newStore() {
  return new ImageStore(await tempDir('images'));
}
const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** The entry names, as GNU tar reads them (a reader other than berth's). */
async function tarNames(file: string): Promise<string[]> {
  return run('tar', '-tf', file).split('\n').filter(Boolean);
}

describe('save and load', () => {
  test('berth save → berth load round trip; skopeo reads the archive', async () => {
    const src = await newStore();
    const m = await storeImage(src, 'berth.test/saved:1', [await busyboxTar(), await filesTar({ 'etc/motd': 'saved\n' })]);
    await src.tag('berth.test/saved:1', 'berth.test/saved:alias');
    const dir = await tempDir('save');
    const file = join(dir, 'out.tar');
    await pipeline(await saveImages(src, ['berth.test/saved:1', 'berth.test/saved:alias']), createWriteStream(file));
    const names = await tarNames(file);
    for (const n of ['oci-layout', 'index.json', 'manifest.json', `blobs/sha256/${m.digest.slice(7)}`]) assert.ok(names.includes(n), n);

    const dst = await newStore();
    const r = await loadImages(dst, createReadStream(file));
    assert.deepEqual(r.names.sort(), ['berth.test/saved:1', 'berth.test/saved:alias']);
    assert.deepEqual([...new Set(r.manifests)], [m.digest]);
    const img = await dst.resolve('berth.test/saved:alias');
    assert.equal(img.manifest.layers.length, 2);

    const info = JSON.parse(run('skopeo', 'inspect', `docker-archive:${file}:berth.test/saved:1`));
    assert.equal(info.Layers.length, 2);
  });

  test('an OCI layout directory passes umoci and skopeo', async () => {
    const src = await newStore();
    const m = await storeImage(src, 'berth.test/layout:v1', [await filesTar({ a: 'layout\n' })]);
    const dir = join(await tempDir('oci'), 'layout');
    await saveOciLayout(src, ['berth.test/layout:v1'], dir);
    assert.match(run('umoci', 'ls', '--layout', dir), /^v1$/m);
    const stat = run('umoci', 'stat', '--image', `${dir}:v1`, '--json');
    assert.ok(JSON.parse(stat).history.length >= 1);
    const bundle = join(await tempDir('bundle'), 'b');
    run('umoci', 'unpack', '--image', `${dir}:v1`, bundle);
    assert.equal(await readFile(join(bundle, 'rootfs', 'a'), 'utf8'), 'layout\n');
    const info = JSON.parse(run('skopeo', 'inspect', `oci:${dir}:v1`));
    assert.equal(info.Digest, m.digest);
  });

  test('a classic docker-archive (as docker save and skopeo write) loads', async () => {
    const dir = await tempDir('dockerarchive');
    const layout = join(dir, 'layout');
    await writeOciLayout(layout, [
      { platform: { os: 'linux', architecture: 'amd64' }, tars: [await busyboxTar(), await filesTar({ x: 'docker-archive\n' })] },
    ]);
    const file = join(dir, 'docker.tar');
    run('skopeo', 'copy', `oci:${layout}:latest`, `docker-archive:${file}:berth.test/fromskopeo:2`);
    const store = await newStore();
    const r = await loadImages(store, createReadStream(file));
    assert.deepEqual(r.names, ['berth.test/fromskopeo:2']);
    const img = await store.resolve('berth.test/fromskopeo:2');
    assert.equal(img.manifest.layers.length, 2);
    assert.equal(img.config.architecture, 'amd64');
  });

  test('a tampered archive is refused and leaves the store unchanged', async () => {
    const src = await newStore();
    await storeImage(src, 'berth.test/bad:1', [await filesTar({ f: 'original content\n' })]);
    const dir = await tempDir('bad');
    const good = join(dir, 'good.tar');
    await pipeline(await saveImages(src, ['berth.test/bad:1']), createWriteStream(good));
    // flip a byte inside the first layer blob's data
    const buf = await readFile(good);
    const img = await src.resolve('berth.test/bad:1');
    const name = Buffer.from(`blobs/sha256/${img.manifest.layers[0].digest.slice(7)}`);
    const at = buf.indexOf(name);
    assert.ok(at >= 0);
    buf[at + 512 + 20] ^= 0xff;
    await writeFile(join(dir, 'evil.tar'), buf);
    const dst = await newStore();
    await assert.rejects(loadImages(dst, createReadStream(join(dir, 'evil.tar'))), { kind: 'invalid', message: /digest mismatch/ });
    assert.deepEqual(await dst.list(), []);
    assert.deepEqual(await dst.content.list(), []);
    await writeFile(join(dir, 'junk.tar'), await filesTar({ hello: 'not an image' }));
    await assert.rejects(loadImages(dst, createReadStream(join(dir, 'junk.tar'))), {
      kind: 'invalid',
      message: /neither index.json nor manifest.json/,
    });
    assert.deepEqual(await dst.content.list(), []);
  });
});

describe('escaping layers are refused at load and import, before anything is named', () => {
  const escapes: [string, () => Promise<Buffer>, RegExp][] = [
    ['a "../" name', () => filesTar({ ok: 'fine' }, [{ header: { name: '../../escaped', mode: 0o644 }, body: 'x' }]), /"\.\." in path/],
    [
      'an absolute symlink used as a parent',
      () =>
        filesTar({}, [
          { header: { name: 'etc', type: 'symlink', linkname: '/etc' } },
          { header: { name: 'etc/berth-escaped', mode: 0o644 }, body: 'x' },
        ]),
      /through symlink "etc"/,
    ],
    [
      'a hard link out of the layer',
      () => filesTar({}, [{ header: { name: 'h', type: 'link', linkname: '../../etc/shadow' } }]),
      /hard link "h"/,
    ],
    [
      'a whiteout of ".."',
      () => filesTar({}, [{ header: { name: 'd/', type: 'directory' } }, { header: { name: 'd/.wh...' }, body: '' }]),
      /whiteout of "\.\."/,
    ],
  ];
  for (const [what, layer, re] of escapes) {
    test(`load refuses ${what}; the store keeps nothing`, async () => {
      const src = await newStore();
      await storeImage(src, 'berth.test/escape:1', [await filesTar({ a: 'first layer\n' }), await layer()]);
      const file = join(await tempDir('escape'), 'escape.tar');
      await pipeline(await saveImages(src, ['berth.test/escape:1']), createWriteStream(file));
      const dst = await newStore();
      await assert.rejects(
        loadImages(dst, createReadStream(file)),
        (e: Error & { kind?: string }) => e.kind === 'invalid' && re.test(e.message) && /^archive: layer sha256:/.test(e.message),
      );
      assert.deepEqual(await dst.list(), []);
      assert.deepEqual(await dst.content.list(), []);
    });
    test(`import refuses ${what}; the store keeps nothing`, async () => {
      const store = await newStore();
      const tar = await layer();
      await assert.rejects(
        importRootfs(
          store,
          (async function* () {
            yield tar;
          })(),
          'berth.test/imp-escape:1',
        ),
        (e: Error & { kind?: string }) => e.kind === 'invalid' && re.test(e.message),
      );
      assert.deepEqual(await store.list(), []);
      assert.deepEqual(await store.content.list(), []);
    });
  }
});

describe('import and export', () => {
  test('import a busybox root file system, run it, export it back', async () => {
    const root = await tempDir('impexp');
    const store = new ImageStore(join(root, 'images'));
    const snaps = new Snapshotter(join(root, 'snapshots'));
    const rootfs = await busyboxTar();
    await importRootfs(
      store,
      (async function* () {
        yield rootfs;
      })(),
      'berth.test/imported:1',
      { config: { Cmd: ['/bin/sh'] } },
    );
    const img = await store.resolve('berth.test/imported:1');
    assert.equal(img.manifest.layers.length, 1);
    assert.deepEqual(img.config.config?.Cmd, ['/bin/sh']);
    const s = await snaps.prepare('imp', store, 'berth.test/imported:1');
    try {
      assert.equal(run('chroot', s.rootfs, '/bin/echo', 'imported runs'), 'imported runs\n');
      await writeFile(join(s.rootfs, 'etc/exported'), 'yes\n');
      const file = join(root, 'export.tar');
      await pipeline(exportRootfs(s.rootfs), createWriteStream(file));
      const names = await tarNames(file);
      for (const n of ['bin/', 'bin/busybox', 'bin/sh', 'etc/passwd', 'etc/exported', 'tmp/'])
        assert.ok(names.includes(n), `${n} in ${names.join(',')}`);
      // the export imports again as an image
      await importRootfs(store, createReadStream(file), 'berth.test/reimported:1');
      assert.equal((await store.list()).length, 2);
    } finally {
      await snaps.remove('imp');
    }
  });
});

describe('save and load of multi-platform images', () => {
  test('every platform of an index survives save and load; tag-only layouts load under a given repository', async () => {
    const dir = await tempDir('multi');
    const layout = join(dir, 'layout');
    const { top, manifests } = await writeOciLayout(
      layout,
      [
        { platform: { os: 'linux', architecture: 'amd64' }, tars: [await filesTar({ p: 'amd64\n' })] },
        { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, tars: [await filesTar({ p: 'arm64\n' })] },
      ],
      'v1',
    );
    const tarFile = join(dir, 'layout.tar');
    execFileSync('tar', ['-C', layout, '-cf', tarFile, '.']);
    const store = await newStore();
    await assert.rejects(loadImages(store, createReadStream(tarFile)), { kind: 'invalid', message: /only by the tag "v1"/ });
    assert.deepEqual(await store.content.list(), []);
    const r = await loadImages(store, createReadStream(tarFile), { repository: 'berth.test/multi' });
    assert.deepEqual(r.names, ['berth.test/multi:v1']);
    const img = await store.resolve('berth.test/multi:v1');
    assert.equal(img.record.index?.digest, top.digest);
    assert.deepEqual(img.record.platforms?.map((p) => p.digest).sort(), manifests.map((m) => m.digest).sort());

    const out = join(dir, 'saved');
    await saveOciLayout(store, ['berth.test/multi:v1'], out);
    const raw = JSON.parse(run('skopeo', 'inspect', '--raw', `oci:${out}:v1`));
    assert.equal(raw.manifests.length, 2);
    const copy = join(dir, 'copy');
    run('skopeo', 'copy', '--all', `oci:${out}:v1`, `oci:${copy}:v1`);
    const file = join(dir, 'saved.tar');
    await pipeline(await saveImages(store, ['berth.test/multi:v1']), createWriteStream(file));
    const again = await newStore();
    await loadImages(again, createReadStream(file));
    assert.equal((await again.resolve('berth.test/multi:v1')).record.platforms?.length, 2);
  });
});
