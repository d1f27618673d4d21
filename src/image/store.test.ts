import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MediaType, digestOf } from '../oci/image.js';
import { ImageStore } from './store.js';
import { packTar } from './tar.js';

test("image sizes: layers' unpacked sizes, measured from the blob where none (or an older berth's) was recorded", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-store-'));
  try {
    const store = new ImageStore(dir);
    const mtime = new Date(0);
    const raw = await packTar([
      { header: { name: 'f', mtime }, body: '12345' },
      { header: { name: 'l', type: 'symlink', linkname: 'f', mtime } },
      { header: { name: 'h', type: 'link', linkname: 'f', mtime } },
    ]);
    const blob = gzipSync(raw);
    const layer = { mediaType: MediaType.LayerGzip, digest: digestOf(blob), size: blob.length };
    await store.content.put(blob, layer);
    const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' as const, diff_ids: [digestOf(raw)] }, config: {} };
    await store.createImage('example.com/sizes:1', config, [layer]);
    const record = join(dir, 'layer-sizes', layer.digest.replace(':', '-'));
    const size = async () => (await store.list())[0].size;
    // Nothing recorded (createImage unpacks nothing): measured, 5 bytes of file and the symlink's 1, and recorded.
    assert.equal(await size(), 6);
    assert.equal(await readFile(record, 'utf8'), '{"unpacked":6}');
    // An older berth's record, a plain number that left symlinks out: measured again.
    await writeFile(record, '5');
    assert.equal(await size(), 6);
    assert.equal(await readFile(record, 'utf8'), '{"unpacked":6}');
    assert.deepEqual((await store.list())[0].layers, [{ chainID: digestOf(raw), size: 6 }]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
