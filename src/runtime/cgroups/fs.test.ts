// The cgroup file system seam's mkdir -p on a plain temp dir: what it made, outermost first,
// so a failed create removes exactly that; nothing for a folder already there; a clear error,
// and nothing left, where a parent cannot be made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdirTracked } from './fs.js';

test('mkdirTracked makes the missing folders, outermost first, and only those', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-cgfs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(await mkdirTracked(join(dir, 'a/b/c')), [join(dir, 'a'), join(dir, 'a/b'), join(dir, 'a/b/c')]);
  assert.deepEqual(await mkdirTracked(join(dir, 'a/b/c')), [], 'nothing made when it is there');
  assert.deepEqual(await mkdirTracked(join(dir, 'a/b/d')), [join(dir, 'a/b/d')]);
});

test('mkdirTracked fails clearly under a file or a dangling link, without retrying for ever', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-cgfs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'file'), '');
  await assert.rejects(mkdirTracked(join(dir, 'file/y/z')), /mkdir .*file\/y\/z: .*not a directory/i);
  mkdirSync(join(dir, 'p'));
  symlinkSync(join(dir, 'nowhere'), join(dir, 'p/link'));
  await assert.rejects(mkdirTracked(join(dir, 'p/link/z')), /mkdir .*p\/link\/z: ENOENT/);
  assert.ok(!existsSync(join(dir, 'nowhere')));
});
