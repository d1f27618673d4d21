import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DurableWriter, writeFileAtomic } from './atomic.js';

test('writeFileAtomic leaves the file and no temp file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-aw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await writeFileAtomic(join(dir, 'a.json'), '{"a":1}');
  assert.equal(readFileSync(join(dir, 'a.json'), 'utf8'), '{"a":1}');
  assert.deepEqual(readdirSync(dir), ['a.json']);
});

test('DurableWriter keeps the order of one path and writes only the latest of those that waited', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-aw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const w = new DurableWriter();
  const path = join(dir, 'rec.json');
  const seen: string[] = [];
  const writes = Array.from({ length: 20 }, (_, i) => w.write(path, String(i)).then(() => seen.push(readFileSync(path, 'utf8'))));
  await Promise.all(writes);
  // Every caller learns of durability once its version or a later one is on disk.
  assert.equal(readFileSync(path, 'utf8'), '19');
  for (const [i, s] of seen.entries()) assert.ok(Number(s) >= 0 && (i === 0 || Number(s) >= Number(seen[i - 1])), seen.join(','));
  assert.ok(new Set(seen).size <= 2, `the first write, then the latest one: ${seen.join(',')}`);
  await w.flush();
  await w.settled(path);
  assert.deepEqual(readdirSync(dir), ['rec.json']);
});

test('DurableWriter rejects every waiter of a failed write', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-aw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const w = new DurableWriter();
  const path = join(dir, 'file', 'x.json');
  // A file where a folder must be: mkdir fails.
  await writeFileAtomic(join(dir, 'file'), 'not a folder');
  await Promise.all([assert.rejects(w.write(path, '1')), assert.rejects(w.write(path, '2'))]);
});
