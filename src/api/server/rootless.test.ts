import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapArgs, subordinateIds } from './rootless.js';

test("newuidmap's arguments: uid 0 is the user, 1.. its subordinate ranges in order", () => {
  assert.deepEqual(mapArgs(1000, [{ start: 100000, length: 65536 }]), ['0', '1000', '1', '1', '100000', '65536']);
  assert.deepEqual(
    mapArgs(1000, [
      { start: 100000, length: 10 },
      { start: 200000, length: 5 },
    ]),
    ['0', '1000', '1', '1', '100000', '10', '11', '200000', '5'],
  );
});

test("a user's ranges by name or uid; none is an error that says how to add one", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rootless-'));
  try {
    const files = { passwd: join(dir, 'passwd'), subuid: join(dir, 'subuid'), subgid: join(dir, 'subgid') };
    writeFileSync(files.passwd, 'root:x:0:0::/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n');
    writeFileSync(files.subuid, 'other:300000:65536\nu:100000:65536\n');
    writeFileSync(files.subgid, '1000:100000:65536\n');
    assert.deepEqual(await subordinateIds(1000, files), {
      user: 'u',
      uids: [{ start: 100000, length: 65536 }],
      gids: [{ start: 100000, length: 65536 }],
    });
    writeFileSync(files.subgid, '');
    await assert.rejects(
      subordinateIds(1000, files),
      /no subordinate gid range for u in .*usermod --add-subuids 100000-165535 --add-subgids 100000-165535 u/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
