// Unit tests of which build cache records POST /build/prune keeps: in use always, shared ones
// without `all`, what the filters leave, the newest within keep-storage; bad numbers refused in
// dockerd's words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BuildCacheRecord } from '../../engine/index.js';
import { buildCacheKeep } from './usage.js';

const rec = (ID: string, o: Partial<BuildCacheRecord> = {}): BuildCacheRecord => ({
  ID,
  Type: 'regular',
  Description: `step ${ID}`,
  InUse: false,
  Shared: false,
  Size: 100,
  CreatedAt: '2026-01-01T00:00:00Z',
  LastUsedAt: '2026-01-01T00:00:00Z',
  UsageCount: 1,
  ...o,
});
const records = [
  rec('a'),
  rec('b', { Shared: true }),
  rec('c', { InUse: true, Type: 'exec.cachemount' }),
  rec('d', { LastUsedAt: '2026-06-01T00:00:00Z' }),
  rec('e', { Type: 'exec.cachemount', LastUsedAt: '2026-03-01T00:00:00Z' }),
  rec('f', { Size: 0 }),
];
const kept = (query: string) => {
  const keep = buildCacheKeep(new URLSearchParams(query), records);
  return records.filter(keep).map((r) => r.ID);
};

test('build cache prune: what each query keeps', () => {
  assert.deepEqual(kept(''), ['b', 'c']);
  assert.deepEqual(kept('all=1&keep-storage=0'), ['c']);
  assert.deepEqual(kept('all=1&keep-storage=250'), ['c', 'd', 'e', 'f']);
  assert.deepEqual(kept('all=1&filters=' + encodeURIComponent('{"type":["exec.cachemount"]}')), ['a', 'b', 'c', 'd', 'f']);
  assert.deepEqual(kept('filters=' + encodeURIComponent('{"id":["d"]}')), ['a', 'b', 'c', 'e', 'f']);
  assert.deepEqual(kept('filters=' + encodeURIComponent('{"until":["2026-02-01T00:00:00Z"]}')), ['b', 'c', 'd', 'e']);
  assert.throws(
    () => kept('keep-storage=abc'),
    /keep-storage is in bytes and expects an integer, got abc: strconv.Atoi: parsing "abc": invalid syntax/,
  );
  assert.deepEqual(kept('all=1&filters=' + encodeURIComponent('{"label":["x"]}')), ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.deepEqual(kept('all=1&filters=' + encodeURIComponent('{"label!":["x"]}')), ['c']);
  assert.throws(() => kept('filters=' + encodeURIComponent('{"colour":["x"]}')), /Invalid filter 'colour'/);
  assert.throws(() => kept('max-used-space=10'), /max-used-space is not supported/);
});
