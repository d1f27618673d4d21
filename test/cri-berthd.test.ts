// berthd as a Kubernetes CRI runtime: a gRPC client over <exec-root>/cri.sock, with the published
// proto, against a berthd of the test's own (engine-fixture: temp roots, a local registry
// mirroring docker.io's busybox), removed afterwards.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { startEngine, until, type EngineFixture } from './engine-fixture.js';

const PROTO = new URL('../../proto/cri-runtime-v1.proto', import.meta.url).pathname;

/** A CRI client: each unary method a promise; enums by name, int64s as numbers, zero values present. */
function criClient(socket: string) {
  const pkg = grpc.loadPackageDefinition(loadSync(PROTO, { keepCase: true, longs: Number, enums: String, defaults: true })) as any;
  const creds = grpc.credentials.createInsecure();
  const services = {
    runtime: new pkg.runtime.v1.RuntimeService(`unix://${socket}`, creds) as grpc.Client,
    image: new pkg.runtime.v1.ImageService(`unix://${socket}`, creds) as grpc.Client,
  };
  const call =
    (s: grpc.Client) =>
    (method: string, req: object = {}): Promise<any> =>
      new Promise((resolve, reject) =>
        (s as any)[method](req, { deadline: Date.now() + 60_000 }, (e: grpc.ServiceError | null, res: unknown) =>
          e ? reject(Object.assign(new Error(`${method}: ${e.details}`), { code: e.code })) : resolve(res),
        ),
      );
  return {
    runtime: call(services.runtime),
    image: call(services.image),
    close: () => Object.values(services).forEach((s) => s.close()),
  };
}

let e: EngineFixture;
let cri: ReturnType<typeof criClient>;
/** The node's CNI config dir, as kubelet's: empty until the pod test writes a network. */
let cniDir: string;
before(async () => {
  cniDir = mkdtempSync(join(tmpdir(), 'berth-test-cni-'));
  e = await startEngine({ daemonConfig: { 'cni-conf-dir': cniDir } });
  // berthd serves the CRI once its Engine API answers.
  await until(() => existsSync(join(e.dir, 'run', 'cri.sock')));
  cri = criClient(join(e.dir, 'run', 'cri.sock'));
});
after(async () => {
  cri?.close();
  await e?.stop();
  rmSync(cniDir, { recursive: true, force: true });
});

test('Version and Status: berth, runtime ready, network not ready without a CNI config', async () => {
  assert.equal(statSync(join(e.dir, 'run', 'cri.sock')).mode & 0o777, 0o600);
  const v = await cri.runtime('Version', { version: '0.1.0' });
  assert.equal(v.runtime_name, 'berth');
  assert.equal(v.runtime_api_version, 'v1');
  await cri.runtime('UpdateRuntimeConfig', { runtime_config: { network_config: { pod_cidr: '10.88.0.0/16' } } });
  const s = await cri.runtime('Status', { verbose: true });
  const cond = Object.fromEntries(s.status.conditions.map((c: { type: string }) => [c.type, c]));
  assert.equal(cond.RuntimeReady.status, true);
  assert.equal(cond.NetworkReady.status, false);
  assert.match(cond.NetworkReady.message, /no CNI network config in/);
  assert.equal(JSON.parse(s.info.config).podCidr, '10.88.0.0/16');
  await assert.rejects(cri.runtime('CheckpointContainer', { container_id: 'x' }), { code: grpc.status.UNIMPLEMENTED });
});

test('ImageService: pull, list, status, fs info, remove; unapplied fields refused by name', async () => {
  const { image_ref } = await cri.image('PullImage', { image: { image: 'busybox' } });
  assert.match(image_ref, /^sha256:[0-9a-f]{64}$/);
  const all = await cri.image('ListImages', {});
  assert.deepEqual(
    all.images.map((i: { id: string }) => i.id),
    [image_ref],
  );
  const one = await cri.image('ListImages', { filter: { image: { image: 'docker.io/library/busybox:latest' } } });
  assert.deepEqual(one.images[0].repo_tags, ['docker.io/library/busybox:latest']);
  assert.ok(one.images[0].size > 0);
  const st = await cri.image('ImageStatus', { image: { image: image_ref }, verbose: true });
  assert.equal(st.image.id, image_ref);
  assert.ok(JSON.parse(st.info.imageSpec).rootfs);
  assert.equal((await cri.image('ImageStatus', { image: { image: 'nothere:1' } })).image, null);
  const fs = await cri.image('ImageFsInfo', {});
  assert.ok(fs.image_filesystems[0].used_bytes.value > 0);
  await assert.rejects(cri.image('PullImage', { image: { image: 'busybox' }, auth: { registry_token: 't' } }), {
    code: grpc.status.INVALID_ARGUMENT,
    message: /registry_token/,
  });
  // The engine's images: berth's own API lists what kubelet pulled.
  assert.match((await e.api('GET', '/images/json')).body, new RegExp(image_ref));
  await cri.image('RemoveImage', { image: { image: image_ref } });
  await cri.image('RemoveImage', { image: { image: image_ref } });
  assert.deepEqual((await cri.image('ListImages', {})).images, []);
});
