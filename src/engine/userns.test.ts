import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  containerIdMaps,
  freeRange,
  loadRemap,
  mappingsOf,
  parseRemapValue,
  parseSubIds,
  pickRange,
  RemapError,
  type Remap,
} from './userns.js';
import { hostId, mapText, toContainerIds, toHostIds } from '../common/id-map.js';

test('parseRemapValue: dockerd forms', () => {
  assert.deepEqual(parseRemapValue('default'), { user: 'berthremap', group: undefined });
  assert.deepEqual(parseRemapValue('alice'), { user: 'alice', group: undefined });
  assert.deepEqual(parseRemapValue('alice:staff'), { user: 'alice', group: 'staff' });
  assert.deepEqual(parseRemapValue('1000:1000'), { user: '1000', group: '1000' });
  assert.throws(() => parseRemapValue('a:b:c'), /Invalid user\/group specification in --userns-remap: "a:b:c"/);
  assert.throws(() => parseRemapValue('a:'), RemapError);
});

test('parseSubIds: entries by name or uid, lowest first, empty ranges left out', () => {
  const text = 'bob:100000:65536\nalice:300000:65536\n1001:200000:1000\nalice:165536:10\njunk\ncarol:1:0\n';
  assert.deepEqual(parseSubIds(text, 'alice', 1001), [
    { start: 165536, length: 10 },
    { start: 200000, length: 1000 },
    { start: 300000, length: 65536 },
  ]);
  assert.deepEqual(parseSubIds(text, 'carol', 7), []);
});

test('mappingsOf lays container ids over the ranges in order; hostId and mapText', () => {
  const m = mappingsOf([
    { start: 100000, length: 65536 },
    { start: 300000, length: 10 },
  ]);
  assert.deepEqual(m, [
    { containerID: 0, hostID: 100000, size: 65536 },
    { containerID: 65536, hostID: 300000, size: 10 },
  ]);
  assert.equal(hostId(m, 0), 100000);
  assert.equal(hostId(m, 65537), 300001);
  assert.equal(hostId(m, 65546), undefined);
  assert.equal(mapText(m), '0 100000 65536\n65536 300000 10\n');
  const maps = { uidMappings: m, gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }] };
  assert.deepEqual(toContainerIds(maps)({ uid: 100005, gid: 200007 }), { uid: 5, gid: 7 });
  assert.deepEqual(toContainerIds(maps)({ uid: 0, gid: 0 }), { uid: 65534, gid: 65534 });
  assert.deepEqual(toHostIds(maps)({ uid: 65537, gid: 1 }), { uid: 300001, gid: 200001 });
  assert.throws(() => toHostIds(maps)({ uid: 70000, gid: 0 }), /not mapped/);
});

test('freeRange: the lowest gap of the size, past taken ranges in any order', () => {
  assert.equal(freeRange([], 65536), 100000);
  assert.equal(freeRange([{ start: 100000, length: 65536 }], 65536), 165536);
  assert.equal(
    freeRange(
      [
        { start: 300000, length: 65536 },
        { start: 100000, length: 65536 },
      ],
      65536,
    ),
    165536,
  );
  assert.equal(
    freeRange(
      [
        { start: 100000, length: 65536 },
        { start: 200000, length: 1 },
      ],
      65536,
    ),
    200001,
  );
  assert.equal(freeRange([{ start: 0, length: 10 }], 5, 0, 12), undefined);
  assert.equal(freeRange([], 10, 0, 10), 0);
});

test('loadRemap: USER, USER:GROUP, UID, and dockerd-worded refusals', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-userns-'));
  try {
    const files = { passwd: join(dir, 'passwd'), group: join(dir, 'group'), subuid: join(dir, 'subuid'), subgid: join(dir, 'subgid') };
    writeFileSync(files.passwd, 'root:x:0:0::/root:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\nnoranges:x:1002:1002::/:/bin/false\n');
    writeFileSync(files.group, 'root:x:0:\nalice:x:1001:\nstaff:x:50:\nnoranges:x:1002:\n');
    writeFileSync(files.subuid, 'alice:100000:65536\n');
    writeFileSync(files.subgid, 'alice:200000:65536\nstaff:400000:1000\n');
    assert.deepEqual(await loadRemap('alice', files), {
      user: 'alice',
      group: 'alice',
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }],
      uidRanges: [{ start: 100000, length: 65536 }],
      gidRanges: [{ start: 200000, length: 65536 }],
    });
    assert.equal((await loadRemap('1001', files)).group, 'alice');
    assert.deepEqual((await loadRemap('alice:staff', files)).gidMappings, [{ containerID: 0, hostID: 400000, size: 1000 }]);
    assert.deepEqual((await loadRemap('alice:50', files)).gidMappings, [{ containerID: 0, hostID: 400000, size: 1000 }]);
    await assert.rejects(loadRemap('nobody', files), /Error during uid lookup for "nobody"/);
    await assert.rejects(loadRemap('4242', files), /Uid 4242 has no entry in \/etc\/passwd/);
    await assert.rejects(loadRemap('alice:wheel', files), /Error during groupname lookup for "wheel"/);
    await assert.rejects(loadRemap('noranges', files), /Can't create ID mappings: No subuid ranges found for user "noranges"/);
    await assert.rejects(loadRemap('alice:noranges', files), /No subgid ranges found for group "noranges"/);
    await assert.rejects(loadRemap('root', files), /root cannot be remapped with itself/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pickRange: the first free block in any of the ranges', () => {
  const ranges = [
    { start: 100000, length: 65536 * 3 },
    { start: 1000000, length: 65536 },
  ];
  assert.equal(pickRange(ranges, [{ start: 100000, length: 65536 }], 65536), 165536);
  assert.equal(
    pickRange(
      ranges,
      [
        { start: 100000, length: 65536 },
        { start: 165536, length: 65536 },
        { start: 231072, length: 10 },
      ],
      65536,
    ),
    1000000,
  );
  assert.equal(pickRange(ranges, [{ start: 0, length: 2000000 }], 65536), undefined);
});

test("containerIdMaps: the daemon's maps, none for host, a range of its own for auto, dockerd's refusals", () => {
  const remap: Remap = {
    user: 'alice',
    group: 'alice',
    uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }],
    uidRanges: [{ start: 100000, length: 65536 * 3 }],
    gidRanges: [{ start: 200000, length: 65536 * 3 }],
  };
  assert.equal(containerIdMaps({}, undefined), undefined);
  assert.equal(containerIdMaps({ UsernsMode: 'host' }, remap), undefined);
  assert.deepEqual(containerIdMaps({}, remap), { uidMappings: remap.uidMappings, gidMappings: remap.gidMappings });
  const a = containerIdMaps({ UsernsMode: 'auto' }, remap)!;
  assert.deepEqual(a.uidMappings, [{ containerID: 0, hostID: 165536, size: 65536 }]);
  assert.deepEqual(a.gidMappings, [{ containerID: 0, hostID: 265536, size: 65536 }]);
  const b = containerIdMaps({ UsernsMode: 'auto' }, remap, [a])!;
  assert.deepEqual(b.uidMappings, [{ containerID: 0, hostID: 231072, size: 65536 }]);
  assert.throws(
    () => containerIdMaps({ UsernsMode: 'auto' }, remap, [a, b]),
    /no free range of 65536 ids left in the subuid ranges of alice/,
  );
  assert.throws(() => containerIdMaps({ UsernsMode: 'auto' }, undefined), /needs a berthd started with --userns-remap/);
  assert.throws(() => containerIdMaps({ UsernsMode: 'private' }, remap), /invalid USER mode: private/);
  assert.throws(() => containerIdMaps({ Privileged: true }, remap), /privileged mode is incompatible with user namespaces/);
  assert.throws(() => containerIdMaps({ NetworkMode: 'host' }, remap), /cannot share the host's network namespace/);
  assert.throws(() => containerIdMaps({ PidMode: 'host', UsernsMode: 'auto' }, remap), /cannot share the host PID namespace/);
  assert.equal(containerIdMaps({ Privileged: true, UsernsMode: 'host' }, remap), undefined);
});
