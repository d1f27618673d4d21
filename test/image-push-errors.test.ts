// Push against a fake registry: a registry that hangs after an upload, and one that answers
// 500 to the manifest, give clear errors within the timeout.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../src/image/store.js';
import { push } from '../src/image/registry/push.js';
import { startFake, type FakeServer, type Handler } from './helpers/registry.js';
import { filesTar, storeImage } from './helpers/images.js';

const temps: string[] = [];
const servers: FakeServer[] = [];
after(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const d of temps.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup(h: Handler) {
  const s = await startFake(h);
  servers.push(s);
  const d = await mkdtemp(join(tmpdir(), 'berth-images-'));
  temps.push(d);
  const store = new ImageStore(d);
  await storeImage(store, `${s.host}/p/img:1`, [await filesTar({ f: 'push me\n' })]);
  return { s, store };
}

function registry(on: { put?: Handler; manifest?: Handler }): Handler {
  return async (req, res, body) => {
    const url = req.url ?? '';
    if (req.method === 'HEAD') {
      res.statusCode = 404;
      res.end();
      return;
    }
    if (req.method === 'POST' && url.startsWith('/v2/p/img/blobs/uploads/')) {
      res.statusCode = 202;
      res.setHeader('location', `/upload/${Math.random().toString(16).slice(2)}`);
      res.end();
      return;
    }
    if (req.method === 'PUT' && url.startsWith('/upload/')) {
      if (on.put) return on.put(req, res, body);
      res.statusCode = 201;
      res.end();
      return;
    }
    if (req.method === 'PUT' && url.startsWith('/v2/p/img/manifests/')) {
      if (on.manifest) return on.manifest(req, res, body);
      res.statusCode = 201;
      res.end();
      return;
    }
    res.statusCode = 404;
    res.end();
  };
}

describe('push errors (fake registry)', () => {
  test('a registry that never answers an upload times out', async () => {
    const { s, store } = await setup(registry({ put: () => new Promise(() => {}) }));
    const t0 = Date.now();
    await assert.rejects(push(store, `${s.host}/p/img:1`, undefined, { timeoutMs: 300 }), {
      kind: 'system',
      message: /did not answer within 300 ms/,
    });
    assert.ok(Date.now() - t0 < 5000);
  });

  test('500 on the manifest is a system error with the registry message', async () => {
    const { s, store } = await setup(
      registry({
        manifest: (_req, res) => {
          res.statusCode = 500;
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'disk on fire' }] }));
        },
      }),
    );
    await assert.rejects(push(store, `${s.host}/p/img:1`), { kind: 'system', message: /answered 500.*disk on fire/ });
  });

  test('a manifest the registry stores under another digest is refused', async () => {
    const { s, store } = await setup(
      registry({
        manifest: (_req, res) => {
          res.statusCode = 201;
          res.setHeader('docker-content-digest', `sha256:${'0'.repeat(64)}`);
          res.end();
        },
      }),
    );
    await assert.rejects(push(store, `${s.host}/p/img:1`), { kind: 'invalid', message: /stored the manifest as sha256:0+/ });
  });
});
