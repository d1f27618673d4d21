import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as native from '../native/binding.js';
import { mountsUnder, unmount } from './mount.js';

test('unmount is idempotent: a second caller finds the work done', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-mount-'));
  t.after(async () => {
    await unmount(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  native.mount('tmpfs', dir, 'tmpfs', 0, 'size=1m');
  assert.deepEqual(await mountsUnder(dir), [dir]);
  await unmount(dir);
  await unmount(dir); // not a mount point any more: EINVAL, taken as done
  await unmount(join(dir, 'gone')); // ENOENT, taken as done
  assert.deepEqual(await mountsUnder(dir), []);
});
