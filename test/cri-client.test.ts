// The tests' CRI client against a small grpc-js server of the same proto on a unix socket: a
// call's request arrives with the proto's field names, the answer comes back with enums by name
// and bytes as Buffers, and a refusal is a CriError naming the method, the code and the message.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CRI_PROTO, CriClient, CriError, LOADER_OPTIONS } from './helpers/cri-client.js';

test('CRI client: unary calls, enums by name, bytes, and errors with their gRPC code', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cri-client-'));
  const server = new grpc.Server();
  const client = new CriClient(join(dir, 'cri.sock'));
  try {
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(CRI_PROTO, LOADER_OPTIONS)) as any;
    const seen: unknown[] = [];
    server.addService(pkg.runtime.v1.RuntimeService.service, {
      Version: (call: any, cb: grpc.sendUnaryData<unknown>) => {
        seen.push(call.request);
        cb(null, { version: '0.1.0', runtime_name: 'fake', runtime_version: '1', runtime_api_version: 'v1' });
      },
      ContainerStatus: (_call: any, cb: grpc.sendUnaryData<unknown>) => cb(null, { status: { id: 'c1', state: 'CONTAINER_RUNNING' } }),
      ExecSync: (_call: any, cb: grpc.sendUnaryData<unknown>) => cb(null, { stdout: Buffer.from('hi\n'), exit_code: 3 }),
      RunPodSandbox: (_call: any, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.NOT_FOUND, details: 'no such image' }),
    });
    server.addService(pkg.runtime.v1.ImageService.service, {
      ImageFsInfo: (_call: any, cb: grpc.sendUnaryData<unknown>) => cb(null, { image_filesystems: [{ fs_id: { mountpoint: '/x' } }] }),
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${join(dir, 'cri.sock')}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
    );
    await client.ready();

    const v = await client.runtime('Version', { version: 'v1' });
    assert.equal(v.runtime_name, 'fake');
    assert.deepEqual(seen, [{ version: 'v1' }]);
    const s = await client.runtime('ContainerStatus', { container_id: 'c1' });
    assert.equal(s.status?.state, 'CONTAINER_RUNNING');
    assert.equal(s.status?.exit_code, 0, 'defaults fill unset scalars');
    const x = await client.runtime('ExecSync', { container_id: 'c1', cmd: ['true'] });
    assert.deepEqual([x.stdout.toString(), x.exit_code], ['hi\n', 3]);
    assert.equal((await client.image('ImageFsInfo', {})).image_filesystems[0].fs_id?.mountpoint, '/x');

    const err = await client.runtime('RunPodSandbox', { config: { metadata: { name: 'p' } } }).catch((e: unknown) => e);
    assert.ok(err instanceof CriError);
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.message, 'CRI RunPodSandbox: NOT_FOUND (5): no such image');
    const unimpl = await client.runtime('StopPodSandbox', { pod_sandbox_id: 'p' }).catch((e: unknown) => e);
    assert.ok(unimpl instanceof CriError && unimpl.code === grpc.status.UNIMPLEMENTED, String(unimpl));
  } finally {
    client.close();
    server.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  }
});
