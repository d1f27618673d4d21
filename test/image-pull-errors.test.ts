// Pull against a fake registry in Node for what a real one will not do on demand: answer 500,
// hang, send a wrong blob, cut a transfer in the middle, demand a bearer token. Bad input is a
// clear error and leaves the store unchanged; a cut pull resumes with Range.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readdir, readFile } from 'node:fs/promises';
import { execFileSync, spawn } from 'node:child_process';
import { unpackLayer } from '../src/image/unpack.js';
import { Snapshotter } from '../src/image/snapshot.js';
import { packTar } from '../src/image/tar.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ImageStore } from '../src/image/store.js';
import { pull } from '../src/image/registry/pull.js';
import { MediaType, digestOf, type Manifest } from '../src/oci/image.js';
import { startFake, type FakeServer, type Handler } from './helpers/registry.js';
import { configFor, filesTar, gzLayer } from './helpers/images.js';

const temps: string[] = [];
const servers: FakeServer[] = [];
after(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const d of temps.splice(0)) await rm(d, { recursive: true, force: true });
});
async function newStore() {
  const d = await mkdtemp(join(tmpdir(), 'berth-images-'));
  temps.push(d);
  return new ImageStore(d);
}

async function fixture(bytes = 300_000) {
  const layer = gzLayer(await filesTar({ big: randomBytes(bytes).toString('base64') }));
  const config = Buffer.from(JSON.stringify(configFor([layer])));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ImageManifest,
    config: { mediaType: MediaType.ImageConfig, digest: digestOf(config), size: config.length },
    layers: [layer.desc],
  };
  const mbytes = Buffer.from(JSON.stringify(manifest));
  const blobs = new Map<string, Buffer>([
    [layer.desc.digest, layer.blob],
    [digestOf(config), config],
  ]);
  return { layer, config, manifest, mbytes, blobs };
}

type Fx = Awaited<ReturnType<typeof fixture>>;

/** A registry serving one image `fake/img:1`; `hook` may answer a request first. */
function registryHandler(fx: Fx, hook?: (req: Parameters<Handler>[0], res: Parameters<Handler>[1]) => boolean | Promise<boolean>): Handler {
  return async (req, res) => {
    if (hook && (await hook(req, res))) return;
    const url = req.url ?? '';
    if (url === '/v2/') {
      res.end('{}');
      return;
    }
    const m = /^\/v2\/fake\/img\/(manifests|blobs)\/(.+)$/.exec(url);
    if (m && m[1] === 'manifests' && (m[2] === '1' || m[2] === digestOf(fx.mbytes))) {
      res.setHeader('content-type', MediaType.ImageManifest);
      res.setHeader('docker-content-digest', digestOf(fx.mbytes));
      res.end(fx.mbytes);
      return;
    }
    const blob = m && m[1] === 'blobs' ? fx.blobs.get(m[2]) : undefined;
    if (blob) {
      const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
      if (range) {
        const start = Number(range[1]);
        const end = range[2] ? Math.min(Number(range[2]), blob.length - 1) : blob.length - 1;
        res.statusCode = 206;
        res.setHeader('content-range', `bytes ${start}-${end}/${blob.length}`);
        res.end(blob.subarray(start, end + 1));
      } else {
        res.end(blob);
      }
      return;
    }
    res.statusCode = 404;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
  };
}

async function serve(h: Handler) {
  const s = await startFake(h);
  servers.push(s);
  return s;
}

async function assertEmpty(store: ImageStore) {
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(await store.content.list(), []);
}

describe('pull errors and resume (fake registry)', () => {
  test('500 is a system error naming the registry; nothing stored', async () => {
    const fx = await fixture();
    const s = await serve(
      registryHandler(fx, (req, res) => {
        if (req.url?.includes('/blobs/')) {
          res.statusCode = 500;
          res.end('boom');
          return true;
        }
        return false;
      }),
    );
    const store = await newStore();
    await assert.rejects(pull(store, `${s.host}/fake/img:1`), { kind: 'system', message: new RegExp(`answered 500.*boom|${s.host}.*500`) });
    await assertEmpty(store);
  });

  test('a registry that hangs times out', async () => {
    const fx = await fixture();
    const s = await serve(registryHandler(fx, (req) => Boolean(req.url?.includes('/manifests/'))));
    const store = await newStore();
    const t0 = Date.now();
    await assert.rejects(pull(store, `${s.host}/fake/img:1`, { timeoutMs: 300 }), {
      kind: 'system',
      message: /did not answer within 300 ms/,
    });
    assert.ok(Date.now() - t0 < 5000);
    await assertEmpty(store);
  });

  test('a body that stalls is abandoned after the idle timeout and resumes later', async () => {
    const fx = await fixture();
    let stall = true;
    const s = await serve(
      registryHandler(fx, (req, res) => {
        if (stall && req.url === `/v2/fake/img/blobs/${fx.layer.desc.digest}`) {
          res.setHeader('content-length', fx.layer.blob.length);
          res.write(fx.layer.blob.subarray(0, 1000)); // then nothing
          return true;
        }
        return false;
      }),
    );
    const store = await newStore();
    await assert.rejects(pull(store, `${s.host}/fake/img:1`, { idleTimeoutMs: 300 }), { kind: 'system', message: /no data for 300 ms/ });
    assert.deepEqual(await store.list(), []);
    stall = false;
    const r = await pull(store, `${s.host}/fake/img:1`);
    assert.equal(r.manifest.digest, digestOf(fx.mbytes));
  });

  test('a blob with the wrong content is a digest mismatch; the store stays unchanged', async () => {
    const fx = await fixture();
    const s = await serve(
      registryHandler(fx, (req, res) => {
        if (req.url === `/v2/fake/img/blobs/${fx.layer.desc.digest}`) {
          const evil = Buffer.from(fx.layer.blob);
          evil[100] ^= 0xff;
          res.end(evil);
          return true;
        }
        return false;
      }),
    );
    const store = await newStore();
    await assert.rejects(pull(store, `${s.host}/fake/img:1`), { kind: 'invalid', message: /digest mismatch/ });
    assert.deepEqual(await store.list(), []);
    assert.ok(!(await store.content.has(fx.layer.desc.digest)));
    assert.deepEqual(await readdir(join(store.content.root, 'ingest')), []);
  });

  test('a truncated blob is a size mismatch', async () => {
    const fx = await fixture();
    const s = await serve(
      registryHandler(fx, (req, res) => {
        if (req.url === `/v2/fake/img/blobs/${fx.layer.desc.digest}`) {
          res.end(fx.layer.blob.subarray(0, 5000));
          return true;
        }
        return false;
      }),
    );
    const store = await newStore();
    await assert.rejects(pull(store, `${s.host}/fake/img:1`), { kind: 'invalid', message: /size mismatch/ });
    assert.deepEqual(await store.list(), []);
  });

  test('a manifest whose digest is not the one asked for is refused', async () => {
    const fx = await fixture();
    const s = await serve(registryHandler(fx));
    const store = await newStore();
    const wrong = digestOf('something else');
    await assert.rejects(
      pull(store, `${s.host}/fake/img@${wrong}`),
      (e: Error & { kind?: string }) => e.kind === 'not-found' || /digest mismatch/.test(e.message),
    );
    const s2 = await serve(
      registryHandler(fx, (req, res) => {
        if (req.url?.includes('/manifests/')) {
          res.setHeader('content-type', MediaType.ImageManifest);
          res.end(Buffer.concat([fx.mbytes, Buffer.from(' ')]));
          return true;
        }
        return false;
      }),
    );
    await assert.rejects(pull(store, `${s2.host}/fake/img@${digestOf(fx.mbytes)}`), { kind: 'invalid', message: /digest mismatch/ });
    await assertEmpty(store);
  });

  test('malformed manifest and unknown media types are clear errors', async () => {
    const fx = await fixture();
    const cases: [string, string, RegExp][] = [
      ['{not json', MediaType.ImageManifest, /not JSON/],
      [JSON.stringify({ schemaVersion: 2, mediaType: 'application/x-weird' }), 'application/x-weird', /unknown manifest media type/],
      [JSON.stringify({ schemaVersion: 1 }), 'application/json', /schemaVersion/],
      [
        JSON.stringify({ ...fx.manifest, layers: [{ ...fx.layer.desc, mediaType: 'application/x-rar' }] }),
        MediaType.ImageManifest,
        /unknown layer media type/,
      ],
      [
        JSON.stringify({ ...fx.manifest, layers: [{ mediaType: MediaType.LayerGzip, digest: 'sha256:xyz', size: 1 }] }),
        MediaType.ImageManifest,
        /invalid digest/,
      ],
    ];
    for (const [body, ct, re] of cases) {
      const s = await serve(
        registryHandler(fx, (req, res) => {
          if (req.url?.includes('/manifests/')) {
            res.setHeader('content-type', ct);
            res.end(body);
            return true;
          }
          return false;
        }),
      );
      const store = await newStore();
      await assert.rejects(pull(store, `${s.host}/fake/img:1`), { message: re });
      await assertEmpty(store);
    }
  });

  test('a pull cut mid-layer resumes with Range and fetches only the rest', async () => {
    const fx = await fixture();
    const cutAt = 100_000;
    let cut = true;
    const s = await serve(
      registryHandler(fx, (req, res) => {
        if (cut && req.url === `/v2/fake/img/blobs/${fx.layer.desc.digest}`) {
          cut = false;
          res.setHeader('content-length', fx.layer.blob.length);
          res.write(fx.layer.blob.subarray(0, cutAt), () => setTimeout(() => res.destroy(), 20));
          return true;
        }
        return false;
      }),
    );
    const store = await newStore();
    await assert.rejects(pull(store, `${s.host}/fake/img:1`), { kind: 'system' });
    assert.equal(await store.content.partialSize(fx.layer.desc.digest), cutAt);
    const r = await pull(store, `${s.host}/fake/img:1`);
    const ranged = s.requests.filter((q) => q.url.endsWith(fx.layer.desc.digest));
    assert.equal(ranged.at(-1)?.headers.range, `bytes=${cutAt}-`);
    assert.equal(r.fetched, fx.layer.blob.length - cutAt, 'only the missing bytes of the layer were fetched (config was complete)');
    assert.ok(await store.content.has(fx.layer.desc.digest));
  });

  test('bearer token from the WWW-Authenticate challenge, with basic credentials from the config file', async () => {
    const fx = await fixture();
    const token = 'tok-' + Math.random().toString(16).slice(2);
    const tokenRequests: string[] = [];
    let host = '';
    const s = await serve(
      registryHandler(fx, (req, res) => {
        if (req.url?.startsWith('/token')) {
          tokenRequests.push(req.url);
          if (req.headers.authorization !== `Basic ${Buffer.from('alice:pw').toString('base64')}`) {
            res.statusCode = 401;
            res.end();
            return true;
          }
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ token }));
          return true;
        }
        if (req.headers.authorization !== `Bearer ${token}`) {
          res.statusCode = 401;
          res.setHeader('www-authenticate', `Bearer realm="http://${host}/token",service="fake.test",scope="repository:fake/img:pull"`);
          res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
          return true;
        }
        return false;
      }),
    );
    host = s.host;
    const dir = await mkdtemp(join(tmpdir(), 'berth-dockercfg-'));
    temps.push(dir);
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ auths: { [s.host]: { auth: Buffer.from('alice:pw').toString('base64') } } }),
    );
    const store = await newStore();
    const r = await pull(store, `${s.host}/fake/img:1`, { dockerConfig: join(dir, 'config.json') });
    assert.equal(r.manifest.digest, digestOf(fx.mbytes));
    assert.equal(tokenRequests.length, 1, 'one token for the whole pull');
    assert.match(tokenRequests[0], /service=fake\.test/);
    assert.match(tokenRequests[0], /scope=repository%3Afake%2Fimg%3Apull/);
    await writeFile(join(dir, 'wrong.json'), JSON.stringify({ auths: { [s.host]: { username: 'alice', password: 'nope' } } }));
    await assert.rejects(pull(await newStore(), `${s.host}/fake/img:1`, { dockerConfig: join(dir, 'wrong.json') }), {
      kind: 'invalid',
      message: /token server refused credentials of alice/,
    });
  });

  test('mirrors are tried first and the registry after a failing mirror', async () => {
    const fx = await fixture();
    const origin = await serve(registryHandler(fx));
    const down = await serve((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const store = await newStore();
    const r = await pull(store, `${origin.host}/fake/img:1`, { mirrors: { [origin.host]: [down.url] } });
    assert.equal(r.manifest.digest, digestOf(fx.mbytes));
    assert.ok(down.requests.length >= 1);
    const mirror = await serve(registryHandler(fx));
    const store2 = await newStore();
    const before = origin.requests.length;
    await pull(store2, `${origin.host}/fake/img:1`, { mirrors: { [origin.host]: [mirror.url] } });
    assert.equal(origin.requests.length, before, 'a working mirror serves everything');
  });

  test('a large blob is fetched as parallel byte ranges; a registry without ranges falls back', async () => {
    const fx = await fixture();
    const s = await serve(registryHandler(fx));
    const store = await newStore();
    const r = await pull(store, `${s.host}/fake/img:1`, { rangeThreshold: 100_000, rangeParts: 4 });
    assert.equal(r.manifest.digest, digestOf(fx.mbytes));
    const ranges = s.requests.filter((q) => q.url.endsWith(fx.layer.desc.digest)).map((q) => q.headers.range);
    assert.equal(ranges[0], 'bytes=0-0');
    assert.equal(ranges.length, 5, JSON.stringify(ranges));
    assert.ok(ranges.slice(1).every((x) => /^bytes=\d+-\d+$/.test(String(x))));
    assert.deepEqual(await readdir(join(store.content.root, 'ingest')), []);

    const plain = await serve(
      registryHandler(fx, (req) => {
        delete req.headers.range;
        return false;
      }),
    );
    const store2 = await newStore();
    const r2 = await pull(store2, `${plain.host}/fake/img:1`, { rangeThreshold: 100_000 });
    assert.equal(r2.manifest.digest, digestOf(fx.mbytes));
    assert.equal(plain.requests.filter((q) => q.url.endsWith(fx.layer.desc.digest)).length, 2, 'probe, then one whole GET');
  });

  test('a wrong byte range is a digest mismatch and leaves no temp file', async () => {
    const fx = await fixture();
    const s = await serve(
      registryHandler(fx, (req, res) => {
        const m = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
        if (m && m[1] !== '0' && req.url?.endsWith(fx.layer.desc.digest)) {
          const [a, b] = [Number(m[1]), Number(m[2])];
          res.statusCode = 206;
          res.setHeader('content-range', `bytes ${a}-${b}/${fx.layer.blob.length}`);
          res.end(Buffer.alloc(b - a + 1, 0x42));
          return true;
        }
        return false;
      }),
    );
    const store = await newStore();
    await assert.rejects(pull(store, `${s.host}/fake/img:1`, { rangeThreshold: 100_000 }), { kind: 'invalid', message: /digest mismatch/ });
    assert.deepEqual(await readdir(join(store.content.root, 'ingest')), []);
    assert.deepEqual(await store.list(), []);
  });

  test('a disk that fills during a pull is a clear error and the space is given back', async () => {
    const fx = await fixture();
    const s = await serve(registryHandler(fx));
    const dir = await mkdtemp(join(tmpdir(), 'berth-full-'));
    temps.push(dir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'berth-test-full', dir]);
    try {
      const store = new ImageStore(join(dir, 'images'));
      await assert.rejects(pull(store, `${s.host}/fake/img:1`), { kind: 'system', message: /no space left on device/ });
      assert.deepEqual(await store.list(), []);
      assert.deepEqual(await readdir(join(store.content.root, 'ingest')), []);
      assert.ok(!(await store.content.has(fx.layer.desc.digest)));
    } finally {
      execFileSync('umount', [dir]);
    }
  });

  test('a zstd layer pulls and unpacks', async () => {
    const tarball = await filesTar({ 'zstd/hello': 'zstd works\n' });
    const blob = execFileSync('zstd', ['-q', '-c'], { input: tarball });
    const desc = { mediaType: MediaType.LayerZstd, digest: digestOf(blob), size: blob.length };
    const config = Buffer.from(JSON.stringify(configFor([{ desc, diffID: digestOf(tarball), blob }])));
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: { mediaType: MediaType.ImageConfig, digest: digestOf(config), size: config.length },
      layers: [desc],
    };
    const fx = {
      layer: { desc, blob, diffID: digestOf(tarball) },
      config,
      manifest,
      mbytes: Buffer.from(JSON.stringify(manifest)),
      blobs: new Map([
        [desc.digest, blob],
        [digestOf(config), config],
      ]),
    };
    const s = await serve(registryHandler(fx));
    const store = await newStore();
    await pull(store, `${s.host}/fake/img:1`);
    const dest = join(store.root, 'unpacked');
    const r = await unpackLayer(await store.content.readStream(desc.digest), dest, { compression: 'zstd', diffID: digestOf(tarball) });
    assert.equal(r.entries, 1);
    assert.equal(await readFile(join(dest, 'zstd/hello'), 'utf8'), 'zstd works\n');
  });

  test('a pull process killed mid-layer is finished by the next pull, fetching only what was missing', async () => {
    const fx = await fixture(4 << 20);
    let slow = true;
    const s = await serve(
      registryHandler(fx, async (req, res) => {
        if (slow && req.url === `/v2/fake/img/blobs/${fx.layer.desc.digest}`) {
          // 128 KiB every 20 ms: the killer has time to strike mid-layer
          res.setHeader('content-length', fx.layer.blob.length);
          for (let off = 0; off < fx.layer.blob.length && !res.destroyed; off += 131072) {
            res.write(fx.layer.blob.subarray(off, off + 131072));
            await new Promise((r) => setTimeout(r, 20));
          }
          res.end();
          return true;
        }
        return false;
      }),
    );
    const store = await newStore();
    const pullModule = new URL('../src/image/registry/pull.js', import.meta.url).href;
    const storeModule = new URL('../src/image/store.js', import.meta.url).href;
    const script = `import { pull } from ${JSON.stringify(pullModule)};
import { ImageStore } from ${JSON.stringify(storeModule)};
await pull(new ImageStore(${JSON.stringify(store.root)}), ${JSON.stringify(`${s.host}/fake/img:1`)});`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 20_000;
      // the store writes in batches of 1 MiB: wait for the first one on disk
      while ((await store.content.partialSize(fx.layer.desc.digest)) < 1 << 20 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid!, 'SIGKILL');
        await exited;
      }
    }
    const have = await store.content.partialSize(fx.layer.desc.digest);
    assert.ok(have > 0 && have < fx.layer.blob.length, `partial ${have} of ${fx.layer.blob.length}`);
    slow = false;
    const r = await pull(store, `${s.host}/fake/img:1`);
    assert.equal(r.manifest.digest, digestOf(fx.mbytes));
    assert.equal(s.requests.filter((q) => q.url.endsWith(fx.layer.desc.digest)).at(-1)?.headers.range, `bytes=${have}-`);
    assert.equal(r.fetched, fx.layer.blob.length - have);
  });

  test('pull unpacks layers as they arrive; a malicious layer fails the pull and names nothing', async () => {
    const good = await fixture();
    const s = await serve(registryHandler(good));
    const root = await mkdtemp(join(tmpdir(), 'berth-pullunpack-'));
    temps.push(root);
    const store = new ImageStore(join(root, 'images'));
    const snaps = new Snapshotter(join(root, 'snapshots'));
    let streamed = 0;
    const orig = snaps.unpackStreaming.bind(snaps);
    snaps.unpackStreaming = (...a) => {
      streamed++;
      return orig(...a);
    };
    const r = await pull(store, `${s.host}/fake/img:1`, { unpack: snaps });
    assert.equal(streamed, 1, 'the layer was unpacked from its download stream');
    assert.equal((await readdir(join(root, 'snapshots', 'layers'))).length, 1);
    assert.deepEqual(await snaps.unpackImage(store, `${s.host}/fake/img:1`), {
      image: r.manifest.digest,
      chainIDs: r.image.config.rootfs.diff_ids,
    });

    const evilTar = await packTar([{ header: { name: '../../escaped', mtime: new Date(0) }, body: 'x' }]);
    const layer = gzLayer(evilTar);
    const config = Buffer.from(JSON.stringify(configFor([layer])));
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: { mediaType: MediaType.ImageConfig, digest: digestOf(config), size: config.length },
      layers: [layer.desc],
    };
    const evil = {
      layer,
      config,
      manifest,
      mbytes: Buffer.from(JSON.stringify(manifest)),
      blobs: new Map([
        [layer.desc.digest, layer.blob],
        [digestOf(config), config],
      ]),
    };
    const s2 = await serve(registryHandler(evil));
    await assert.rejects(pull(store, `${s2.host}/fake/img:1`, { unpack: snaps }), { kind: 'invalid', message: /"\.\.\/\.\.\/escaped"/ });
    await assert.rejects(store.resolve(`${s2.host}/fake/img:1`), { kind: 'not-found' });
    assert.equal((await readdir(join(root, 'snapshots', 'layers'))).length, 1, 'no layer dir for the refused layer');
  });
});
