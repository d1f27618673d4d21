import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentStore } from './content.js';
import { digestOf } from '../oci/image.js';
import { writeFileAtomic } from '../common/atomic.js';
import { spawnSync } from 'node:child_process';

async function withStore(fn: (s: ContentStore, root: string) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), 'berth-content-'));
  try {
    await fn(new ContentStore(root), root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function* chunks(data: Buffer, size = 7) {
  for (let i = 0; i < data.length; i += size) {
    await new Promise((r) => setImmediate(r));
    yield data.subarray(i, i + size);
  }
}

test('put verifies and stores by digest', () =>
  withStore(async (s) => {
    const data = Buffer.from('hello blobs');
    const d = digestOf(data);
    const info = await s.put(data, { digest: d, size: data.length });
    assert.deepEqual(info, { digest: d, size: data.length });
    assert.ok(await s.has(d));
    assert.deepEqual(await s.read(d), data);
    assert.deepEqual(await s.list(), [{ digest: d, size: data.length }]);
  }));

test('digest or size mismatch is invalid and leaves nothing', () =>
  withStore(async (s, root) => {
    const data = Buffer.from('payload');
    const wrong = digestOf('other');
    await assert.rejects(s.put(data, wrong), { kind: 'invalid', message: /digest mismatch/ });
    await assert.rejects(s.put(data, { digest: digestOf(data), size: 3 }), { kind: 'invalid', message: /size mismatch/ });
    await assert.rejects(s.put(data, { digest: digestOf(data), size: 30 }), { kind: 'invalid', message: /size mismatch/ });
    assert.equal(await s.has(wrong), false);
    assert.deepEqual(await s.list(), []);
    assert.deepEqual(await readdir(join(root, 'ingest')), []);
  }));

test('concurrent ingests of one blob fetch once', () =>
  withStore(async (s) => {
    const data = Buffer.alloc(100_000, 7);
    const d = digestOf(data);
    let fetches = 0;
    const src = () => {
      fetches++;
      return chunks(data, 4096);
    };
    const rs = await Promise.all(Array.from({ length: 8 }, () => s.ingest({ digest: d, size: data.length }, src)));
    assert.equal(fetches, 1);
    assert.equal(rs.filter((r) => r.fetched > 0).length, 1);
    assert.deepEqual(await s.read(d), data);
    // present: no fetch at all
    await s.ingest({ digest: d, size: data.length }, src);
    assert.equal(fetches, 1);
  }));

test('an interrupted ingest resumes from where it stopped', () =>
  withStore(async (s) => {
    const data = Buffer.from('x'.repeat(50) + 'y'.repeat(50));
    const d = digestOf(data);
    async function* broken() {
      yield data.subarray(0, 60);
      throw new Error('connection reset');
    }
    await assert.rejects(
      s.ingest({ digest: d, size: 100 }, () => broken()),
      /connection reset/,
    );
    assert.equal(await s.has(d), false);
    assert.equal(await s.partialSize(d), 60);
    const offsets: number[] = [];
    const r = await s.ingest({ digest: d, size: 100 }, (off) => {
      offsets.push(off);
      return chunks(data.subarray(off));
    });
    assert.deepEqual(offsets, [60]);
    assert.equal(r.resumed, 60);
    assert.equal(r.fetched, 40);
    assert.deepEqual(await s.read(d), data);
    assert.equal(await s.partialSize(d), 0);
  }));

test('write names a blob of unknown digest by its sha256', () =>
  withStore(async (s) => {
    const data = Buffer.from('layer bytes');
    const info = await s.write(chunks(data));
    assert.deepEqual(info, { digest: digestOf(data), size: data.length });
    assert.deepEqual(await s.write(chunks(data)), info);
    await s.delete(info.digest);
    assert.equal(await s.has(info.digest), false);
    await assert.rejects(s.delete(info.digest), { kind: 'not-found' });
  }));

test('init removes temp files a crash left', () =>
  withStore(async (s, root) => {
    await mkdir(join(root, 'ingest'), { recursive: true });
    await writeFile(join(root, 'ingest', 'tmp-0123456789abcdef'), 'junk');
    await s.init();
    assert.deepEqual(await readdir(join(root, 'ingest')), []);
  }));

test('writeFileAtomic replaces whole and leaves no temp file', () =>
  withStore(async (_s, root) => {
    const p = join(root, 'meta', 'x.json');
    await writeFileAtomic(p, '{"a":1}');
    await writeFileAtomic(p, '{"a":2}');
    assert.equal(await readFile(p, 'utf8'), '{"a":2}');
    assert.deepEqual(await readdir(join(root, 'meta')), ['x.json']);
  }));

test('two stores on one root (two processes) never write one blob together', () =>
  withStore(async (a, root) => {
    const b = new ContentStore(root);
    const data = Buffer.alloc(300_000, 3);
    const d = digestOf(data);
    let fetches = 0;
    const src = () => {
      fetches++;
      return chunks(data, 65536);
    };
    const [ra, rb] = await Promise.all([a.ingest({ digest: d, size: data.length }, src), b.ingest({ digest: d, size: data.length }, src)]);
    assert.equal(fetches, 1);
    assert.equal(ra.fetched + rb.fetched, data.length);
    assert.deepEqual(await readdir(join(root, 'ingest')), []);
  }));

test('a lock left by a dead process is taken over', () =>
  withStore(async (s, root) => {
    const data = Buffer.from('after a crash');
    const d = digestOf(data);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    await mkdir(join(root, 'ingest'), { recursive: true });
    await writeFile(join(root, 'ingest', `sha256-${d.slice(7)}.lock`), String(dead));
    await s.put(data, d);
    assert.ok(await s.has(d));
    assert.deepEqual(await readdir(join(root, 'ingest')), []);
  }));
