// Pull and push against Debian's docker-registry on 127.0.0.1, interop with skopeo, and the
// image store's names and reference counts. Every registry, temp dir and process is removed.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { Snapshotter } from '../src/image/snapshot.js';
import { mountsUnder, unmount } from '../src/image/mount.js';
import { packTar } from '../src/image/tar.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ImageStore } from '../src/image/store.js';
import { pull, type PullProgress } from '../src/image/registry/pull.js';
import { push } from '../src/image/registry/push.js';
import { MediaType } from '../src/oci/image.js';
import { hostPlatform } from '../src/image/platform.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';
import { busyboxTar, filesTar, storeImage, writeOciLayout } from './helpers/images.js';

const temps: string[] = [];
async function tempDir(prefix: string) {
  const d = await mkdtemp(join(tmpdir(), `berth-${prefix}-`));
  temps.push(d);
  return d;
}
async function newStore() {
  return new ImageStore(await tempDir('images'));
}
async function removeTemps() {
  for (const d of temps.splice(0)) {
    for (const m of await mountsUnder(d)) await unmount(m).catch(() => execFileSync('umount', ['-l', m]));
    await rm(d, { recursive: true, force: true });
  }
}
const skopeo = (...args: string[]) => execFileSync('skopeo', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('registry pull and push (docker-registry)', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => {
    await reg?.stop();
    await removeTemps();
  });

  test('berth pushes a busybox image, pulls it back, skopeo inspects it', async () => {
    const src = await newStore();
    const bb = await busyboxTar();
    const extra = await filesTar({ 'etc/motd': 'hello from berth\n' });
    const m = await storeImage(src, `${reg.host}/test/busybox:1`, [bb, extra]);
    const pushed = await push(src, `${reg.host}/test/busybox:1`);
    assert.equal(pushed.digest, m.digest);
    assert.deepEqual(pushed.blobs.map((b) => b.how).sort(), ['uploaded', 'uploaded', 'uploaded']);
    // pushed again: every blob is already there
    const again = await push(src, `${reg.host}/test/busybox:1`);
    assert.ok(again.blobs.every((b) => b.how === 'exists'));

    const info = JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/test/busybox:1`));
    assert.equal(info.Digest, m.digest);
    assert.equal(info.Layers.length, 2);
    assert.equal(info.Architecture, 'amd64');

    const dst = await newStore();
    const events: PullProgress[] = [];
    const r = await pull(dst, `${reg.host}/test/busybox:1`, { onProgress: (e) => events.push(e) });
    assert.equal(r.manifest.digest, m.digest);
    assert.equal(r.image.manifest.layers.length, 2);
    assert.deepEqual(r.image.repoTags, [`${reg.host}/test/busybox:1`]);
    assert.ok(events.some((e) => e.status === 'Download complete'));
    assert.ok(events.some((e) => e.status === 'Pull complete'));
    const list = await dst.list();
    assert.equal(list.length, 1);
    assert.equal(list[0].id, r.image.id);
    assert.deepEqual(list[0].repoDigests, [`${reg.host}/test/busybox@${m.digest}`]);

    // a second pull downloads nothing
    const events2: PullProgress[] = [];
    const r2 = await pull(dst, `${reg.host}/test/busybox:1`, { onProgress: (e) => events2.push(e) });
    assert.equal(r2.fetched, 0);
    assert.equal(events2.filter((e) => e.status === 'Already exists').length, 3);
  });

  test('what skopeo pushes (multi-platform OCI index) berth pulls per platform', async () => {
    const layout = await tempDir('layout');
    const base = await filesTar({ 'etc/os-release': 'ID=berth-test\n' });
    const { top, manifests } = await writeOciLayout(
      layout,
      [
        { platform: { os: 'linux', architecture: 'amd64' }, tars: [base, await filesTar({ arch: 'amd64\n' })] },
        { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, tars: [base, await filesTar({ arch: 'arm64\n' })] },
        { platform: { os: 'linux', architecture: 'arm', variant: 'v7' }, tars: [base, await filesTar({ arch: 'armv7\n' })] },
      ],
      'multi',
    );
    skopeo('copy', '--all', '--dest-tls-verify=false', `oci:${layout}:multi`, `docker://${reg.host}/test/multi:1`);
    const store = await newStore();
    const arm = await pull(store, `${reg.host}/test/multi:1`, { platform: 'linux/arm64' });
    assert.equal(arm.manifest.digest, manifests[1].digest);
    assert.equal(arm.image.config.architecture, 'arm64');
    assert.equal(arm.repoDigest, `${reg.host}/test/multi@${top.digest}`);
    const v7 = await pull(store, `${reg.host}/test/multi:v7`.replace(':v7', ':1'), { platform: 'linux/arm/v7' });
    assert.equal(v7.manifest.digest, manifests[2].digest);
    if (hostPlatform().architecture === 'amd64') {
      const def = await pull(store, `${reg.host}/test/multi:1`);
      assert.equal(def.manifest.digest, manifests[0].digest);
    }
    await assert.rejects(pull(store, `${reg.host}/test/multi:1`, { platform: 'linux/s390x' }), {
      kind: 'not-found',
      message: /no matching manifest for linux\/s390x/,
    });
    // by digest of the index
    const byDigest = await pull(store, `${reg.host}/test/multi@${top.digest}`, { platform: 'linux/arm64' });
    assert.equal(byDigest.manifest.digest, manifests[1].digest);

    // every platform: kept together, pushed back as the same index, removed together
    const all = await newStore();
    const r = await pull(all, `${reg.host}/test/multi:1`, { allPlatforms: true, platform: 'linux/arm64' });
    assert.equal(r.manifest.digest, manifests[1].digest);
    assert.deepEqual(r.image.record.platforms?.map((p) => p.digest).sort(), manifests.map((m) => m.digest).sort());
    const pushed = await push(all, `${reg.host}/test/multi:1`, `${reg.host}/copy/multi:all`);
    assert.equal(pushed.digest, top.digest);
    const raw = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/copy/multi:all`));
    assert.equal(raw.manifests.length, 3);
    const copy = await tempDir('skopeo-all');
    skopeo('copy', '--all', '--src-tls-verify=false', `docker://${reg.host}/copy/multi:all`, `oci:${copy}:x`);
    await all.remove(`${reg.host}/test/multi:1`);
    assert.deepEqual(await all.content.list(), []);
  });

  test('berth pulls a Docker schema 2 image that skopeo pushed', async () => {
    const layout = await tempDir('layout');
    await writeOciLayout(layout, [{ platform: { os: 'linux', architecture: 'amd64' }, tars: [await filesTar({ a: 'docker v2s2\n' })] }]);
    skopeo('copy', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://${reg.host}/test/v2s2:latest`);
    const store = await newStore();
    const r = await pull(store, `${reg.host}/test/v2s2`);
    assert.equal(r.manifest.mediaType, MediaType.DockerManifest);
    assert.equal(r.image.manifest.layers[0].mediaType, MediaType.DockerLayerGzip);
    assert.equal(r.image.config.rootfs.diff_ids.length, 1);
  });

  test('chunked upload and cross-repository mount', async () => {
    const src = await newStore();
    const big = await filesTar({ 'data/big': randomBytes(100_000).toString('base64') });
    await storeImage(src, `${reg.host}/test/chunked:1`, [big]);
    const p1 = await push(src, `${reg.host}/test/chunked:1`, undefined, { chunkSize: 16 * 1024 });
    assert.ok(p1.blobs.every((b) => b.how === 'uploaded'));
    const dst = await newStore();
    await pull(dst, `${reg.host}/test/chunked:1`, { rangeThreshold: 50_000, rangeParts: 3 }); // parallel ranges from docker-registry
    // pushed to another repository of the same registry: layers are mounted, not uploaded
    await dst.tag(`${reg.host}/test/chunked:1`, `${reg.host}/other/copy:1`);
    const p2 = await push(dst, `${reg.host}/other/copy:1`);
    assert.deepEqual(p2.blobs.map((b) => b.how).sort(), ['mounted', 'mounted']);
    const info = JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/other/copy:1`));
    assert.equal(info.Digest, p1.digest);
  });

  test('skopeo pulls what berth pushed; a layered image with deletions and hard links mounts after push and pull', async () => {
    const src = await newStore();
    const mt = new Date('2024-01-01T00:00:00Z');
    const base = await packTar([
      { header: { name: 'etc/', type: 'directory', mode: 0o755, mtime: mt } },
      { header: { name: 'etc/old', mtime: mt }, body: 'old\n' },
      { header: { name: 'd/', type: 'directory', mode: 0o755, mtime: mt } },
      { header: { name: 'd/x', mtime: mt }, body: 'x\n' },
    ]);
    const top = await packTar([
      { header: { name: 'etc/.wh.old', mtime: mt } },
      { header: { name: 'd/', type: 'directory', mode: 0o755, mtime: mt } },
      { header: { name: 'd/.wh..wh..opq', mtime: mt } },
      { header: { name: 'd/y', mtime: mt }, body: 'y\n' },
      { header: { name: 'h1', mtime: mt }, body: 'same inode\n' },
      { header: { name: 'h2', type: 'link', linkname: 'h1', mtime: mt } },
    ]);
    await storeImage(src, `${reg.host}/test/layered:1`, [await busyboxTar(), base, top]);
    const pushed = await push(src, `${reg.host}/test/layered:1`);
    // skopeo pulls it into an OCI layout, which umoci then unpacks
    const out = await tempDir('skopeo-pull');
    skopeo('copy', '--src-tls-verify=false', `docker://${reg.host}/test/layered:1`, `oci:${join(out, 'layout')}:l`);
    execFileSync('umoci', ['unpack', '--image', `${join(out, 'layout')}:l`, join(out, 'bundle')]);
    assert.equal(await readFile(join(out, 'bundle/rootfs/d/y'), 'utf8'), 'y\n');
    // berth pulls and mounts it
    const root = await tempDir('layered');
    const dst = new ImageStore(join(root, 'images'));
    const snaps = new Snapshotter(join(root, 'snapshots'));
    const r = await pull(dst, `${reg.host}/test/layered:1`);
    assert.equal(r.manifest.digest, pushed.digest);
    const sn = await snaps.prepare('layered', dst, `${reg.host}/test/layered:1`);
    try {
      await assert.rejects(stat(join(sn.rootfs, 'etc/old')), { code: 'ENOENT' });
      assert.deepEqual(await readdir(join(sn.rootfs, 'd')), ['y']);
      assert.equal((await stat(join(sn.rootfs, 'h1'))).ino, (await stat(join(sn.rootfs, 'h2'))).ino);
      assert.equal(execFileSync('chroot', [sn.rootfs, '/bin/cat', '/h2'], { encoding: 'utf8' }), 'same inode\n');
    } finally {
      await snaps.remove('layered');
    }
  });

  test('missing tag and missing repository are not-found; nothing is named', async () => {
    const store = await newStore();
    await assert.rejects(pull(store, `${reg.host}/test/busybox:nope`), { kind: 'not-found', message: /MANIFEST_UNKNOWN|not found/ });
    await assert.rejects(pull(store, `${reg.host}/no/such:1`), { kind: 'not-found' });
    assert.deepEqual(await store.list(), []);
  });
});

describe('registry with htpasswd auth (docker-registry)', () => {
  let reg: TestRegistry;
  const creds = { username: 'berth', password: 's3cret-pass' };
  before(async () => {
    reg = await startRegistry({ auth: creds });
  });
  after(async () => {
    await reg?.stop();
    for (const d of temps.splice(0)) await rm(d, { recursive: true, force: true });
  });

  test('without credentials: 401 is a clear error; with ~/.docker/config.json: push and pull work', async () => {
    const src = await newStore();
    await storeImage(src, `${reg.host}/auth/img:1`, [await filesTar({ f: 'auth\n' })]);
    const empty = join(await tempDir('dockercfg'), 'config.json');
    await assert.rejects(push(src, `${reg.host}/auth/img:1`, undefined, { dockerConfig: empty }), {
      kind: 'invalid',
      message: /unauthorized.*docker login/,
    });
    const cfgDir = await tempDir('dockercfg');
    const cfg = join(cfgDir, 'config.json');
    await writeFile(
      cfg,
      JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') } } }),
    );
    const pushed = await push(src, `${reg.host}/auth/img:1`, undefined, { dockerConfig: cfg });
    const dst = await newStore();
    await assert.rejects(pull(dst, `${reg.host}/auth/img:1`, { dockerConfig: empty }), { kind: 'invalid', message: /unauthorized/ });
    const r = await pull(dst, `${reg.host}/auth/img:1`, { dockerConfig: cfg });
    assert.equal(r.manifest.digest, pushed.digest);
    const bad = join(cfgDir, 'bad.json');
    await writeFile(bad, JSON.stringify({ auths: { [reg.host]: { username: 'berth', password: 'wrong' } } }));
    await assert.rejects(pull(await newStore(), `${reg.host}/auth/img:1`, { dockerConfig: bad }), {
      kind: 'invalid',
      message: /unauthorized/,
    });
  });
});

describe('image store names and reference counts', () => {
  after(async () => {
    for (const d of temps.splice(0)) await rm(d, { recursive: true, force: true });
  });

  test('rmi deletes exactly the blobs no other image uses', async () => {
    const store = await newStore();
    const base = await filesTar({ base: 'shared base\n' });
    const a = await storeImage(store, 'berth.test/a:1', [base, await filesTar({ a: 'a\n' })]);
    await storeImage(store, 'berth.test/b:1', [base, await filesTar({ b: 'b\n' })]);
    await store.tag('berth.test/a:1', 'berth.test/a:alias');
    const all = (await store.content.list()).length;
    assert.equal(all, 2 * 2 + 1 + 2); // 2 configs + 2 manifests + shared base + 2 own layers
    const df = await store.df();
    assert.equal(df.images, 2);
    assert.equal(df.reclaimable, 0);

    // by ID with two names: conflict unless forced
    const img = await store.resolve('berth.test/a:1');
    await assert.rejects(store.remove(img.id), { kind: 'conflict' });
    const r1 = await store.remove('berth.test/a:alias');
    assert.deepEqual(r1, { untagged: ['berth.test/a:alias'], deleted: [] });
    const r2 = await store.remove('berth.test/a:1');
    assert.equal(r2.deleted.length, 3); // manifest, config, own layer — not the shared base
    assert.ok(r2.deleted.includes(a.digest));
    const bImg = await store.resolve('berth.test/b:1');
    for (const l of bImg.manifest.layers) assert.ok(await store.content.has(l.digest));
    await assert.rejects(store.resolve('berth.test/a:1'), { kind: 'not-found', message: /No such image/ });
    const r3 = await store.remove(bImg.id.slice(7, 19));
    assert.equal(r3.deleted.length, 4);
    assert.deepEqual(await store.content.list(), []);
    assert.deepEqual(await store.list(), []);
  });

  test('re-tagging a name to another image leaves the old one dangling until deleted; prune removes unreferenced blobs', async () => {
    const store = await newStore();
    const old = await storeImage(store, 'berth.test/x:1', [await filesTar({ one: '1' })]);
    await storeImage(store, 'berth.test/x:1', [await filesTar({ two: '2' })]);
    const listed = await store.list();
    assert.equal(listed.length, 2);
    assert.deepEqual(listed.find((i) => i.manifestDigest === old.digest)?.repoTags, []);
    assert.equal((await store.content.list()).length, 6);
    const gone = await store.delete(old.digest);
    assert.deepEqual(gone.untagged, []);
    assert.equal(gone.deleted.length, 3);
    assert.equal((await store.content.list()).length, 3);
    await store.content.put(Buffer.from('stray'));
    const p = await store.prune();
    assert.equal(p.deleted.length, 1);
    assert.equal((await store.content.list()).length, 3);
    assert.ok((await readdir(store.root)).includes('images.json'));
  });

  test("untag keeps the image (dangling once nameless); a repository's digest names go with its last tag; delete frees blobs", async () => {
    const store = await newStore();
    const d = await storeImage(store, 'berth.test/u:1', [await filesTar({ u: 'u' })]);
    await store.setReference(`berth.test/u@${d.digest}`, d);
    await store.setReference(`berth.test/other@${d.digest}`, d);
    await store.tag('berth.test/u:1', 'berth.test/u:2');
    assert.deepEqual(await store.untag('berth.test/u:2'), ['berth.test/u:2']);
    assert.deepEqual(await store.untag('berth.test/u:1'), ['berth.test/u:1', `berth.test/u@${d.digest}`]);
    assert.deepEqual(await store.references(d.digest), [`berth.test/other@${d.digest}`]);
    await assert.rejects(store.untag('berth.test/u:1'), { kind: 'not-found' });
    assert.deepEqual(await store.untag(`berth.test/other@${d.digest}`), [`berth.test/other@${d.digest}`]);
    const [dangling] = await store.list();
    assert.deepEqual(dangling.repoTags, []);
    const r = await store.delete(d.digest);
    assert.equal(r.deleted.length, 3);
    assert.deepEqual(await store.list(), []);
  });
});
