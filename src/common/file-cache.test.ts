import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmallFileCache } from './file-cache.js';

test('SmallFileCache gives what the file holds now: kept, replaced, rewritten, removed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-fc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'a.json');
  const c = new SmallFileCache(2, 16);
  writeFileSync(f, 'one');
  assert.equal((await c.read(f)).toString(), 'one');
  const copy = await c.read(f);
  copy[0] = 0x4f; // the caller's copy: the cache keeps its own
  assert.equal((await c.read(f)).toString(), 'one');
  writeFileSync(join(dir, 'tmp'), 'two');
  renameSync(join(dir, 'tmp'), f);
  assert.equal((await c.read(f)).toString(), 'two');
  writeFileSync(f, 'six'); // in place, the same size
  assert.equal((await c.read(f)).toString(), 'six');
  rmSync(f);
  await assert.rejects(c.read(f), { code: 'ENOENT' });
  writeFileSync(f, 'x'.repeat(17)); // over maxBytes: read, not kept
  assert.equal((await c.read(f)).length, 17);
  for (const n of ['b', 'c', 'd']) writeFileSync(join(dir, n), n);
  for (const n of ['b', 'c', 'd']) assert.equal((await c.read(join(dir, n))).toString(), n);
});
