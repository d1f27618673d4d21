// Unit tests of src/oci/image.ts (kept here: the image library owns those types).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaType, digestOf, layerCompression, parseDigest, parseManifestOrIndex, verifyDigest } from '../oci/image.js';

test('digests: parse, compute, verify', () => {
  const d = digestOf('abc');
  assert.equal(d, 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.deepEqual(parseDigest(d), { algorithm: 'sha256', encoded: d.slice(7) });
  assert.throws(() => parseDigest('sha256:ABC'), { kind: 'invalid' });
  assert.throws(() => parseDigest('md5:' + 'a'.repeat(32)), { kind: 'unsupported' });
  assert.throws(() => parseDigest('nocolon'), { kind: 'invalid' });
  assert.equal(parseDigest('sha512:' + 'a'.repeat(128)).algorithm, 'sha512');
  verifyDigest(Buffer.from('abc'), { mediaType: 'x', digest: d, size: 3 });
  assert.throws(() => verifyDigest(Buffer.from('abd'), d), { kind: 'invalid', message: /digest mismatch/ });
  assert.throws(() => verifyDigest(Buffer.from('abc'), { mediaType: 'x', digest: d, size: 4 }), {
    kind: 'invalid',
    message: /size mismatch/,
  });
});

test('manifests and indexes: shape checks and media types', () => {
  const desc = { mediaType: MediaType.ImageConfig, digest: digestOf('c'), size: 1 };
  const m = parseManifestOrIndex(
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.DockerManifest, config: desc, layers: [] })),
  );
  assert.equal(m.kind, 'manifest');
  assert.equal(m.mediaType, MediaType.DockerManifest);
  const i = parseManifestOrIndex(
    Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [desc] })),
    'application/vnd.oci.image.index.v1+json; charset=utf-8',
  );
  assert.equal(i.kind, 'index');
  const noType = parseManifestOrIndex(Buffer.from(JSON.stringify({ schemaVersion: 2, config: desc, layers: [] })));
  assert.equal(noType.mediaType, MediaType.ImageManifest);
  assert.throws(() => parseManifestOrIndex(Buffer.from('[]')), { message: /schemaVersion/ });
  assert.throws(
    () =>
      parseManifestOrIndex(
        Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageManifest, config: { ...desc, size: -1 }, layers: [] })),
      ),
    { kind: 'invalid', message: /size/ },
  );
  assert.throws(
    () => parseManifestOrIndex(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageManifest, config: desc }))),
    { kind: 'invalid', message: /layers missing/ },
  );
  assert.equal(layerCompression(MediaType.DockerLayerGzip), 'gzip');
  assert.equal(layerCompression(MediaType.LayerZstd), 'zstd');
  assert.equal(layerCompression(MediaType.Layer), 'none');
  assert.throws(() => layerCompression('application/x-tar+lz4'), { kind: 'unsupported' });
});
