import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUnset, refuseUnapplied, unappliedField, type Applied } from './fields.js';

test('zero values count as unset, all the way down', () => {
  for (const v of [undefined, null, '', 0, '0', false, [], {}, { a: '', b: { c: [] } }]) assert.ok(isUnset(v), JSON.stringify(v));
  for (const v of ['x', 1, '5', true, ['a'], { a: { b: 1 } }]) assert.ok(!isUnset(v), JSON.stringify(v));
});

test('the first field set that is not applied is named by its path, lists by index', () => {
  const applied: Applied = { image: { image: true }, mounts: { container_path: true }, labels: true };
  assert.equal(unappliedField({ image: { image: 'a' }, labels: { x: 'y' } }, applied), undefined);
  assert.equal(unappliedField({ image: { image: 'a', annotations: { k: 'v' } } }, applied), 'image.annotations');
  assert.equal(
    unappliedField({ mounts: [{ container_path: '/a' }, { container_path: '/b', selinux_relabel: true }] }, applied),
    'mounts[1].selinux_relabel',
  );
  // Set to zero: the same as unset.
  assert.equal(unappliedField({ windows: { resources: { cpu_count: '0' } } }, applied), undefined);
  assert.throws(() => refuseUnapplied('CreateContainer', { tty: true }, applied), {
    kind: 'invalid',
    message: 'CreateContainer: berthd does not apply tty',
  });
});
