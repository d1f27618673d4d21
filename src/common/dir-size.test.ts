import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirSize, dirUsage } from './dir-size.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-dir-size-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('bytes of everything but directories, each inode once; inodes of every entry, directories too', async () => {
  assert.deepEqual(await dirUsage(join(dir, 'missing')), { bytes: 0, inodes: 0 });
  mkdirSync(join(dir, 'a', 'b'), { recursive: true });
  writeFileSync(join(dir, 'a', 'f'), 'x'.repeat(100));
  linkSync(join(dir, 'a', 'f'), join(dir, 'a', 'b', 'hard'));
  writeFileSync(join(dir, 'empty'), '');
  symlinkSync('a/f', join(dir, 'l')); // its size: the target's length, 3
  assert.deepEqual(await dirUsage(dir), { bytes: 103, inodes: 5 });
  assert.equal(await dirSize(dir), 103);
});
